package dev.weft.proxy;

import static dev.weft.proxy.testing.TestAdsServer.CDS;
import static dev.weft.proxy.testing.TestAdsServer.LDS;
import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.proxy.testing.RawHttp;
import dev.weft.proxy.testing.TestAdsServer;
import dev.weft.proxy.testing.TestUpstream;
import dev.weft.proxy.testing.Xds;
import dev.weft.xds.NodeId;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The downstream side of a connection, end to end over real sockets: HTTP/1.1 pipelining, request
 * line and header validation, and the connection protections (timeouts, limits) Envoy puts on every
 * listener. Timeouts are injected through the listener's xDS configuration and kept short; nothing
 * here asserts on speed.
 */
class DownstreamConnectionTest {
  static final String INBOUND = "inbound|9898||";

  @TempDir Path tmp;
  TestAdsServer ads;
  TestUpstream app;
  Proxy proxy;
  int port;
  final List<AutoCloseable> closers = new ArrayList<>();

  @BeforeEach
  void setUp() throws IOException {
    ads = TestAdsServer.start();
    app = new TestUpstream("app");
    port = Xds.freePort();
  }

  @AfterEach
  void tearDown() throws Exception {
    for (AutoCloseable c : closers) {
      c.close();
    }
    if (proxy != null) {
      proxy.close();
    }
    ads.close();
    app.close();
  }

  /**
   * A sidecar inbound listener (inline routes, one static cluster to the app), its connection
   * manager adjusted by {@code hcm}.
   */
  void start(UnaryOperator<HttpConnectionManager.Builder> hcm) throws IOException {
    start(hcm, ProxyBootstrap.builder());
  }

  void start(UnaryOperator<HttpConnectionManager.Builder> hcm, ProxyBootstrap.Builder bootstrap)
      throws IOException {
    ads.set(CDS, "c1", Xds.staticCluster(INBOUND, app.address()));
    HttpConnectionManager.Builder b =
        Xds.hcm()
            .setRouteConfig(
                Xds.routes(
                    "inbound|9898||",
                    Xds.vhost("inbound|http|9898", List.of("*"), Xds.prefixRoute("/", INBOUND))));
    ads.set(LDS, "l1", Xds.listener("127.0.0.1_" + port, port, hcm.apply(b).build()));
    proxy =
        Proxy.start(
            bootstrap
                .nodeId(new NodeId(NodeId.SIDECAR, "127.0.0.1", "app-v1", "demo"))
                .metadata(Map.of("NAMESPACE", "demo"))
                .xdsServer(new InetSocketAddress("127.0.0.1", ads.port()))
                .adminAddress(new InetSocketAddress("127.0.0.1", 0))
                .accessLogPath(tmp.resolve("access.log"))
                .build());
    assertThat(proxy.awaitReady(Duration.ofSeconds(10))).as("%s", proxy.failure()).isTrue();
  }

  static void await(BooleanSupplier condition) {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("condition not met in time");
      }
      try {
        Thread.sleep(10); // polling interval, not synchronisation
      } catch (InterruptedException e) {
        throw new AssertionError(e);
      }
    }
  }

  String admin(String path) throws Exception {
    try (HttpClient c = HttpClient.newHttpClient()) {
      return c.send(
              HttpRequest.newBuilder(
                      URI.create("http://127.0.0.1:" + proxy.adminAddress().getPort() + path))
                  .build(),
              HttpResponse.BodyHandlers.ofString())
          .body();
    }
  }

  /** The value of counter {@code name} in {@code /stats}. */
  long stat(String name) throws Exception {
    for (String line : admin("/stats").split("\n")) {
      if (line.startsWith(name + ": ")) {
        return Long.parseLong(line.substring(name.length() + 2).trim());
      }
    }
    throw new AssertionError("no stat " + name);
  }

  // ------------------------------------------------------------------ pipelining

  /** Issue #5 finding 2, the exact reproduction: the second and third responses never came. */
  @Test
  void pipelinedRequestsWithBodiesAreAllAnsweredInOrder() throws Exception {
    start(h -> h);
    String three =
        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
            + "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
            + "GET /version HTTP/1.1\r\nHost: x\r\n\r\n";
    for (int i = 0; i < 20; i++) {
      try (RawHttp c = new RawHttp(port)) {
        c.write(three.getBytes(StandardCharsets.US_ASCII));
        RawHttp.Response r1 = c.read();
        RawHttp.Response r2 = c.read();
        RawHttp.Response r3 = c.read();
        assertThat(List.of(r1.status(), r2.status(), r3.status())).containsExactly(200, 200, 200);
        assertThat(r1.body()).isEqualTo("abc");
        assertThat(r2.body()).isEqualTo("hello");
        assertThat(r3.body()).isEqualTo("app /version 0");
      }
    }
  }

  @Test
  void pipelinedRequestsWithChunkedBodiesAndWithoutBodies() throws Exception {
    start(h -> h);
    String mixed =
        "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
            + "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "3\r\none\r\n3\r\ntwo\r\n0\r\n\r\n"
            + "GET /b HTTP/1.1\r\nHost: x\r\n\r\n"
            + "POST /c HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nbody"
            + "GET /d HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    for (int i = 0; i < 20; i++) {
      try (RawHttp c = new RawHttp(port)) {
        c.write(mixed.getBytes(StandardCharsets.US_ASCII));
        assertThat(c.read().body()).isEqualTo("app /a 0");
        assertThat(c.read().body()).isEqualTo("onetwo");
        assertThat(c.read().body()).isEqualTo("app /b 0");
        assertThat(c.read().body()).isEqualTo("app /c 4");
        assertThat(c.read().body()).isEqualTo("app /d 0");
        assertThat(c.closedByPeer()).isTrue();
      }
    }
  }
}
