package dev.weft.proxy;

import static dev.weft.proxy.testing.Conditions.await;
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
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
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
    startProxy(bootstrap);
  }

  void startProxy(ProxyBootstrap.Builder bootstrap) throws IOException {
    proxy =
        Proxy.start(
            bootstrap
                .nodeId(new NodeId(NodeId.SIDECAR, "127.0.0.1", "app-v1", "demo"))
                .metadata(Map.of("NAMESPACE", "demo"))
                .xdsServer(new InetSocketAddress("127.0.0.1", ads.port()))
                .adminAddress(new InetSocketAddress("127.0.0.1", 0))
                .accessLogPath(tmp.resolve("access.log"))
                .build());
    assertThat(proxy.awaitReady(Duration.ofSeconds(30))).as("%s", proxy.failure()).isTrue();
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

  // ------------------------------------------------------------------ request line and headers

  @Test
  void unsupportedMajorVersionsGet505AndHigherMinorVersionsAreServedAsHttp11() throws Exception {
    start(h -> h);
    for (String version : List.of("HTTP/2.0", "HTTP/3.0", "HTTP/0.9")) {
      try (RawHttp c = new RawHttp(port)) {
        c.write(("GET /v " + version + "\r\nHost: x\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        RawHttp.Response r = c.read();
        assertThat(r.status()).as(version).isEqualTo(505);
        assertThat(c.closedByPeer()).isTrue();
      }
    }
    assertThat(app.requestLines).isEmpty();
    RawHttp.Response r =
        RawHttp.request(port, "GET /v HTTP/1.7\r\nHost: x\r\nConnection: close\r\n\r\n");
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.body()).isEqualTo("app /v 0");
    assertThat(app.protocols).containsExactly("HTTP/1.1");
  }

  @Test
  void twoHostHeadersGet400() throws Exception {
    start(h -> h);
    try (RawHttp c = new RawHttp(port)) {
      c.write("GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      assertThat(c.read().status()).isEqualTo(400);
      assertThat(c.closedByPeer()).isTrue();
    }
    assertThat(app.requestLines).isEmpty();
    assertThat(RawHttp.get(port, "x", "/one").status()).isEqualTo(200);
  }

  /**
   * The listener's decoder validates header names and values, and trailer names, as Netty's default
   * headers do (net.Http1Headers keeps that while remembering the proxy's own long values): each
   * bad request gets 400 and never reaches the app.
   */
  @Test
  void invalidHeaderNamesValuesAndTrailersGet400() throws Exception {
    start(h -> h);
    String longValue = "v".repeat(200);
    for (String bad :
        List.of(
            "GET / HTTP/1.1\r\nHost: x\r\nBad Name: v\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\u0000b\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: x\r\nX-Long: " + longValue + "\u0000\r\n\r\n",
            "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "3\r\none\r\n0\r\nBad Trailer: 5\r\n\r\n")) {
      try (RawHttp c = new RawHttp(port)) {
        c.write(bad.getBytes(StandardCharsets.ISO_8859_1));
        assertThat(c.read().status()).as(bad).isEqualTo(400);
        assertThat(c.closedByPeer()).as(bad).isTrue();
      }
    }
    assertThat(app.requestLines)
        .as("only the chunked POST's head went upstream")
        .hasSizeLessThan(2);
    assertThat(RawHttp.get(port, "x", "/fine", "X-Long: " + longValue).status()).isEqualTo(200);
  }

  @Test
  void tooManyOrTooLargeHeadersGet431() throws Exception {
    start(
        h ->
            h.setMaxRequestHeadersKb(com.google.protobuf.UInt32Value.of(1))
                .setCommonHttpProtocolOptions(
                    io.envoyproxy.envoy.config.core.v3.HttpProtocolOptions.newBuilder()
                        .setMaxHeadersCount(com.google.protobuf.UInt32Value.of(4))));
    StringBuilder many = new StringBuilder("GET / HTTP/1.1\r\nHost: x\r\n");
    for (int i = 0; i < 4; i++) {
      many.append("X-H").append(i).append(": v\r\n");
    }
    RawHttp.Response r = RawHttp.request(port, many.append("\r\n").toString());
    assertThat(r.status()).isEqualTo(431);
    RawHttp.Response big =
        RawHttp.request(
            port, "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + "b".repeat(2048) + "\r\n\r\n");
    assertThat(big.status()).isEqualTo(431);
    assertThat(app.requestLines).isEmpty();
    // Within both limits: served.
    assertThat(RawHttp.get(port, "x", "/fits", "X-A: 1", "X-B: 2").status()).isEqualTo(200);
  }

  // ------------------------------------------------------------------ timeouts

  /**
   * Slowloris: many connections send a request head a byte at a time and never finish it. Each is
   * answered 408 and closed once the request headers timeout passes, counted, while a normal client
   * is served.
   */
  @Test
  void slowlorisConnectionsAreClosedAfterTheRequestHeadersTimeout() throws Exception {
    start(h -> h.setRequestHeadersTimeout(millis(300)));
    int n = 100;
    List<SocketChannel> slow = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      SocketChannel ch = SocketChannel.open(new InetSocketAddress("127.0.0.1", port));
      ch.configureBlocking(false);
      closers.add(ch);
      slow.add(ch);
    }
    byte[] head =
        "GET /slowloris HTTP/1.1\r\nHost: x\r\nX-Pad: ".getBytes(StandardCharsets.US_ASCII);
    StringBuilder[] answers = new StringBuilder[n];
    boolean[] closed = new boolean[n];
    int open = n;
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    ByteBuffer in = ByteBuffer.allocate(4096);
    boolean normalServed = false;
    for (int round = 0; open > 0; round++) {
      assertThat(System.nanoTime())
          .as("slowloris connections still open: %d", open)
          .isLessThan(deadline);
      for (int i = 0; i < n; i++) {
        if (closed[i]) {
          continue;
        }
        SocketChannel ch = slow.get(i);
        byte b = round < head.length ? head[round] : (byte) 'a';
        try {
          ch.write(ByteBuffer.wrap(new byte[] {b}));
          in.clear();
          int read = ch.read(in);
          if (read > 0) {
            if (answers[i] == null) {
              answers[i] = new StringBuilder();
            }
            answers[i].append(new String(in.array(), 0, read, StandardCharsets.US_ASCII));
          }
          if (read < 0) {
            closed[i] = true;
            open--;
          }
        } catch (IOException e) {
          closed[i] = true; // reset by the proxy after it closed
          open--;
        }
      }
      if (!normalServed) {
        // A normal client meanwhile is served.
        assertThat(RawHttp.get(port, "x", "/normal").status()).isEqualTo(200);
        normalServed = true;
      }
      Thread.sleep(20); // pacing of the slow writers, not synchronisation
    }
    int got408 = 0;
    for (StringBuilder a : answers) {
      if (a != null && a.toString().startsWith("HTTP/1.1 408 ")) {
        got408++;
      }
    }
    // Every connection is answered 408 and closed (the counter below proves each timed out), but a
    // client whose next byte meets the closed socket gets a reset, and a reset discards the unread
    // 408: how many answers a client reads depends on scheduling, so only some are required here.
    assertThat(got408).as("connections answered 408").isPositive();
    assertThat(stat("http.127.0.0.1_" + port + ".downstream_rq_header_timeout")).isEqualTo(n);
    assertThat(app.requestLines).containsExactly("GET /normal");
    await(
        () ->
            accessLog().stream()
                    .filter(l -> l.contains("\"- - -\" 408 - request_header_timeout"))
                    .count()
                == n);
    assertThat(admin("/stats/prometheus"))
        .contains(
            "envoy_http_downstream_rq_header_timeout{http_conn_manager_prefix=\"127.0.0.1_"
                + port
                + "\"} "
                + n);
  }

  @Test
  void idleConnectionsAreClosedAfterTheIdleTimeout() throws Exception {
    start(
        h ->
            h.setCommonHttpProtocolOptions(
                io.envoyproxy.envoy.config.core.v3.HttpProtocolOptions.newBuilder()
                    .setIdleTimeout(millis(300))));
    try (RawHttp used = new RawHttp(port);
        RawHttp never = new RawHttp(port)) {
      assertThat(used.send("GET /once HTTP/1.1\r\nHost: x\r\n\r\n").status()).isEqualTo(200);
      // Both close without a response: one after its request, one that never sent anything.
      assertThat(used.closedByPeer()).isTrue();
      assertThat(never.closedByPeer()).isTrue();
    }
    assertThat(stat("http.127.0.0.1_" + port + ".downstream_cx_idle_timeout")).isEqualTo(2);
  }

  @Test
  void aStreamWithoutActivityEndsAfterTheStreamIdleTimeout() throws Exception {
    start(h -> h.setStreamIdleTimeout(millis(300)));
    // The upstream does not answer: 504 SI (the request was complete).
    RawHttp.Response r =
        RawHttp.request(port, "GET /slow HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assertThat(r.status()).isEqualTo(504);
    assertThat(r.body()).isEqualTo("stream timeout");
    // The body stops arriving: 408 SI, and the connection closes.
    try (RawHttp c = new RawHttp(port)) {
      c.write(
          "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc"
              .getBytes(StandardCharsets.US_ASCII));
      assertThat(c.read().status()).isEqualTo(408);
      assertThat(c.closedByPeer()).isTrue();
    }
    assertThat(stat("http.127.0.0.1_" + port + ".downstream_rq_idle_timeout")).isEqualTo(2);
    app.release.countDown();
  }

  // ------------------------------------------------------------------ connection limits

  /**
   * A flood of idle connections on a listener with a connection limit: those beyond the limit are
   * closed at once and counted; those within it are closed by the idle timeout; then a normal
   * client is served.
   */
  @Test
  void anIdleConnectionFloodIsLimitedAndTimedOut() throws Exception {
    ads.set(CDS, "c1", Xds.staticCluster(INBOUND, app.address()));
    HttpConnectionManager hcm =
        Xds.hcm()
            .setRouteConfig(
                Xds.routes(
                    "r",
                    Xds.vhost("inbound|http|9898", List.of("*"), Xds.prefixRoute("/", INBOUND))))
            .setCommonHttpProtocolOptions(
                io.envoyproxy.envoy.config.core.v3.HttpProtocolOptions.newBuilder()
                    .setIdleTimeout(millis(1000)))
            .build();
    ads.set(LDS, "l1", Xds.limitedListener("127.0.0.1_" + port, port, hcm, "inbound_flood", 20));
    startProxy(ProxyBootstrap.builder());
    int flood = 60;
    List<RawHttp> idle = new ArrayList<>();
    for (int i = 0; i < flood; i++) {
      RawHttp c = new RawHttp(port);
      closers.add(c);
      idle.add(c);
    }
    await(() -> statOrZero("connection_limit.inbound_flood.limited_connections") == flood - 20);
    // Every one of them ends closed: 40 at once, 20 after the idle timeout.
    for (RawHttp c : idle) {
      assertThat(c.closedByPeer()).isTrue();
    }
    await(() -> statOrZero("http.127.0.0.1_" + port + ".downstream_cx_idle_timeout") == 20);
    await(() -> statOrZero("connection_limit.inbound_flood.active_connections") == 0);
    assertThat(RawHttp.get(port, "x", "/normal").status()).isEqualTo(200);
    assertThat(admin("/stats/prometheus"))
        .contains(
            "envoy_connection_limit_limited_connections{connection_limit_prefix=\"inbound_flood\"} "
                + (flood - 20));
  }

  /**
   * The proxy-wide limit (the overload manager's global downstream connection limit): a connection
   * beyond it is closed at once and counted; reaching it sheds the idle connections (Envoy's
   * reduce_timeouts at full pressure), not one with a request in progress, so a normal client is
   * served next.
   */
  @Test
  void theGlobalConnectionLimitShedsNewAndIdleConnections() throws Exception {
    start(h -> h, ProxyBootstrap.builder().maxDownstreamConnections(10));
    String listener = "127.0.0.1_" + port;
    RawHttp busy = new RawHttp(port);
    closers.add(busy);
    busy.write("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
    await(() -> app.slowArrived.get() == 1);
    List<RawHttp> idle = new ArrayList<>();
    for (int i = 0; i < 9; i++) {
      RawHttp c = new RawHttp(port);
      closers.add(c);
      idle.add(c);
    }
    await(() -> statOrZero("listener." + listener + ".downstream_cx_active") == 10);

    try (RawHttp refused = new RawHttp(port)) {
      assertThat(refused.closedByPeer()).isTrue();
    }
    assertThat(stat("listener." + listener + ".downstream_global_cx_overflow")).isEqualTo(1);
    for (RawHttp c : idle) {
      assertThat(c.closedByPeer()).isTrue();
    }
    assertThat(stat("http." + listener + ".downstream_cx_idle_timeout")).isEqualTo(9);
    await(() -> statOrZero("listener." + listener + ".downstream_cx_active") == 1);
    assertThat(RawHttp.get(port, "x", "/normal").status()).isEqualTo(200);
    app.release.countDown();
    assertThat(busy.read().body()).isEqualTo("app /slow 0");
    assertThat(admin("/stats/prometheus"))
        .contains(
            "envoy_listener_downstream_global_cx_overflow{listener_address=\""
                + listener
                + "\"} 1");
  }

  List<String> accessLog() {
    try {
      Path log = tmp.resolve("access.log");
      return java.nio.file.Files.exists(log) ? java.nio.file.Files.readAllLines(log) : List.of();
    } catch (IOException e) {
      return List.of();
    }
  }

  long statOrZero(String name) {
    try {
      for (String line : admin("/stats").split("\n")) {
        if (line.startsWith(name + ": ")) {
          return Long.parseLong(line.substring(name.length() + 2).trim());
        }
      }
      return 0;
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  static com.google.protobuf.Duration millis(int ms) {
    return com.google.protobuf.Duration.newBuilder()
        .setSeconds(ms / 1000)
        .setNanos((ms % 1000) * 1_000_000)
        .build();
  }
}
