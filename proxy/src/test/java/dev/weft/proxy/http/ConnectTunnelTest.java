package dev.weft.proxy.http;

import static dev.weft.proxy.testing.TestAdsServer.CDS;
import static dev.weft.proxy.testing.TestAdsServer.LDS;
import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.proxy.Proxy;
import dev.weft.proxy.ProxyBootstrap;
import dev.weft.proxy.testing.TestAdsServer;
import dev.weft.proxy.testing.Xds;
import dev.weft.xds.NodeId;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * HTTP/1.1 CONNECT through the proxy (Envoy's {@code upgrade_type: CONNECT} with {@code
 * connect_matcher} routes), on real sockets: a raw socket client, the proxy, a TCP echo server.
 */
class ConnectTunnelTest {
  static final String ECHO = "outbound|7000||echo.demo.svc.cluster.local";
  static final String EMPTY = "outbound|7000||empty.demo.svc.cluster.local";
  static final String REFUSED = "outbound|7000||down.demo.svc.cluster.local";

  @TempDir Path tmp;
  TestAdsServer ads;
  Proxy proxy;
  int port;
  ServerSocket echo;
  Thread echoThread;

  @BeforeEach
  void setUp() throws Exception {
    ads = TestAdsServer.start();
    port = Xds.freePort();
    echo = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    echoThread =
        Thread.ofVirtual()
            .start(
                () -> {
                  while (!echo.isClosed()) {
                    try {
                      Socket s = echo.accept();
                      Thread.ofVirtual().start(() -> echoUntilEnd(s));
                    } catch (IOException e) {
                      return;
                    }
                  }
                });
  }

  /** Echoes bytes until the peer half-closes, then half-closes back (a FIN for a FIN). */
  static void echoUntilEnd(Socket s) {
    try (s) {
      InputStream in = s.getInputStream();
      OutputStream out = s.getOutputStream();
      byte[] buf = new byte[8192];
      int n;
      while ((n = in.read(buf)) > 0) {
        out.write(buf, 0, n);
        out.flush();
      }
      s.shutdownOutput();
    } catch (IOException ignored) {
      // the test's client went away
    }
  }

  @AfterEach
  void tearDown() throws Exception {
    if (proxy != null) {
      proxy.close();
    }
    ads.close();
    echo.close();
    echoThread.join(5_000);
  }

  static Route connectRoute(String cluster) {
    return Route.newBuilder()
        .setMatch(
            RouteMatch.newBuilder()
                .setConnectMatcher(RouteMatch.ConnectMatcher.getDefaultInstance()))
        .setRoute(
            RouteAction.newBuilder()
                .setCluster(cluster)
                .addUpgradeConfigs(
                    RouteAction.UpgradeConfig.newBuilder()
                        .setUpgradeType("CONNECT")
                        .setConnectConfig(
                            RouteAction.UpgradeConfig.ConnectConfig.getDefaultInstance())))
        .build();
  }

  void start(boolean enableConnect) throws IOException {
    int closedPort = Xds.freePort();
    ads.set(
        CDS,
        "c1",
        Xds.staticCluster(ECHO, new InetSocketAddress("127.0.0.1", echo.getLocalPort())),
        Xds.staticCluster(EMPTY),
        Xds.staticCluster(REFUSED, new InetSocketAddress("127.0.0.1", closedPort)));
    HttpConnectionManager.Builder b =
        Xds.hcm()
            .setRouteConfig(
                Xds.routes(
                    "http_proxy",
                    Xds.vhost(
                        "echo",
                        List.of("echo.demo:7000"),
                        connectRoute(ECHO),
                        Xds.prefixRoute("/", ECHO)),
                    Xds.vhost("empty", List.of("empty.demo:7000"), connectRoute(EMPTY)),
                    Xds.vhost("down", List.of("down.demo:7000"), connectRoute(REFUSED))));
    if (enableConnect) {
      b.addUpgradeConfigs(
          HttpConnectionManager.UpgradeConfig.newBuilder().setUpgradeType("CONNECT"));
    }
    ads.set(LDS, "l1", Xds.listener("127.0.0.1_" + port, port, b.build()));
    proxy =
        Proxy.start(
            ProxyBootstrap.builder()
                .nodeId(new NodeId(NodeId.SIDECAR, "127.0.0.1", "app-v1", "demo"))
                .metadata(Map.of("NAMESPACE", "demo"))
                .xdsServer(new InetSocketAddress("127.0.0.1", ads.port()))
                .adminAddress(new InetSocketAddress("127.0.0.1", 0))
                .accessLogPath(tmp.resolve("access.log"))
                .build());
    assertThat(proxy.awaitReady(Duration.ofSeconds(30))).as("%s", proxy.failure()).isTrue();
  }

  /** Sends a CONNECT for {@code authority}; returns the response head (through its blank line). */
  static String connect(Socket s, String authority) throws IOException {
    s.getOutputStream()
        .write(
            ("CONNECT " + authority + " HTTP/1.1\r\nHost: " + authority + "\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
    s.getOutputStream().flush();
    String head = readHead(s.getInputStream());
    java.util.regex.Matcher m =
        java.util.regex.Pattern.compile("(?i)content-length: *(\\d+)").matcher(head);
    if (m.find()) {
      s.getInputStream().readNBytes(Integer.parseInt(m.group(1))); // a local reply's body
    }
    return head;
  }

  static String readHead(InputStream in) throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    int matched = 0;
    byte[] end = {'\r', '\n', '\r', '\n'};
    while (matched < 4) {
      int c = in.read();
      if (c < 0) {
        break;
      }
      head.write(c);
      matched = c == end[matched] ? matched + 1 : (c == '\r' ? 1 : 0);
    }
    return head.toString(StandardCharsets.US_ASCII);
  }

  @Test
  void aConnectIsTunnelledToTheRoutesClusterBothWaysWithHalfClose() throws Exception {
    start(true);
    try (Socket s = new Socket("127.0.0.1", port)) {
      s.setSoTimeout(20_000);
      String head = connect(s, "echo.demo:7000");
      assertThat(head).startsWith("HTTP/1.1 200 ");
      assertThat(head.toLowerCase()).doesNotContain("content-length").doesNotContain("chunked");
      byte[] big = new byte[300_000];
      new java.util.Random(5).nextBytes(big);
      // A writer of its own: the echo comes back while the rest is still being sent.
      Thread writer =
          Thread.ofVirtual()
              .start(
                  () -> {
                    try {
                      s.getOutputStream().write("ping\n".getBytes(StandardCharsets.US_ASCII));
                      s.getOutputStream().write(big);
                      s.getOutputStream().flush();
                      s.shutdownOutput(); // half-close: the echo server answers with its own FIN
                    } catch (IOException ignored) {
                      // the read side fails the test
                    }
                  });
      byte[] got = s.getInputStream().readAllBytes(); // to the proxy's FIN
      writer.join(20_000);
      byte[] want = new byte[5 + big.length];
      System.arraycopy("ping\n".getBytes(StandardCharsets.US_ASCII), 0, want, 0, 5);
      System.arraycopy(big, 0, want, 5, big.length);
      assertThat(got).isEqualTo(want);
    }
    WebSocketUpgradeTest.DownstreamAwait.until(
        () -> accessLog().contains("\"CONNECT ") && accessLog().contains("\" 200 "));
  }

  @Test
  void aConnectToAnUnknownAuthorityIs404NoRoute() throws Exception {
    start(true);
    try (Socket s = new Socket("127.0.0.1", port)) {
      s.setSoTimeout(20_000);
      assertThat(connect(s, "nowhere.demo:7000")).startsWith("HTTP/1.1 404");
    }
    WebSocketUpgradeTest.DownstreamAwait.until(
        () -> accessLog().contains(" 404 NR route_not_found "));
  }

  @Test
  void aConnectToAClusterWithoutEndpointsIs503NoHealthyUpstream() throws Exception {
    start(true);
    try (Socket s = new Socket("127.0.0.1", port)) {
      s.setSoTimeout(20_000);
      // Bytes the client sent behind the head (optimistically, before the answer) were meant for
      // the tunnel: they are never read as HTTP. The refused CONNECT closes the connection, as
      // Envoy closes one whose upgrade was rejected.
      s.getOutputStream()
          .write(
              ("CONNECT empty.demo:7000 HTTP/1.1\r\nHost: empty.demo:7000\r\n\r\n"
                      + "GET / HTTP/1.1\r\nHost: echo.demo:7000\r\n\r\n")
                  .getBytes(StandardCharsets.US_ASCII));
      String reply = new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
      assertThat(reply).startsWith("HTTP/1.1 503").containsIgnoringCase("connection: close");
      assertThat(reply.indexOf("HTTP/1.1", 1)).as("one response only: %s", reply).isEqualTo(-1);
    }
    WebSocketUpgradeTest.DownstreamAwait.until(
        () -> accessLog().contains(" 503 UH no_healthy_upstream "));
  }

  @Test
  void aConnectWhoseUpstreamRefusesIs503ConnectFailure() throws Exception {
    start(true);
    try (Socket s = new Socket("127.0.0.1", port)) {
      s.setSoTimeout(20_000);
      assertThat(connect(s, "down.demo:7000")).startsWith("HTTP/1.1 503");
    }
    WebSocketUpgradeTest.DownstreamAwait.until(
        () ->
            accessLog()
                .contains(" 503 UF upstream_reset_before_response_started{connection_failure}"));
  }

  @Test
  void connectRoutesDoNotServeOtherMethodsNorOtherRoutesConnect() throws Exception {
    start(true);
    try (Socket s = new Socket("127.0.0.1", port)) {
      s.setSoTimeout(20_000);
      // empty.demo has only a connect_matcher route: a GET finds none.
      s.getOutputStream()
          .write(
              "GET http://empty.demo:7000/ HTTP/1.1\r\nHost: empty.demo:7000\r\n\r\n"
                  .getBytes(StandardCharsets.US_ASCII));
      assertThat(readHead(s.getInputStream())).startsWith("HTTP/1.1 404");
    }
  }

  @Test
  void connectWithoutAnUpgradeConfigIsRefused() throws Exception {
    start(false);
    try (Socket s = new Socket("127.0.0.1", port)) {
      s.setSoTimeout(20_000);
      assertThat(connect(s, "echo.demo:7000")).startsWith("HTTP/1.1 403");
    }
  }

  @Test
  void aConnectWhoseTargetIsNotHostAndPortIsABadRequest() throws Exception {
    start(true);
    try (Socket s = new Socket("127.0.0.1", port)) {
      s.setSoTimeout(20_000);
      assertThat(connect(s, "echo.demo")).startsWith("HTTP/1.1 400");
    }
  }

  String accessLog() {
    try {
      return java.nio.file.Files.exists(tmp.resolve("access.log"))
          ? java.nio.file.Files.readString(tmp.resolve("access.log"))
          : "";
    } catch (IOException e) {
      return "";
    }
  }

  /**
   * Many tunnels at once, each writing its bytes in random chunks right behind the CONNECT head (in
   * the same write, before the 200 came back), then half-closing: every echo must come back byte
   * for byte. Bytes that arrive with the head or before the upstream is connected belong to the
   * tunnel, in order.
   */
  @Test
  void manyTunnelsWithBytesBeforeThe200AndRandomChunksEchoExactly() throws Exception {
    start(true);
    int tunnels = 24;
    java.util.concurrent.ExecutorService pool =
        java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor();
    try (pool) {
      List<java.util.concurrent.Future<String>> results = new java.util.ArrayList<>();
      for (int t = 0; t < tunnels; t++) {
        int seed = t;
        results.add(pool.submit(() -> stressTunnel(seed)));
      }
      for (java.util.concurrent.Future<String> r : results) {
        assertThat(r.get(120, java.util.concurrent.TimeUnit.SECONDS)).isEqualTo("ok");
      }
    }
  }

  private String stressTunnel(int seed) throws Exception {
    java.util.Random rnd = new java.util.Random(seed);
    byte[] data = new byte[200_000 + rnd.nextInt(200_000)];
    rnd.nextBytes(data);
    try (Socket s = new Socket("127.0.0.1", port)) {
      s.setSoTimeout(60_000);
      s.setTcpNoDelay(true);
      byte[] head =
          "CONNECT echo.demo:7000 HTTP/1.1\r\nHost: echo.demo:7000\r\n\r\n"
              .getBytes(StandardCharsets.US_ASCII);
      // The head and the first bytes of the tunnel in one segment.
      int first = 1 + rnd.nextInt(2000);
      byte[] opening = new byte[head.length + first];
      System.arraycopy(head, 0, opening, 0, head.length);
      System.arraycopy(data, 0, opening, head.length, first);
      OutputStream out = s.getOutputStream();
      out.write(opening);
      out.flush();
      Thread writer =
          Thread.ofVirtual()
              .start(
                  () -> {
                    try {
                      int off = first;
                      while (off < data.length) {
                        int n = Math.min(data.length - off, 1 + rnd.nextInt(32 * 1024));
                        out.write(data, off, n);
                        out.flush();
                        off += n;
                      }
                      s.shutdownOutput();
                    } catch (IOException ignored) {
                      // the read side fails the test
                    }
                  });
      InputStream in = s.getInputStream();
      String response = readHead(in);
      if (!response.startsWith("HTTP/1.1 200 ")) {
        return "tunnel " + seed + ": " + response;
      }
      byte[] got = in.readAllBytes();
      writer.join(60_000);
      if (!java.util.Arrays.equals(got, data)) {
        int i = java.util.Arrays.mismatch(got, data);
        return "tunnel "
            + seed
            + ": "
            + got.length
            + " of "
            + data.length
            + " bytes, first difference at "
            + i;
      }
      return "ok";
    }
  }
}
