package dev.weft.proxy.http;

import static dev.weft.proxy.testing.TestAdsServer.CDS;
import static dev.weft.proxy.testing.TestAdsServer.LDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.weft.proxy.Proxy;
import dev.weft.proxy.ProxyBootstrap;
import dev.weft.proxy.testing.TestAdsServer;
import dev.weft.proxy.testing.TestUpstream;
import dev.weft.proxy.testing.Xds;
import dev.weft.xds.NodeId;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * HTTP/2 from downstream clients (cleartext, prior knowledge) through the proxy to an HTTP/1.1
 * upstream, with independent clients: curl and h2load (nghttp2), and raw bytes for bad input.
 */
class Http2DownstreamTest {
  static final String CLUSTER = "inbound|9898||";

  @TempDir Path tmp;
  TestAdsServer ads;
  TestUpstream upstream;
  Proxy proxy;
  int port;

  @BeforeEach
  void setUp() throws Exception {
    ads = TestAdsServer.start();
    upstream = new TestUpstream("app");
    port = Xds.freePort();
    ads.set(CDS, "c1", Xds.staticCluster(CLUSTER, upstream.address()));
    ads.set(
        LDS,
        "l1",
        Xds.listener(
            "127.0.0.1_" + port,
            port,
            Xds.hcm()
                .setRouteConfig(
                    Xds.routes("r", Xds.vhost("v", List.of("*"), Xds.prefixRoute("/", CLUSTER))))
                .build()));
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

  @AfterEach
  void tearDown() throws Exception {
    if (proxy != null) {
      proxy.close();
    }
    upstream.close();
    ads.close();
  }

  static boolean has(String tool) {
    try {
      Process p = new ProcessBuilder(tool, "--version").redirectErrorStream(true).start();
      p.getInputStream().readAllBytes();
      return p.waitFor(10, TimeUnit.SECONDS);
    } catch (IOException | InterruptedException e) {
      return false;
    }
  }

  static String run(String... cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    byte[] out = p.getInputStream().readAllBytes();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    return new String(out, StandardCharsets.UTF_8);
  }

  @Test
  void curlWithPriorKnowledgeGetsTheUpstreamsAnswerOverHttp2() throws Exception {
    assumeTrue(has("curl"), "curl is not installed");
    String out =
        run(
            "curl",
            "-sS",
            "--http2-prior-knowledge",
            "-w",
            "\\n%{http_version} %{response_code}",
            "-d",
            "hello",
            "http://127.0.0.1:" + port + "/h2?x=1");
    assertThat(out).isEqualTo("app /h2?x=1 5\n2 200");
    assertThat(upstream.protocols).containsExactly("HTTP/1.1");
    assertThat(upstream.lastHeaders).doesNotContainKeys("x-http2-stream-id", "x-http2-scheme");
    assertThat(upstream.lastHeaders).containsEntry("host", "127.0.0.1:" + port);
    // Envoy's %PROTOCOL% for an HTTP/2 request.
    awaitLog("\"POST /h2?x=1 HTTP/2\" 200");
  }

  @Test
  void curlUpgradesToH2cAndGetsItsResponseOverHttp2() throws Exception {
    assumeTrue(has("curl"), "curl is not installed");
    // curl --http2 on http:// sends Upgrade: h2c (RFC 7540 3.2) with its first request (body
    // included); the answer to it comes on stream 1 over HTTP/2, the next request's on stream 3.
    String url = "http://127.0.0.1:" + port + "/up";
    String out =
        run(
            "curl",
            "-sS",
            "--http2",
            "-w",
            "\\n%{http_version} %{response_code}\\n",
            url + "?n=1",
            url + "?n=2",
            "-d",
            "hello");
    assertThat(out).isEqualTo("app /up?n=1 5\n2 200\napp /up?n=2 5\n2 200\n");
    assertThat(upstream.protocols).containsExactly("HTTP/1.1", "HTTP/1.1");
    // The upgrade's hop-by-hop headers stay here.
    assertThat(upstream.headers.get(0)).doesNotContainKeys("Upgrade", "Http2-settings");
    awaitLog("\"POST /up?n=1 HTTP/2\" 200");
  }

  @Test
  void anUpgradeWithAChunkedBodyIsServedAsHttp1() throws Exception {
    try (Socket s = new Socket("127.0.0.1", port)) {
      s.setSoTimeout(10_000);
      s.getOutputStream()
          .write(
              ("POST /chunked HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\n"
                      + "Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\n"
                      + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
                  .getBytes(StandardCharsets.US_ASCII));
      byte[] head = new byte[12];
      new java.io.DataInputStream(s.getInputStream()).readFully(head);
      assertThat(new String(head, StandardCharsets.US_ASCII)).isEqualTo("HTTP/1.1 200");
    }
    assertThat(upstream.requestLines).containsExactly("POST /chunked");
  }

  @Test
  void codecTypeHttp1RefusesHttp2AndHttp2RefusesHttp1() throws Exception {
    assumeTrue(has("curl"), "curl is not installed");
    int h1 = Xds.freePort();
    int h2 = Xds.freePort();
    var routes = Xds.routes("r", Xds.vhost("v", List.of("*"), Xds.prefixRoute("/", CLUSTER)));
    ads.set(
        LDS,
        "l2",
        Xds.listener(
            "127.0.0.1_" + h1,
            h1,
            Xds.hcm()
                .setCodecType(
                    io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3
                        .HttpConnectionManager.CodecType.HTTP1)
                .setRouteConfig(routes)
                .build()),
        Xds.listener(
            "127.0.0.1_" + h2,
            h2,
            Xds.hcm()
                .setCodecType(
                    io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3
                        .HttpConnectionManager.CodecType.HTTP2)
                .setRouteConfig(routes)
                .build()));
    // The second listener is bound once its LDS is ACKed: a test that went on without it (as a
    // 10 s deadline that ran out silently did on a busy machine) would fail on a refused connect.
    dev.weft.proxy.testing.Conditions.await("the listener l2 ACKed", () -> ads.acked(LDS, "l2"));
    String url1 = "http://127.0.0.1:" + h1 + "/x";
    String url2 = "http://127.0.0.1:" + h2 + "/x";
    assertThat(run("curl", "-sS", "-w", "%{http_version}", "-o", "/dev/null", url1))
        .isEqualTo("1.1");
    // HTTP1 only: the preface is not a request line curl can read an answer to.
    assertThat(run("curl", "-sS", "--http2-prior-knowledge", "-o", "/dev/null", url1))
        .startsWith("curl: (");
    assertThat(
            run(
                "curl",
                "-sS",
                "--http2-prior-knowledge",
                "-w",
                "%{http_version}",
                "-o",
                "/dev/null",
                url2))
        .isEqualTo("2");
    // HTTP2 only: an HTTP/1.1 request is refused (the connection closed).
    assertThat(run("curl", "-sS", "-o", "/dev/null", url2)).startsWith("curl: (");
  }

  @Test
  void http1ClientsStillWork() throws Exception {
    assumeTrue(has("curl"), "curl is not installed");
    String out =
        run("curl", "-sS", "-w", "\\n%{http_version}", "http://127.0.0.1:" + port + "/one");
    assertThat(out).isEqualTo("app /one 0\n1.1");
  }

  @Test
  void manyStreamsOnOneConnectionWithH2load() throws Exception {
    assumeTrue(has("h2load"), "h2load (nghttp2-client) is not installed");
    String out =
        run("h2load", "-n", "400", "-c", "2", "-m", "20", "http://127.0.0.1:" + port + "/many");
    assertThat(out)
        .as(
            "%s",
            Files.exists(tmp.resolve("access.log"))
                ? Files.readString(tmp.resolve("access.log")).lines().limit(5).toList()
                : "")
        .contains("400 total", "400 succeeded", "0 failed", "400 2xx");
  }

  @Test
  void anInvalidPrefaceClosesTheConnectionAndOthersAreServed() throws Exception {
    try (Socket s = new Socket("127.0.0.1", port)) {
      s.setSoTimeout(10_000);
      OutputStream out = s.getOutputStream();
      out.write("PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      assertThat(s.getInputStream().read()).isEqualTo(-1);
    }
    assertThat(http1Get("/after")).startsWith("HTTP/1.1 200");
  }

  @Test
  void aTlsClientHelloOnThePlaintextPortIsRefusedAndOthersAreServed() throws Exception {
    // The first bytes of a TLS 1.2 ClientHello record.
    byte[] hello = {0x16, 0x03, 0x01, 0x00, (byte) 0xa5, 0x01, 0x00, 0x00, (byte) 0xa1, 0x03, 0x03};
    try (Socket s = new Socket("127.0.0.1", port)) {
      s.setSoTimeout(10_000);
      // One write: the proxy answers and closes as soon as it has seen the first bytes, so a
      // later write could meet a closed socket (EPIPE) before the reply is read.
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      bytes.write(hello);
      bytes.write(new byte[200]);
      bytes.write("\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      s.getOutputStream().write(bytes.toByteArray());
      s.getOutputStream().flush();
      String reply = new String(readAll(s.getInputStream()), StandardCharsets.ISO_8859_1);
      assertThat(reply).startsWith("HTTP/1.1 400");
    }
    assertThat(http1Get("/after")).startsWith("HTTP/1.1 200");
  }

  String http1Get(String path) throws IOException {
    try (Socket s = new Socket("127.0.0.1", port)) {
      s.setSoTimeout(10_000);
      s.getOutputStream()
          .write(
              ("GET " + path + " HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
                  .getBytes(StandardCharsets.US_ASCII));
      return new String(readAll(s.getInputStream()), StandardCharsets.ISO_8859_1);
    }
  }

  static byte[] readAll(InputStream in) throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    in.transferTo(b);
    return b.toByteArray();
  }

  void awaitLog(String fragment) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    List<String> lines = new ArrayList<>();
    while (System.nanoTime() < deadline) {
      Path log = tmp.resolve("access.log");
      if (Files.exists(log)) {
        lines = Files.readAllLines(log);
        if (lines.stream().anyMatch(l -> l.contains(fragment))) {
          return;
        }
      }
      Thread.sleep(20);
    }
    assertThat(lines).anyMatch(l -> l.contains(fragment));
  }
}
