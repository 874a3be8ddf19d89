package dev.weft.proxy.filters;

import static dev.weft.proxy.testing.Conditions.await;
import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.proxy.testing.Binomial;
import dev.weft.proxy.testing.RawHttp;
import dev.weft.proxy.testing.Xds;
import io.envoyproxy.envoy.config.core.v3.RuntimeFractionalPercent;
import io.envoyproxy.envoy.config.route.v3.RouteAction.RequestMirrorPolicy;
import io.envoyproxy.envoy.type.v3.FractionalPercent;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Istio's {@code mirror}/{@code mirrors} as the control plane emits them (route {@code
 * request_mirror_policies}), through a real proxy: the mirror upstream is a raw socket server that
 * records what it receives and never answers.
 */
class MirrorTest extends FilterHarness {
  static final String MIRROR = "outbound|80||shadow.demo.svc.cluster.local";

  /** Accepts connections, records every byte they send, never answers (a hanging upstream). */
  static final class HangingUpstream implements AutoCloseable {
    final ServerSocket server;
    final List<ByteArrayOutputStream> received = new CopyOnWriteArrayList<>();
    final List<Socket> sockets = new CopyOnWriteArrayList<>();

    HangingUpstream() throws IOException {
      server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
      Thread.ofVirtual()
          .start(
              () -> {
                while (!server.isClosed()) {
                  try {
                    Socket s = server.accept();
                    sockets.add(s);
                    ByteArrayOutputStream buf = new ByteArrayOutputStream();
                    received.add(buf);
                    Thread.ofVirtual()
                        .start(
                            () -> {
                              try (InputStream in = s.getInputStream()) {
                                byte[] b = new byte[8192];
                                int n;
                                while ((n = in.read(b)) > 0) {
                                  synchronized (buf) {
                                    buf.write(b, 0, n);
                                  }
                                }
                              } catch (IOException ignored) {
                                // closed
                              }
                            });
                  } catch (IOException e) {
                    return;
                  }
                }
              });
    }

    String all() {
      StringBuilder sb = new StringBuilder();
      for (ByteArrayOutputStream b : received) {
        synchronized (b) {
          sb.append(b.toString(StandardCharsets.UTF_8));
        }
      }
      return sb.toString();
    }

    int requests() {
      String s = all();
      int n = 0;
      for (int i = s.indexOf("HTTP/1.1\r\n"); i >= 0; i = s.indexOf("HTTP/1.1\r\n", i + 1)) {
        n++;
      }
      return n;
    }

    @Override
    public void close() throws IOException {
      server.close();
      for (Socket s : sockets) {
        s.close();
      }
    }
  }

  HangingUpstream mirror;

  @AfterEach
  void closeMirror() throws IOException {
    if (mirror != null) {
      mirror.close();
    }
  }

  static io.envoyproxy.envoy.config.route.v3.Route mirrored(String prefix, int perMillion) {
    RequestMirrorPolicy.Builder p = RequestMirrorPolicy.newBuilder().setCluster(MIRROR);
    if (perMillion >= 0) {
      p.setRuntimeFraction(
          RuntimeFractionalPercent.newBuilder()
              .setDefaultValue(
                  FractionalPercent.newBuilder()
                      .setNumerator(perMillion)
                      .setDenominator(FractionalPercent.DenominatorType.MILLION)));
    }
    io.envoyproxy.envoy.config.route.v3.Route.Builder r = route(prefix);
    r.getRouteBuilder().addRequestMirrorPolicies(p);
    return r.build();
  }

  @Test
  void copyArrivesWithShadowHostWhileTheOriginalIsAnsweredAndTheMirrorHangs() throws Exception {
    mirror = new HangingUpstream();
    serve(
        List.of(
            Xds.staticCluster(
                MIRROR, new java.net.InetSocketAddress("127.0.0.1", mirror.server.getLocalPort()))),
        mirrored("/", -1));
    // The mirror never answers; the original is answered all the same.
    RawHttp.Response r = RawHttp.get(port, HOST + ":80", "/hello");
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.body()).startsWith("app /hello");
    await(() -> mirror.all().contains("\r\n\r\n"));
    String copy = mirror.all();
    assertThat(copy).startsWith("GET /hello HTTP/1.1\r\n");
    assertThat(copy.toLowerCase()).contains("host: " + HOST + "-shadow:80\r\n");
    assertThat(app.lastHeaders.get("host")).isEqualTo(HOST + ":80");

    // A body streams to the copy as well, and the original is answered with it.
    String body = "x".repeat(10_000);
    RawHttp.Response post =
        RawHttp.request(
            port,
            "POST /upload HTTP/1.1\r\nHost: "
                + HOST
                + "\r\nContent-Length: "
                + body.length()
                + "\r\nConnection: close\r\n\r\n"
                + body);
    assertThat(post.status()).isEqualTo(200);
    assertThat(post.body()).isEqualTo("app /upload " + body.length());
    await(() -> mirror.all().contains("POST /upload") && mirror.all().endsWith(body));
    assertThat(mirror.all()).contains("host: " + HOST + "-shadow\r\n");
  }

  @Test
  void aMirrorThatCannotBeReachedNeverFailsTheOriginal() throws Exception {
    // A cluster whose only endpoint refuses connections.
    int closed = Xds.freePort();
    serve(
        List.of(Xds.staticCluster(MIRROR, new java.net.InetSocketAddress("127.0.0.1", closed))),
        mirrored("/", -1));
    for (int i = 0; i < 5; i++) {
      assertThat(RawHttp.get(port, HOST, "/ok").status()).isEqualTo(200);
    }
  }

  @Test
  void mirrorPercentageIsHonouredWithinBinomialBounds() throws Exception {
    mirror = new HangingUpstream();
    serve(
        List.of(
            Xds.staticCluster(
                MIRROR, new java.net.InetSocketAddress("127.0.0.1", mirror.server.getLocalPort()))),
        mirrored("/", 250_000));
    int n = 200;
    try (RawHttp c = new RawHttp(port)) {
      for (int i = 0; i < n; i++) {
        assertThat(c.send("GET /m HTTP/1.1\r\nHost: " + HOST + "\r\n\r\n").status()).isEqualTo(200);
      }
    }
    awaitLogLines(n);
    Binomial b = Binomial.bounds(n, 0.25, 1 - 1e-6);
    // Copies are fire and forget: wait until the count settles inside the bounds' reach.
    await(() -> mirror.requests() >= b.low());
    int copies = mirror.requests();
    assertThat(copies).isBetween(b.low(), b.high());
  }
}
