package dev.weft.proxy;

import static dev.weft.proxy.testing.Conditions.await;
import static dev.weft.proxy.testing.TestAdsServer.CDS;
import static dev.weft.proxy.testing.TestAdsServer.EDS;
import static dev.weft.proxy.testing.TestAdsServer.LDS;
import static dev.weft.proxy.testing.TestAdsServer.SDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.google.protobuf.Any;
import com.google.protobuf.Empty;
import dev.weft.proxy.http.filter.FilterStatus;
import dev.weft.proxy.http.filter.HttpFilter;
import dev.weft.proxy.http.filter.HttpFilterFactory;
import dev.weft.proxy.http.filter.HttpFilterRegistry;
import dev.weft.proxy.http.filter.StreamInfo;
import dev.weft.proxy.testing.IstioTls;
import dev.weft.proxy.testing.RawHttp;
import dev.weft.proxy.testing.TestAdsServer;
import dev.weft.proxy.testing.TestPki;
import dev.weft.proxy.testing.TestUpstream;
import dev.weft.proxy.testing.TlsHttp;
import dev.weft.proxy.testing.Xds;
import dev.weft.xds.NodeId;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter.Builder;
import io.netty.handler.codec.http.HttpRequest;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Istio's mTLS between two Weft sidecars, with real sockets and real TLS (BoringSSL): the client
 * sidecar's auto mTLS cluster → the server sidecar's inbound listener (PERMISSIVE or STRICT) → the
 * app. Certificates are made by the test ({@link TestPki}); the server sidecar gets its secrets in
 * process (the identity agent's way), the client sidecar over ADS (SDS).
 */
class MutualTlsTest {
  static final String SERVER_ID = "spiffe://cluster.local/ns/demo/sa/server";
  static final String CLIENT_ID = "spiffe://cluster.local/ns/demo/sa/client";
  static final String OUTBOUND = "outbound|80||server.demo.svc.cluster.local";
  static final String INBOUND = "inbound|80||";

  @TempDir Path tmp;
  TestPki.Ca root;
  TestPki.Workload serverCert;
  TestPki.Workload clientCert;
  TestUpstream app;
  TestAdsServer serverAds;
  TestAdsServer clientAds;
  Proxy server;
  Proxy client;
  int serverPort;
  int clientPort;
  Path clientLog;
  final List<AutoCloseable> closers = new ArrayList<>();

  @BeforeEach
  void setUp() throws IOException {
    root = TestPki.ca("cluster.local");
    serverCert = TestPki.workload(root, SERVER_ID);
    clientCert = TestPki.workload(root, CLIENT_ID);
    app = new TestUpstream("app");
    serverAds = TestAdsServer.start();
    clientAds = TestAdsServer.start();
    serverPort = Xds.freePort();
    clientPort = Xds.freePort();
    clientLog = tmp.resolve("client.log");
  }

  @AfterEach
  void tearDown() throws Exception {
    for (Proxy p : new Proxy[] {client, server}) {
      if (p != null) {
        p.close();
      }
    }
    for (AutoCloseable c : closers) {
      c.close();
    }
    serverAds.close();
    clientAds.close();
    app.close();
  }

  // ------------------------------------------------------------------ setup

  /** A test filter that shows the app what the server sidecar knows of the peer. */
  static final HttpFilterFactory.Provider PEER_FILTER =
      any ->
          cb ->
              new HttpFilter() {
                @Override
                public FilterStatus decodeHeaders(HttpRequest request) {
                  StreamInfo info = cb.streamInfo();
                  request.headers().set("x-peer-principal", String.valueOf(info.peerPrincipal()));
                  request.headers().set("x-peer-uri", String.valueOf(info.peerUriSan()));
                  request.headers().set("x-security-policy", info.connectionSecurityPolicy());
                  return FilterStatus.CONTINUE;
                }
              };

  static final HttpFilterRegistry REGISTRY =
      HttpFilterRegistry.builder()
          .add("type.googleapis.com/google.protobuf.Empty", "test.peer", PEER_FILTER)
          .build();

  HttpConnectionManager inboundHcm() {
    HttpConnectionManager base =
        Xds.hcm()
            .setRouteConfig(
                Xds.routes(
                    "inbound|80",
                    Xds.vhost("inbound|http|80", List.of("*"), Xds.prefixRoute("/", INBOUND))))
            .build();
    Builder peer =
        io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter
            .newBuilder()
            .setName("test.peer")
            .setTypedConfig(Any.pack(Empty.getDefaultInstance()));
    return base.toBuilder()
        .clearHttpFilters()
        .addHttpFilters(peer)
        .addAllHttpFilters(base.getHttpFiltersList())
        .build();
  }

  void serveServer(boolean strict) {
    serverAds.set(CDS, "c1", Xds.staticCluster(INBOUND, app.address()));
    serverAds.set(
        LDS,
        "l1",
        IstioTls.inbound("127.0.0.1_" + serverPort, serverPort, inboundHcm(), strict, false));
  }

  void serveClient(List<String> sans, String tlsMode) {
    serveClient(sans, tlsMode, true);
  }

  void serveClient(List<String> sans, String tlsMode, boolean withSecrets) {
    clientAds.set(CDS, "c1", IstioTls.autoMtlsCluster(OUTBOUND, sans, true));
    clientAds.set(
        EDS,
        "e1",
        IstioTls.assignment(OUTBOUND, new InetSocketAddress("127.0.0.1", serverPort), tlsMode));
    clientAds.set(
        LDS,
        "l1",
        Xds.listener(
            "127.0.0.1_" + clientPort,
            clientPort,
            Xds.hcm()
                .setRouteConfig(
                    Xds.routes(
                        "80", Xds.vhost("server:80", List.of("*"), Xds.prefixRoute("/", OUTBOUND))))
                .build()));
    if (withSecrets) {
      clientAds.set(
          SDS,
          "s1",
          TestPki.certificateSecret("default", clientCert),
          TestPki.rootSecret("ROOTCA", root));
    }
  }

  /**
   * The transport the proxies are asked to run on; null: the default ({@link
   * MutualTlsOnIoUringTest}).
   */
  String transport() {
    return null;
  }

  Proxy start(TestAdsServer ads, String name, Path log) throws IOException {
    Proxy p =
        Proxy.start(
            ProxyBootstrap.builder()
                .nodeId(new NodeId(NodeId.SIDECAR, "127.0.0.1", name, "demo"))
                .metadata(Map.of("NAMESPACE", "demo"))
                .xdsServer(new InetSocketAddress("127.0.0.1", ads.port()))
                .adminAddress(new InetSocketAddress("127.0.0.1", 0))
                .transport(transport())
                .accessLogPath(log)
                .httpFilters(REGISTRY)
                .build());
    assertThat(p.awaitReady(Duration.ofSeconds(30))).as("%s", p.failure()).isTrue();
    return p;
  }

  void startServer(boolean strict) throws IOException {
    serveServer(strict);
    server = start(serverAds, "server", tmp.resolve("server.log"));
    // The identity agent's way: in process.
    server.secrets().register(TestPki.certificateSecret("default", serverCert));
    server.secrets().register(TestPki.rootSecret("ROOTCA", root));
  }

  void startClient(List<String> sans, String tlsMode) throws IOException {
    serveClient(sans, tlsMode);
    client = start(clientAds, "client", clientLog);
    await(() -> clientAds.acked(EDS, "e1") && clientAds.acked(SDS, "s1"));
  }

  static long stat(Proxy p, String name) {
    try {
      HttpClient c = HttpClient.newHttpClient();
      String text =
          c.send(
                  java.net.http.HttpRequest.newBuilder(
                          URI.create("http://127.0.0.1:" + p.adminAddress().getPort() + "/stats"))
                      .build(),
                  HttpResponse.BodyHandlers.ofString())
              .body();
      for (String line : text.split("\n")) {
        if (line.startsWith(name + ": ")) {
          return Long.parseLong(line.substring(name.length() + 2).trim());
        }
      }
      return -1;
    } catch (IOException | InterruptedException e) {
      throw new AssertionError(e);
    }
  }

  /** The lines of a proxy's {@code /stats} that contain {@code part} (for assertion messages). */
  static String statLines(Proxy p, String part) {
    try {
      String text =
          HttpClient.newHttpClient()
              .send(
                  java.net.http.HttpRequest.newBuilder(
                          URI.create("http://127.0.0.1:" + p.adminAddress().getPort() + "/stats"))
                      .build(),
                  HttpResponse.BodyHandlers.ofString())
              .body();
      return String.join("\n", text.lines().filter(l -> l.contains(part)).toList());
    } catch (IOException | InterruptedException e) {
      throw new AssertionError(e);
    }
  }

  // ------------------------------------------------------------------ tests

  /**
   * A proxy that announces mTLS is not ready, on {@code /ready} and for {@link Proxy#awaitReady},
   * until both its secrets {@code default} and {@code ROOTCA} are there, even once its listeners
   * are bound: a request that came then would fail its handshake. Then it serves mTLS at once.
   */
  @Test
  void aProxyAnnouncingMtlsIsReadyOnlyWithItsWorkloadCertificate() throws Exception {
    serveServer(true);
    server =
        Proxy.start(
            ProxyBootstrap.builder()
                .nodeId(new NodeId(NodeId.SIDECAR, "127.0.0.1", "server", "demo"))
                .metadata(Map.of("NAMESPACE", "demo"))
                .mutualTls(true)
                .xdsServer(new InetSocketAddress("127.0.0.1", serverAds.port()))
                .adminAddress(new InetSocketAddress("127.0.0.1", 0))
                .transport(transport())
                .accessLogPath(tmp.resolve("server.log"))
                .httpFilters(REGISTRY)
                .build());
    // The configuration is applied and the listener bound...
    await(() -> serverAds.acked(LDS, "l1") && serverAds.acked(CDS, "c1"));
    await(() -> listening(serverPort));
    // ...but without the certificate the proxy is not ready, and says why.
    assertThat(adminStatus(server, "/ready")).isEqualTo(503);
    assertThat(server.failure())
        .hasValueSatisfying(
            why -> assertThat(why).contains("waiting for the workload certificate"));
    server.secrets().register(TestPki.certificateSecret("default", serverCert));
    assertThat(adminStatus(server, "/ready")).isEqualTo(503);
    server.secrets().register(TestPki.rootSecret("ROOTCA", root));
    assertThat(server.awaitReady(Duration.ofSeconds(30))).as("%s", server.failure()).isTrue();
    assertThat(adminStatus(server, "/ready")).isEqualTo(200);
    startClient(List.of(SERVER_ID), "istio");
    assertThat(RawHttp.get(clientPort, "server", "/hello").status()).isEqualTo(200);
  }

  static boolean listening(int port) {
    try (java.net.Socket s = new java.net.Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 1000);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  static int adminStatus(Proxy p, String path) throws Exception {
    HttpClient c = HttpClient.newHttpClient();
    return c.send(
            java.net.http.HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + p.adminAddress().getPort() + path))
                .build(),
            HttpResponse.BodyHandlers.discarding())
        .statusCode();
  }

  @Test
  void mutualTlsBetweenSidecarsAndTheServerSeesThePrincipal() throws Exception {
    startServer(false);
    startClient(List.of(SERVER_ID), "istio");

    RawHttp.Response r = RawHttp.get(clientPort, "server", "/hello");
    // SDS over ADS: the client subscribed to the secrets its cluster names.
    assertThat(
            clientAds.requests().stream()
                .filter(q -> q.getTypeUrl().equals(SDS))
                .map(q -> java.util.Set.copyOf(q.getResourceNamesList())))
        .contains(java.util.Set.of("default", "ROOTCA"));

    assertThat(r.status()).as(r.body()).isEqualTo(200);
    assertThat(r.body()).startsWith("app /hello");
    assertThat(app.lastHeaders)
        .containsEntry("x-peer-principal", "cluster.local/ns/demo/sa/client")
        .containsEntry("x-peer-uri", CLIENT_ID)
        .containsEntry("x-security-policy", "mutual_tls");
    assertThat(stat(client, "cluster." + OUTBOUND + ".ssl.handshake")).isGreaterThanOrEqualTo(1);
    assertThat(stat(server, "listener.127.0.0.1_" + serverPort + ".ssl.handshake"))
        .isGreaterThanOrEqualTo(1);
  }

  @Test
  void permissiveServesPlaintextAndMutualTlsOnOnePort() throws Exception {
    startServer(false);
    startClient(List.of(SERVER_ID), "istio");

    // Plaintext straight to the inbound port: the raw_buffer chain.
    RawHttp.Response plain = RawHttp.get(serverPort, "server", "/plain");
    assertThat(plain.status()).isEqualTo(200);
    assertThat(app.lastHeaders)
        .containsEntry("x-peer-principal", "null")
        .containsEntry("x-security-policy", "none")
        .containsEntry("x-forwarded-proto", "http");

    // mTLS through the client sidecar: the tls chain.
    assertThat(RawHttp.get(clientPort, "server", "/mtls").status()).isEqualTo(200);
    assertThat(app.lastHeaders).containsEntry("x-security-policy", "mutual_tls");
  }

  @Test
  void autoMtlsSendsPlaintextToEndpointsWithoutASidecar() throws Exception {
    startServer(false);
    // No tlsMode label: the empty match, raw_buffer.
    startClient(List.of(SERVER_ID), null);

    assertThat(RawHttp.get(clientPort, "server", "/x").status()).isEqualTo(200);
    assertThat(app.lastHeaders).containsEntry("x-security-policy", "none");
    assertThat(stat(client, "cluster." + OUTBOUND + ".ssl.handshake")).isZero();
  }

  @Test
  void strictRefusesPlaintext() throws Exception {
    startServer(true);

    assertThatThrownBy(() -> RawHttp.get(serverPort, "server", "/plain"))
        .isInstanceOf(IOException.class);
    assertThat(app.requestLines).isEmpty();
    assertThat(stat(server, "listener.127.0.0.1_" + serverPort + ".no_filter_chain_match"))
        .isEqualTo(1);
    // mTLS still works.
    startClient(List.of(SERVER_ID), "istio");
    assertThat(RawHttp.get(clientPort, "server", "/mtls").status()).isEqualTo(200);
  }

  @Test
  void wrongServerSanIsAnUpstreamConnectFailure() throws Exception {
    startServer(false);
    startClient(List.of("spiffe://cluster.local/ns/demo/sa/someone-else"), "istio");

    RawHttp.Response r = RawHttp.get(clientPort, "server", "/x");

    assertThat(r.status()).isEqualTo(503);
    assertThat(app.requestLines).isEmpty();
    assertThat(stat(client, "cluster." + OUTBOUND + ".ssl.fail_verify_san")).isEqualTo(1);
    assertThat(stat(client, "cluster." + OUTBOUND + ".ssl.connection_error")).isEqualTo(1);
    await(
        () -> {
          try {
            return Files.exists(clientLog) && Files.readString(clientLog).contains(" 503 UF ");
          } catch (IOException e) {
            return false;
          }
        });
    String line = Files.readString(clientLog);
    assertThat(line)
        .contains("upstream_reset_before_response_started{connection_failure,TLS_error:")
        .contains("\"TLS_error: peer certificate SANs [" + SERVER_ID + "]");
  }

  @Test
  void aClientCertificateFromAnotherCaIsRefused() throws Exception {
    startServer(true);
    TestPki.Ca other = TestPki.ca("evil.local");
    TestPki.Workload intruder = TestPki.workload(other, CLIENT_ID);

    assertThatThrownBy(() -> TlsHttp.get(serverPort, intruder, root, IstioTls.INBOUND_ALPN, "/x"))
        .isInstanceOf(IOException.class);
    assertThat(app.requestLines).isEmpty();
    String prefix = "listener.127.0.0.1_" + serverPort + ".ssl.";
    await(() -> stat(server, prefix + "connection_error") == 1);
    assertThat(stat(server, prefix + "fail_verify_error")).isEqualTo(1);

    // The same request with a certificate of the mesh's CA passes.
    TlsHttp.Result ok = TlsHttp.get(serverPort, clientCert, root, IstioTls.INBOUND_ALPN, "/x");
    assertThat(ok.status()).isEqualTo(200);
    assertThat(ok.serverCert()).isEqualTo(serverCert.cert());
    // Envoy fills x-forwarded-proto from the downstream connection: TLS is https.
    assertThat(app.lastHeaders).containsEntry("x-forwarded-proto", "https");
  }

  @Test
  void http2OverMutualTlsWithAlpnH2() throws Exception {
    assumeTrue(
        new ProcessBuilder("curl", "--version").start().waitFor() == 0, "curl is not installed");
    // A gateway-like TLS chain: DownstreamTlsContext with ALPN h2, http/1.1 and no ALPN match.
    var d =
        io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext.newBuilder()
            .setRequireClientCertificate(com.google.protobuf.BoolValue.of(true))
            .setCommonTlsContext(IstioTls.common(false, List.of(), List.of("h2", "http/1.1")))
            .build();
    serverAds.set(CDS, "c1", Xds.staticCluster(INBOUND, app.address()));
    serverAds.set(
        LDS,
        "l1",
        io.envoyproxy.envoy.config.listener.v3.Listener.newBuilder()
            .setName("127.0.0.1_" + serverPort)
            .setAddress(Xds.address("127.0.0.1", serverPort))
            .addFilterChains(
                io.envoyproxy.envoy.config.listener.v3.FilterChain.newBuilder()
                    .setFilterChainMatch(
                        io.envoyproxy.envoy.config.listener.v3.FilterChainMatch.newBuilder()
                            .setTransportProtocol("tls"))
                    .setTransportSocket(IstioTls.tls(d))
                    .addFilters(
                        io.envoyproxy.envoy.config.listener.v3.Filter.newBuilder()
                            .setName("envoy.filters.network.http_connection_manager")
                            .setTypedConfig(Any.pack(inboundHcm()))))
            .build());
    server = start(serverAds, "server", tmp.resolve("server.log"));
    server.secrets().register(TestPki.certificateSecret("default", serverCert));
    server.secrets().register(TestPki.rootSecret("ROOTCA", root));
    Path[] c = clientCert.write(tmp, "client");
    // curl offers ALPN h2 (the server's DownstreamTlsContext lists h2, http/1.1), presents the
    // workload certificate; -k because a SPIFFE certificate has no DNS name to check.
    Process p =
        new ProcessBuilder(
                "curl",
                "-sS",
                "-k",
                "--http2",
                "--cert",
                c[0].toString(),
                "--key",
                c[1].toString(),
                "-w",
                "\n%{http_version} %{response_code}",
                "https://127.0.0.1:" + serverPort + "/tls-h2")
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor()).isZero();
    assertThat(out).isEqualTo("app /tls-h2 0\n2 200");
    assertThat(app.lastHeaders).containsEntry("x-peer-uri", CLIENT_ID);
  }

  @Test
  void http2BetweenSidecarsOverMutualTls() throws Exception {
    startServer(false);
    startClient(List.of(SERVER_ID), "istio");
    // The client sidecar's cluster speaks HTTP/2 (as Istio makes it for an http2/grpc port):
    // mTLS with Istio's ALPN, then the HTTP/2 preface, which the server sidecar sniffs.
    clientAds.set(
        CDS, "c2", Xds.http2(IstioTls.autoMtlsCluster(OUTBOUND, List.of(SERVER_ID), true)));
    await(() -> clientAds.acked(CDS, "c2"));
    await(
        () -> {
          try {
            return RawHttp.get(clientPort, "server", "/h2-mtls").status() == 200
                && Files.readString(tmp.resolve("server.log")).contains("HTTP/2");
          } catch (IOException e) {
            return false;
          }
        });
    assertThat(app.lastHeaders)
        .containsEntry("x-peer-uri", CLIENT_ID)
        .containsEntry("x-security-policy", "mutual_tls");
  }

  /**
   * A shell command running {@code openssl s_client} against the server sidecar with the client
   * workload's certificate, the mesh's root and ALPN {@code istio-http/1.1}, plus {@code options};
   * its output (stdout and stderr) on stdout.
   */
  private String sClient(String options) throws IOException {
    Path[] c = clientCert.write(tmp, "client");
    Path ca = tmp.resolve("root.pem");
    Files.writeString(ca, root.certPem());
    return "openssl s_client -connect 127.0.0.1:"
        + serverPort
        + " "
        + options
        + " -alpn istio-http/1.1 -cert "
        + c[0]
        + " -key "
        + c[1]
        + " -CAfile "
        + ca
        + " -verify_return_error </dev/null 2>&1";
  }

  @Test
  void openSslClientSeesTheServerSpiffeIdentity() throws Exception {
    startServer(true);
    String cmd =
        sClient("")
            + " | tee "
            + tmp.resolve("s_client.txt")
            + " | openssl x509 -noout -ext subjectAltName 2>&1";
    Process p = new ProcessBuilder("sh", "-c", cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor()).isZero();
    String session = Files.readString(tmp.resolve("s_client.txt"));
    assertThat(out).contains("URI:" + SERVER_ID);
    assertThat(session).contains("Verify return code: 0 (ok)").contains("TLSv1.3");
  }

  @Test
  void theNegotiatedVersionAndCipherAreCountedAsEnvoyNamesThem() throws Exception {
    startServer(false);
    startClient(List.of(SERVER_ID), "istio");
    assertThat(RawHttp.get(clientPort, "server", "/hello").status()).isEqualTo(200);
    String cluster = "cluster." + OUTBOUND + ".ssl.";
    String listener = "listener.127.0.0.1_" + serverPort + ".ssl.";
    // Two BoringSSL peers, TLS 1.2-1.3 (Istio's ISTIO_MUTUAL): TLS 1.3, and with AES hardware
    // BoringSSL's first choice, AES-128-GCM.
    assertThat(stat(client, cluster + "versions.TLSv1.3")).isGreaterThanOrEqualTo(1);
    assertThat(stat(server, listener + "versions.TLSv1.3")).isGreaterThanOrEqualTo(1);
    assertThat(stat(client, cluster + "ciphers.TLS_AES_128_GCM_SHA256"))
        .as(statLines(client, ".ssl."))
        .isGreaterThanOrEqualTo(1);
    assertThat(stat(server, listener + "ciphers.TLS_AES_128_GCM_SHA256")).isGreaterThanOrEqualTo(1);

    // A TLS 1.2 peer (openssl s_client) that asks for AES-256: the name is OpenSSL's, as Envoy's.
    String cmd = sClient("-tls1_2 -cipher ECDHE-ECDSA-AES256-GCM-SHA384");
    Process p = new ProcessBuilder("sh", "-c", cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor()).as(out).isZero();
    assertThat(out).contains("ECDHE-ECDSA-AES256-GCM-SHA384");
    // The server counts its side of the handshake on its event loop: wait for it.
    await(() -> stat(server, listener + "versions.TLSv1.2") == 1);
    assertThat(stat(server, listener + "ciphers.ECDHE-ECDSA-AES256-GCM-SHA384")).isEqualTo(1);
  }

  @Test
  void secretRotationUnderAStreamOfRequestsDropsNone() throws Exception {
    startServer(false);
    startClient(List.of(SERVER_ID), "istio");
    AtomicBoolean stop = new AtomicBoolean();
    AtomicInteger ok = new AtomicInteger();
    List<String> failures = new CopyOnWriteArrayList<>();
    // Through the client sidecar (pooled upstream TLS connections)...
    Thread pooled =
        Thread.ofPlatform()
            .start(
                () -> {
                  while (!stop.get()) {
                    try {
                      RawHttp.Response r = RawHttp.get(clientPort, "server", "/pooled");
                      if (r.status() == 200) {
                        ok.incrementAndGet();
                      } else {
                        failures.add("pooled " + r.status() + " " + r.body());
                      }
                    } catch (IOException e) {
                      failures.add("pooled " + e);
                    }
                  }
                });
    // ...and a new mTLS connection per request straight to the server sidecar.
    List<TestPki.Workload> seen = new CopyOnWriteArrayList<>();
    Thread fresh =
        Thread.ofPlatform()
            .start(
                () -> {
                  while (!stop.get()) {
                    try {
                      TlsHttp.Result r =
                          TlsHttp.get(serverPort, clientCert, root, IstioTls.INBOUND_ALPN, "/new");
                      if (r.status() == 200) {
                        ok.incrementAndGet();
                      } else {
                        failures.add("fresh " + r.status());
                      }
                    } catch (IOException e) {
                      failures.add("fresh " + e);
                    }
                  }
                });
    try {
      TestPki.Workload latest = serverCert;
      for (int i = 0; i < 5; i++) {
        int before = ok.get();
        await(() -> ok.get() >= before + 10);
        latest = TestPki.workload(root, SERVER_ID);
        server.secrets().register(TestPki.certificateSecret("default", latest));
        // The client's certificate rotates over SDS.
        TestPki.Workload c = TestPki.workload(root, CLIENT_ID);
        clientAds.set(
            SDS,
            "s" + (i + 2),
            TestPki.certificateSecret("default", c),
            TestPki.rootSecret("ROOTCA", root));
      }
      int before = ok.get();
      await(() -> ok.get() >= before + 10);
      stop.set(true);
      pooled.join();
      fresh.join();
      assertThat(failures).isEmpty();
      // New connections get the newest certificate.
      TlsHttp.Result r = TlsHttp.get(serverPort, clientCert, root, IstioTls.INBOUND_ALPN, "/x");
      assertThat(r.serverCert()).isEqualTo(latest.cert());
    } finally {
      stop.set(true);
      pooled.join();
      fresh.join();
    }
  }

  @Test
  void aBadSecretOverAdsIsNackedAndTheGoodOneStays() throws Exception {
    startServer(false);
    startClient(List.of(SERVER_ID), "istio");
    io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret bad =
        TestPki.certificateSecret("default", clientCert).toBuilder()
            .setTlsCertificate(
                TestPki.certificateSecret("default", clientCert).getTlsCertificate().toBuilder()
                    .setPrivateKey(
                        io.envoyproxy.envoy.config.core.v3.DataSource.newBuilder()
                            .setInlineString("not a key")))
            .build();
    clientAds.set(SDS, "s-bad", bad, TestPki.rootSecret("ROOTCA", root));
    await(() -> clientAds.nacks().stream().anyMatch(n -> n.getTypeUrl().equals(SDS)));
    var nack = clientAds.nacks().stream().filter(n -> n.getTypeUrl().equals(SDS)).findFirst().get();
    assertThat(nack.getVersionInfo()).isEqualTo("s1");
    assertThat(nack.getErrorDetail().getMessage())
        .contains("secret default: private_key must be a PKCS#8 PEM key");
    // The accepted certificate keeps working.
    assertThat(RawHttp.get(clientPort, "server", "/after").status()).isEqualTo(200);
    assertThat(app.lastHeaders)
        .containsEntry("x-peer-principal", "cluster.local/ns/demo/sa/client");
  }

  @Test
  void anUpstreamSecretThatHasNotArrivedIsAnUpstreamConnectFailure() throws Exception {
    startServer(false);
    serveClient(List.of(SERVER_ID), "istio", false);
    client = start(clientAds, "client", clientLog);
    await(() -> clientAds.acked(EDS, "e1"));

    RawHttp.Response r = RawHttp.get(clientPort, "server", "/x");

    assertThat(r.status()).isEqualTo(503);
    assertThat(app.requestLines).isEmpty();
    await(
        () -> {
          try {
            return Files.exists(clientLog) && Files.readString(clientLog).contains(" 503 UF ");
          } catch (IOException e) {
            return false;
          }
        });
    assertThat(Files.readString(clientLog))
        .contains("\"TLS_error: secret default is not available yet\"");
    // Once SDS delivers, the same cluster works.
    clientAds.set(
        SDS,
        "s1",
        TestPki.certificateSecret("default", clientCert),
        TestPki.rootSecret("ROOTCA", root));
    await(() -> clientAds.acked(SDS, "s1"));
    assertThat(RawHttp.get(clientPort, "server", "/y").status()).isEqualTo(200);
  }

  @Test
  void sessionsResume() throws Exception {
    startServer(true);
    javax.net.ssl.SSLContext ctx = TlsHttp.context(clientCert, root);
    assertThat(TlsHttp.get(ctx, serverPort, IstioTls.INBOUND_ALPN, "/1").status()).isEqualTo(200);
    assertThat(TlsHttp.get(ctx, serverPort, IstioTls.INBOUND_ALPN, "/2").status()).isEqualTo(200);
    String prefix = "listener.127.0.0.1_" + serverPort + ".ssl.";
    await(() -> stat(server, prefix + "handshake") == 2);
    assertThat(stat(server, prefix + "session_reused")).isEqualTo(1);
    // The resumed session still carries the client's identity.
    assertThat(app.lastHeaders)
        .containsEntry("x-peer-principal", "cluster.local/ns/demo/sa/client");
  }

  @Test
  void aMissingSecretRefusesConnectionsUntilItArrives() throws Exception {
    serveServer(true);
    server = start(serverAds, "server", tmp.resolve("server.log"));
    server.secrets().register(TestPki.rootSecret("ROOTCA", root));
    // No "default" yet: the TLS chain cannot serve.
    assertThatThrownBy(() -> TlsHttp.get(serverPort, clientCert, root, IstioTls.INBOUND_ALPN, "/x"))
        .isInstanceOf(IOException.class);
    server.secrets().register(TestPki.certificateSecret("default", serverCert));
    assertThat(TlsHttp.get(serverPort, clientCert, root, IstioTls.INBOUND_ALPN, "/x").status())
        .isEqualTo(200);
  }
}
