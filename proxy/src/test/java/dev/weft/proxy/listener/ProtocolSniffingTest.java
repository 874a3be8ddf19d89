package dev.weft.proxy.listener;

import static dev.weft.proxy.testing.TestAdsServer.CDS;
import static dev.weft.proxy.testing.TestAdsServer.LDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.google.protobuf.Any;
import dev.weft.proxy.Proxy;
import dev.weft.proxy.ProxyBootstrap;
import dev.weft.proxy.testing.TestAdsServer;
import dev.weft.proxy.testing.TestPki;
import dev.weft.proxy.testing.TestUpstream;
import dev.weft.proxy.testing.Xds;
import dev.weft.xds.NodeId;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.FilterChainMatch;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.listener.v3.ListenerFilter;
import io.envoyproxy.envoy.extensions.filters.listener.http_inspector.v3.HttpInspector;
import io.envoyproxy.envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Protocol sniffing on one listener over real sockets, as Istio configures a port of unknown
 * protocol: the TLS inspector and the HTTP inspector ({@code
 * envoy.filters.listener.http_inspector}) and a chain per detected protocol: a TLS chain by SNI
 * (passthrough), an HTTP chain ({@code application_protocols: [http/1.0, http/1.1, h2c]}, {@code
 * raw_buffer}) and the TCP chain for anything else. Independent clients: curl (HTTP/1.1 and h2c
 * with prior knowledge), {@code openssl s_client}, and a plain socket; a server-first protocol gets
 * through after {@code listener_filters_timeout} with {@code continue_on_listener_filters_timeout}.
 */
class ProtocolSniffingTest {
  static final String HTTP = "outbound|7000||app.demo.svc.cluster.local";
  static final String TCP = "outbound|7000|tcp|app.demo.svc.cluster.local";
  static final String SNI = "outbound|7000|sni|app.demo.svc.cluster.local";
  static final String GREETER = "outbound|7000|greeter|app.demo.svc.cluster.local";

  @TempDir Path tmp;
  TestAdsServer ads;
  TestUpstream http;
  Proxy proxy;
  final List<AutoCloseable> closers = new ArrayList<>();
  SSLContext serverTls;

  @BeforeEach
  void setUp() throws Exception {
    ads = TestAdsServer.start();
    http = new TestUpstream("app");
    TestPki.Workload w =
        TestPki.workload(TestPki.ca("test"), "spiffe://cluster.local/ns/demo/sa/app");
    KeyStore ks = KeyStore.getInstance("PKCS12");
    ks.load(null, null);
    ks.setKeyEntry("k", w.key(), new char[0], new java.security.cert.Certificate[] {w.cert()});
    KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(ks, new char[0]);
    serverTls = SSLContext.getInstance("TLS");
    serverTls.init(kmf.getKeyManagers(), null, null);
  }

  @AfterEach
  void tearDown() throws Exception {
    for (AutoCloseable c : closers.reversed()) {
      c.close();
    }
    if (proxy != null) {
      proxy.close();
    }
    http.close();
    ads.close();
  }

  /**
   * A line server: a connection that starts with a TLS record is served over TLS (with {@link
   * #serverTls}), anything else in plaintext; it answers the first line with {@code name:line} and
   * closes. With {@code greeting} it speaks first (a server-first protocol such as MySQL or SMTP).
   */
  InetSocketAddress lineServer(String name, String greeting, AtomicInteger accepted)
      throws IOException {
    ServerSocket ss = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    closers.add(ss);
    Thread.ofVirtual()
        .start(
            () -> {
              while (!ss.isClosed()) {
                Socket s;
                try {
                  s = ss.accept();
                } catch (IOException e) {
                  return;
                }
                accepted.incrementAndGet();
                closers.add(s);
                Thread.ofVirtual().start(() -> serveLine(s, name, greeting));
              }
            });
    return (InetSocketAddress) ss.getLocalSocketAddress();
  }

  private void serveLine(Socket s, String name, String greeting) {
    try (s) {
      Socket conn = s;
      InputStream in = s.getInputStream();
      if (greeting != null) {
        s.getOutputStream().write((greeting + "\r\n").getBytes(StandardCharsets.US_ASCII));
        s.getOutputStream().flush();
      }
      int first = in.read();
      if (first < 0) {
        return;
      }
      if (first == 0x16) {
        SSLSocket tls =
            (SSLSocket)
                serverTls
                    .getSocketFactory()
                    .createSocket(s, new ByteArrayInputStream(new byte[] {(byte) first}), true);
        tls.setUseClientMode(false);
        conn = tls;
        in = tls.getInputStream();
      } else {
        in =
            new java.io.SequenceInputStream(
                new ByteArrayInputStream(new byte[] {(byte) first}), in);
      }
      String line =
          new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8)).readLine();
      OutputStream out = conn.getOutputStream();
      out.write((name + ":" + line + "\n").getBytes(StandardCharsets.UTF_8));
      out.flush();
      conn.close();
    } catch (IOException e) {
      // the client went away
    }
  }

  static Filter tcpProxy(String cluster) {
    return Filter.newBuilder()
        .setName("envoy.filters.network.tcp_proxy")
        .setTypedConfig(
            Any.pack(TcpProxy.newBuilder().setStatPrefix(cluster).setCluster(cluster).build()))
        .build();
  }

  /**
   * Istio's listener for a port of unknown protocol: both inspectors, the timeout, a TLS chain for
   * {@code tls.example.com}, the HTTP chain and the TCP chain to {@code tcpCluster}.
   */
  static Listener sniffed(
      int port, long timeoutMillis, boolean continueOnTimeout, String tcpCluster) {
    return Listener.newBuilder()
        .setName("127.0.0.1_" + port)
        .setAddress(Xds.address("127.0.0.1", port))
        .addListenerFilters(
            ListenerFilter.newBuilder()
                .setName("envoy.filters.listener.tls_inspector")
                .setTypedConfig(Any.pack(TlsInspector.getDefaultInstance())))
        .addListenerFilters(
            ListenerFilter.newBuilder()
                .setName("envoy.filters.listener.http_inspector")
                .setTypedConfig(Any.pack(HttpInspector.getDefaultInstance())))
        .setListenerFiltersTimeout(
            com.google.protobuf.Duration.newBuilder()
                .setSeconds(timeoutMillis / 1000)
                .setNanos((int) (timeoutMillis % 1000) * 1_000_000))
        .setContinueOnListenerFiltersTimeout(continueOnTimeout)
        .addFilterChains(
            FilterChain.newBuilder()
                .setFilterChainMatch(
                    FilterChainMatch.newBuilder()
                        .addServerNames("tls.example.com")
                        .setTransportProtocol("tls"))
                .addFilters(tcpProxy(SNI)))
        .addFilterChains(
            FilterChain.newBuilder()
                .setFilterChainMatch(
                    FilterChainMatch.newBuilder()
                        .addAllApplicationProtocols(List.of("http/1.0", "http/1.1", "h2c"))
                        .setTransportProtocol("raw_buffer"))
                .addFilters(
                    Filter.newBuilder()
                        .setName("envoy.filters.network.http_connection_manager")
                        .setTypedConfig(
                            Any.pack(
                                Xds.hcm()
                                    .setRouteConfig(
                                        Xds.routes(
                                            "7000",
                                            Xds.vhost(
                                                "v", List.of("*"), Xds.prefixRoute("/", HTTP))))
                                    .build()))))
        // Under Envoy's match order a plaintext connection the HTTP inspector did not name takes
        // the raw_buffer branch and finds no chain there; the TCP fall-through is the default.
        .setDefaultFilterChain(FilterChain.newBuilder().addFilters(tcpProxy(tcpCluster)))
        .build();
  }

  void start(InetSocketAddress tcp, InetSocketAddress sni, Listener... listeners)
      throws IOException {
    ads.set(
        CDS,
        "c1",
        Xds.staticCluster(HTTP, http.address()),
        Xds.staticCluster(TCP, tcp),
        Xds.staticCluster(SNI, sni));
    ads.set(LDS, "l1", listeners);
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

  static boolean has(String tool, String arg) {
    try {
      Process p = new ProcessBuilder(tool, arg).redirectErrorStream(true).start();
      p.getInputStream().readAllBytes();
      return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (IOException | InterruptedException e) {
      return false;
    }
  }

  static String run(String stdin, String... cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    try (OutputStream o = p.getOutputStream()) {
      if (stdin != null) {
        o.write(stdin.getBytes(StandardCharsets.UTF_8));
      }
    }
    byte[] out = p.getInputStream().readAllBytes();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    return new String(out, StandardCharsets.UTF_8);
  }

  static String line(int port, String send) throws IOException {
    try (Socket s = new Socket("127.0.0.1", port)) {
      s.setSoTimeout(20_000);
      if (send != null) {
        s.getOutputStream().write(send.getBytes(StandardCharsets.UTF_8));
        s.getOutputStream().flush();
      }
      return new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8))
          .readLine();
    }
  }

  @Test
  void http1H2cTcpAndTlsClientsOnOneSniffedPortEachTakeTheirChain() throws Exception {
    assumeTrue(has("curl", "--version"), "curl is not installed");
    assumeTrue(has("openssl", "version"), "openssl is not installed");
    AtomicInteger tcpAccepted = new AtomicInteger();
    AtomicInteger sniAccepted = new AtomicInteger();
    int port = Xds.freePort();
    // Istio's outbound default: listener_filters_timeout 0s (none), continue on timeout.
    start(
        lineServer("tcp", null, tcpAccepted),
        lineServer("sni", null, sniAccepted),
        sniffed(port, 0, true, TCP));
    String url = "http://127.0.0.1:" + port + "/sniffed";

    // HTTP/1.1: the HTTP chain, routed to the HTTP cluster.
    assertThat(run(null, "curl", "-sS", "--http1.1", "-w", "\n%{http_version}", url))
        .isEqualTo("app /sniffed 0\n1.1");
    // h2c with prior knowledge: the HTTP chain too, whose connection manager speaks HTTP/2.
    assertThat(run(null, "curl", "-sS", "--http2-prior-knowledge", "-w", "\n%{http_version}", url))
        .isEqualTo("app /sniffed 0\n2");
    assertThat(http.requestLines).containsExactly("GET /sniffed", "GET /sniffed");
    // Bytes that are neither TLS nor HTTP: the TCP chain.
    assertThat(line(port, "hello sniffer\n")).isEqualTo("tcp:hello sniffer");
    // A line that starts like a request line but is not one is not HTTP either.
    assertThat(line(port, "GET /x SMTP/1.0\n")).isEqualTo("tcp:GET /x SMTP/1.0");
    // TLS with the passthrough chain's SNI: relayed (not terminated) to its cluster.
    assertThat(
            run(
                    "over tls\n",
                    "openssl",
                    "s_client",
                    "-quiet",
                    "-connect",
                    "127.0.0.1:" + port,
                    "-servername",
                    "tls.example.com")
                .strip())
        .isEqualTo("sni:over tls");
    // TLS with another name: the TCP chain, still end to end TLS.
    assertThat(
            run(
                    "other name\n",
                    "openssl",
                    "s_client",
                    "-quiet",
                    "-connect",
                    "127.0.0.1:" + port,
                    "-servername",
                    "other.example.com")
                .strip())
        .isEqualTo("tcp:other name");
    assertThat(sniAccepted.get()).isEqualTo(1);
    assertThat(tcpAccepted.get()).isEqualTo(3);
    assertThat(http.requestLines).hasSize(2);
  }

  @Test
  void aServerFirstProtocolReachesTheTcpChainAfterTheDetectionTimeout() throws Exception {
    AtomicInteger accepted = new AtomicInteger();
    int port = Xds.freePort();
    int closing = Xds.freePort();
    InetSocketAddress greeter = lineServer("greeter", "220 greeter ready", accepted);
    start(
        greeter,
        greeter,
        sniffed(port, 200, true, TCP),
        // Without continue_on_listener_filters_timeout the connection is closed instead.
        sniffed(closing, 200, false, TCP));
    try (Socket s = new Socket("127.0.0.1", port)) {
      s.setSoTimeout(20_000);
      BufferedReader r =
          new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
      // The client waits for the server's greeting; the inspectors give up and the TCP chain
      // connects to the server, whose greeting comes back.
      assertThat(r.readLine()).isEqualTo("220 greeter ready");
      s.getOutputStream().write("HELO me\n".getBytes(StandardCharsets.UTF_8));
      assertThat(r.readLine()).isEqualTo("greeter:HELO me");
    }
    int before = accepted.get();
    try (Socket s = new Socket("127.0.0.1", closing)) {
      s.setSoTimeout(20_000);
      assertThat(s.getInputStream().read()).isEqualTo(-1);
    }
    assertThat(accepted.get()).isEqualTo(before);
  }

  @Test
  void theHttpInspectorDecidesAtTheFirstByteThatIsNotHttp() {
    assertThat(detect("GET / HTTP/1.1\r\n")).isEqualTo("http/1.1");
    assertThat(detect("POST /a?b HTTP/1.0\r\nHost: x\r\n")).isEqualTo("http/1.0");
    assertThat(detect("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")).isEqualTo("h2c");
    assertThat(detect("PRI * HTTP/2.0\r\n")).isEmpty(); // a prefix of the preface: wait
    assertThat(detect("GET /long/path HTT")).isEmpty(); // a prefix of a request line: wait
    assertThat(detect("GET")).isEmpty();
    assertThat(detect("hello")).isNull(); // lower case: no method
    assertThat(detect("GET  HTTP/1.1\r\n")).isNull(); // empty request target
    assertThat(detect("GET / HTTP/2.0\r\n")).isNull();
    assertThat(detect("GET / HTTP/1.1 x")).isNull();
    assertThat(detect("\u0016\u0003\u0001")).isNull();
  }

  private static String detect(String s) {
    io.netty.buffer.ByteBuf b =
        io.netty.buffer.Unpooled.wrappedBuffer(s.getBytes(StandardCharsets.ISO_8859_1));
    try {
      return dev.weft.proxy.listener.HttpInspector.detect(b);
    } finally {
      b.release();
    }
  }
}
