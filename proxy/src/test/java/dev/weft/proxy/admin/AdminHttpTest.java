package dev.weft.proxy.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.weft.proxy.net.Transport;
import dev.weft.proxy.testing.RawHttp;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The admin and metrics ports' HTTP server on the proxy's event loops, over real sockets. */
class AdminHttpTest {
  private Transport transport;
  private ExecutorService renderer;
  private AdminHttp server;
  private final CountDownLatch release = new CountDownLatch(1);
  private final CountDownLatch slowStarted = new CountDownLatch(1);
  private final AtomicReference<String> renderThread = new AtomicReference<>();

  @BeforeEach
  void start() throws IOException {
    transport = Transport.create(1);
    renderer = AdminHttp.renderer();
    server =
        AdminHttp.bind(
            new InetSocketAddress("127.0.0.1", 0),
            transport,
            renderer,
            new AdminHttp.Options("admin", this::answer, r -> r.path().equals("/fast")));
  }

  @AfterEach
  void stop() {
    release.countDown();
    server.close();
    transport.group().shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5_000);
    renderer.shutdownNow();
  }

  private AdminHttp.Response answer(AdminHttp.Request r) {
    switch (r.path()) {
      case "/fast" -> {
        return new AdminHttp.Response(200, "text/plain", "fast " + r.rawQuery() + "\n");
      }
      case "/slow" -> {
        renderThread.set(Thread.currentThread().getName());
        slowStarted.countDown();
        try {
          release.await(20, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        return new AdminHttp.Response(200, "text/plain", "slow\n");
      }
      case "/boom" -> throw new IllegalStateException("boom");
      default -> {
        return new AdminHttp.Response(404, "text/plain", "invalid path: " + r.path() + "\n");
      }
    }
  }

  private int port() {
    return server.address().getPort();
  }

  @Test
  void pipelinedRequestsAreAnsweredInOrderThoughTheFirstIsRenderedOffTheLoop() throws Exception {
    try (RawHttp c = new RawHttp(port())) {
      c.write(
          ("GET /slow HTTP/1.1\r\nHost: a\r\n\r\nGET /fast?x=1 HTTP/1.1\r\nHost: a\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
      assertThat(slowStarted.await(20, TimeUnit.SECONDS)).isTrue();
      assertThat(renderThread.get()).isEqualTo("weft-admin");
      release.countDown();
      RawHttp.Response first = c.read();
      RawHttp.Response second = c.read();
      assertThat(first.body()).isEqualTo("slow\n");
      assertThat(second.body()).isEqualTo("fast x=1\n");
      assertThat(second.header("content-type")).isEqualTo("text/plain");
    }
  }

  @Test
  void aSlowRenderDoesNotHoldUpTheEventLoop() throws Exception {
    try (RawHttp slow = new RawHttp(port())) {
      slow.write("GET /slow HTTP/1.1\r\nHost: a\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      assertThat(slowStarted.await(20, TimeUnit.SECONDS)).isTrue();
      // one event loop only: a second connection's inline answer comes while /slow renders
      assertThat(RawHttp.get(port(), "a", "/fast").body()).isEqualTo("fast null\n");
      release.countDown();
      assertThat(slow.read().status()).isEqualTo(200);
    }
  }

  @Test
  void headCarriesTheLengthAndNoBody() throws Exception {
    try (RawHttp c = new RawHttp(port())) {
      RawHttp.Response head = c.send("HEAD /fast HTTP/1.1\r\nHost: a\r\n\r\n");
      assertThat(head.status()).isEqualTo(200);
      assertThat(head.header("content-length")).isEqualTo("10");
      assertThat(head.body()).isEmpty();
      // the connection stays usable
      assertThat(c.send("GET /fast HTTP/1.1\r\nHost: a\r\n\r\n").body()).isEqualTo("fast null\n");
    }
  }

  @Test
  void aHandlerThatThrowsIsAnswered500AndTheServerKeepsServing() throws Exception {
    RawHttp.Response r = RawHttp.get(port(), "a", "/boom");
    assertThat(r.status()).isEqualTo(500);
    assertThat(r.body()).contains("boom");
    assertThat(RawHttp.get(port(), "a", "/fast").status()).isEqualTo(200);
  }

  @Test
  void garbageIsAnswered400AndTheConnectionCloses() throws Exception {
    try (RawHttp c = new RawHttp(port())) {
      RawHttp.Response r = c.send("\u0001\u0002 nonsense\r\n\r\n");
      assertThat(r.status()).isEqualTo(400);
      assertThat(r.header("connection")).isEqualTo("close");
    }
    assertThat(RawHttp.get(port(), "a", "/fast").status()).isEqualTo(200);
  }

  @Test
  void anOversizedBodyIsRefused() throws Exception {
    String body = "x".repeat(70 * 1024);
    RawHttp.Response r =
        RawHttp.request(
            port(),
            "POST /fast HTTP/1.1\r\nHost: a\r\nContent-Length: "
                + body.length()
                + "\r\nConnection: close\r\n\r\n"
                + body);
    assertThat(r.status()).isEqualTo(413);
  }

  @Test
  void anAddressInUseIsNamed() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      int p = taken.getLocalPort();
      assertThatThrownBy(
              () ->
                  AdminHttp.bind(
                      new InetSocketAddress("127.0.0.1", p),
                      transport,
                      renderer,
                      new AdminHttp.Options("metrics", this::answer, r -> true)))
          .isInstanceOf(IOException.class)
          .hasMessageContaining("metrics address 127.0.0.1:" + p);
    }
  }
}
