package dev.weft.proxy.tcp;

import static dev.weft.proxy.testing.Conditions.await;
import static dev.weft.proxy.testing.TestAdsServer.CDS;
import static dev.weft.proxy.testing.TestAdsServer.LDS;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import com.google.protobuf.Duration;
import dev.weft.proxy.Proxy;
import dev.weft.proxy.ProxyBootstrap;
import dev.weft.proxy.testing.TestAdsServer;
import dev.weft.proxy.testing.Xds;
import dev.weft.xds.NodeId;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code envoy.filters.network.tcp_proxy} end to end over real sockets: a listener whose chain is a
 * TCP proxy to a static cluster, with plain blocking sockets on both sides (no Netty in the test's
 * client or server).
 */
class TcpProxyTest {
  static final String CLUSTER = "outbound|9000||echo.demo.svc.cluster.local";

  @TempDir Path tmp;
  TestAdsServer ads;
  Proxy proxy;
  int port;
  final List<AutoCloseable> closers = new ArrayList<>();

  @BeforeEach
  void setUp() throws IOException {
    ads = TestAdsServer.start();
    port = Xds.freePort();
  }

  @AfterEach
  void tearDown() throws Exception {
    for (AutoCloseable c : closers.reversed()) {
      c.close();
    }
    if (proxy != null) {
      proxy.close();
    }
    ads.close();
  }

  /**
   * The transport the proxy is asked to run on; null: the default ({@link TcpProxyOnIoUringTest}).
   */
  String transport() {
    return null;
  }

  /** A TCP echo server: each connection echoes until the client half-closes, then closes. */
  InetSocketAddress echoServer() throws IOException {
    ServerSocket ss = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
    closers.add(ss);
    Thread.ofVirtual()
        .start(
            () -> {
              while (!ss.isClosed()) {
                try {
                  Socket s = ss.accept();
                  closers.add(s);
                  Thread.ofVirtual()
                      .start(
                          () -> {
                            try (s) {
                              s.getInputStream().transferTo(s.getOutputStream());
                              s.shutdownOutput();
                            } catch (IOException e) {
                              // the client went away
                            }
                          });
                } catch (IOException e) {
                  return;
                }
              }
            });
    return (InetSocketAddress) ss.getLocalSocketAddress();
  }

  static Listener tcpListener(String name, int port, TcpProxy tcp) {
    return Listener.newBuilder()
        .setName(name)
        .setAddress(Xds.address("127.0.0.1", port))
        .addFilterChains(
            FilterChain.newBuilder()
                .addFilters(
                    Filter.newBuilder()
                        .setName("envoy.filters.network.tcp_proxy")
                        .setTypedConfig(Any.pack(tcp))))
        .build();
  }

  void start(TcpProxy tcp, InetSocketAddress... endpoints) throws IOException {
    ads.set(CDS, "c1", Xds.staticCluster(CLUSTER, endpoints));
    ads.set(LDS, "l1", tcpListener("127.0.0.1_" + port, port, tcp));
    proxy =
        Proxy.start(
            ProxyBootstrap.builder()
                .nodeId(new NodeId(NodeId.SIDECAR, "127.0.0.1", "app-v1", "demo"))
                .metadata(Map.of("NAMESPACE", "demo"))
                .xdsServer(new InetSocketAddress("127.0.0.1", ads.port()))
                .adminAddress(new InetSocketAddress("127.0.0.1", 0))
                .transport(transport())
                .accessLogPath(tmp.resolve("access.log"))
                .build());
    assertThat(proxy.awaitReady(java.time.Duration.ofSeconds(10)))
        .as("%s", proxy.failure())
        .isTrue();
  }

  static TcpProxy.Builder tcp() {
    return TcpProxy.newBuilder().setStatPrefix(CLUSTER).setCluster(CLUSTER);
  }

  Socket connect() throws IOException {
    Socket s = new Socket("127.0.0.1", port);
    s.setSoTimeout(20_000);
    closers.add(s);
    return s;
  }

  long stat(String name) throws Exception {
    try (HttpClient c = HttpClient.newHttpClient()) {
      String body =
          c.send(
                  HttpRequest.newBuilder(
                          URI.create(
                              "http://127.0.0.1:" + proxy.adminAddress().getPort() + "/stats"))
                      .build(),
                  HttpResponse.BodyHandlers.ofString())
              .body();
      for (String line : body.split("\n")) {
        if (line.startsWith(name + ": ")) {
          return Long.parseLong(line.substring(name.length() + 2).trim());
        }
      }
      return -1;
    }
  }

  @Test
  void echoesBytesBothWaysAndPassesTheHalfCloseOn() throws Exception {
    start(tcp().build(), echoServer());
    byte[] payload = new byte[1 << 20];
    for (int i = 0; i < payload.length; i++) {
      payload[i] = (byte) (i * 31);
    }
    try (Socket s = connect()) {
      Thread writer =
          Thread.ofVirtual()
              .start(
                  () -> {
                    try {
                      s.getOutputStream().write(payload);
                      // The client's FIN must reach the echo server through the proxy, whose
                      // answer (its own FIN after the echo) comes back: Envoy's half-close.
                      s.shutdownOutput();
                    } catch (IOException e) {
                      throw new java.io.UncheckedIOException(e);
                    }
                  });
      byte[] echoed = s.getInputStream().readAllBytes();
      writer.join();
      assertThat(echoed).isEqualTo(payload);
    }
    String p = "tcp." + CLUSTER + ".";
    await(() -> statQuietly(p + "downstream_cx_tx_bytes_total") == payload.length);
    assertThat(stat(p + "downstream_cx_rx_bytes_total")).isEqualTo(payload.length);
    assertThat(stat(p + "downstream_cx_total")).isEqualTo(1);
  }

  /** Istio's TCP metrics from the TCP proxy's hook, beside Envoy's cluster connection stats. */
  @Test
  void istioTcpMetricsCountConnectionsAndBytes() throws Exception {
    start(tcp().build(), echoServer());
    byte[] payload = "hello, mesh\n".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    for (int i = 0; i < 2; i++) {
      try (Socket s = connect()) {
        s.getOutputStream().write(payload);
        s.shutdownOutput();
        assertThat(s.getInputStream().readAllBytes()).isEqualTo(payload);
      }
    }
    String labels = "{reporter=\"source\",source_workload=\"app-v1\",";
    await(
        () -> {
          String m = prometheusQuietly();
          return m.contains("istio_tcp_connections_closed_total" + labels)
              && line(m, "istio_tcp_connections_closed_total").endsWith(" 2");
        });
    String m = prometheusQuietly();
    assertThat(line(m, "istio_tcp_connections_opened_total")).endsWith(" 2");
    assertThat(line(m, "istio_tcp_received_bytes_total")).endsWith(" " + 2 * payload.length);
    assertThat(line(m, "istio_tcp_sent_bytes_total")).endsWith(" " + 2 * payload.length);
    assertThat(line(m, "istio_tcp_sent_bytes_total"))
        .contains("request_protocol=\"tcp\"")
        .contains("destination_service=\"echo.demo.svc.cluster.local\"")
        .doesNotContain("response_code");
    assertThat(m).contains("envoy_cluster_upstream_cx_total{cluster_name=\"" + CLUSTER + "\"} 2");
    assertThat(m).contains("envoy_cluster_upstream_cx_active{cluster_name=\"" + CLUSTER + "\"} 0");
  }

  /**
   * Istio's istio.stats network filter before the TCP proxy carries the Telemetry API's overrides
   * of the TCP metrics: a dropped metric is not reported, an upserted tag is added.
   */
  @Test
  void istioStatsBeforeTheTcpProxyOverridesTheTcpMetrics() throws Exception {
    ads.set(CDS, "c1", Xds.staticCluster(CLUSTER, echoServer()));
    com.google.protobuf.Value drop =
        com.google.protobuf.Value.newBuilder().setBoolValue(true).build();
    com.google.protobuf.Struct config =
        com.google.protobuf.Struct.newBuilder()
            .putFields(
                "metrics",
                com.google.protobuf.Value.newBuilder()
                    .setListValue(
                        com.google.protobuf.ListValue.newBuilder()
                            .addValues(
                                com.google.protobuf.Value.newBuilder()
                                    .setStructValue(
                                        com.google.protobuf.Struct.newBuilder()
                                            .putFields("name", str("tcp_sent_bytes_total"))
                                            .putFields("drop", drop)))
                            .addValues(
                                com.google.protobuf.Value.newBuilder()
                                    .setStructValue(
                                        com.google.protobuf.Struct.newBuilder()
                                            .putFields("name", str("tcp_connections_opened_total"))
                                            .putFields(
                                                "dimensions",
                                                com.google.protobuf.Value.newBuilder()
                                                    .setStructValue(
                                                        com.google.protobuf.Struct.newBuilder()
                                                            .putFields("team", str("'payments'")))
                                                    .build()))))
                    .build())
            .build();
    Filter stats =
        Filter.newBuilder()
            .setName("istio.stats")
            .setTypedConfig(
                Any.pack(
                    com.github.xds.type.v3.TypedStruct.newBuilder()
                        .setTypeUrl("type.googleapis.com/stats.PluginConfig")
                        .setValue(config)
                        .build()))
            .build();
    startWith(rbacListener("127.0.0.1_" + port, port, stats, FilterChain.newBuilder()));
    try (Socket s = connect()) {
      assertThat(echo(s, "hi")).isEqualTo("hi");
    }
    await(() -> line(prometheusQuietly(), "istio_tcp_connections_closed_total").endsWith(" 1"));
    String m = prometheusQuietly();
    assertThat(line(m, "istio_tcp_connections_opened_total"))
        .contains("request_protocol=\"tcp\"")
        .endsWith(",team=\"payments\"} 1");
    assertThat(line(m, "istio_tcp_received_bytes_total")).doesNotContain("team=").endsWith(" 2");
    assertThat(line(m, "istio_tcp_sent_bytes_total")).isEmpty();
  }

  private static com.google.protobuf.Value str(String v) {
    return com.google.protobuf.Value.newBuilder().setStringValue(v).build();
  }

  private static String line(String metrics, String name) {
    for (String l : metrics.split("\n")) {
      if (l.startsWith(name + "{")) {
        return l;
      }
    }
    return "";
  }

  private String prometheusQuietly() {
    try (HttpClient c = HttpClient.newHttpClient()) {
      return c.send(
              HttpRequest.newBuilder(
                      URI.create(
                          "http://127.0.0.1:"
                              + proxy.adminAddress().getPort()
                              + "/stats/prometheus"))
                  .build(),
              HttpResponse.BodyHandlers.ofString())
          .body();
    } catch (Exception e) {
      return "";
    }
  }

  @Test
  void serverFirstProtocolsWorkAndTheUpstreamCloseReachesTheClient() throws Exception {
    // A server that speaks first (as MySQL or SMTP do) and then closes.
    ServerSocket ss = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
    closers.add(ss);
    Thread.ofVirtual()
        .start(
            () -> {
              try (Socket s = ss.accept()) {
                s.getOutputStream().write("220 hello\r\n".getBytes(StandardCharsets.US_ASCII));
              } catch (IOException e) {
                // test over
              }
            });
    start(tcp().build(), (InetSocketAddress) ss.getLocalSocketAddress());
    try (Socket s = connect()) {
      assertThat(new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII))
          .isEqualTo("220 hello\r\n");
    }
  }

  @Test
  void idleTimeoutClosesAQuietConnection() throws Exception {
    start(tcp().setIdleTimeout(Duration.newBuilder().setNanos(300_000_000)).build(), echoServer());
    try (Socket s = connect()) {
      OutputStream out = s.getOutputStream();
      InputStream in = s.getInputStream();
      out.write("ping".getBytes(StandardCharsets.US_ASCII));
      assertThat(in.readNBytes(4)).isEqualTo("ping".getBytes(StandardCharsets.US_ASCII));
      // Then nothing either way: the proxy closes both sides.
      assertThat(in.read()).isEqualTo(-1);
    }
    assertThat(stat("tcp." + CLUSTER + ".idle_timeout")).isEqualTo(1);
  }

  @Test
  void aClusterWithoutEndpointsClosesTheConnection() throws Exception {
    start(tcp().build());
    try (Socket s = connect()) {
      assertThat(s.getInputStream().read()).isEqualTo(-1);
    }
    assertThat(stat("tcp." + CLUSTER + ".downstream_cx_no_route")).isEqualTo(1);
  }

  @Test
  void aSlowReaderHoldsTheWriterBackInsteadOfFillingTheProxy() throws Exception {
    // The upstream accepts but does not read until told to.
    ServerSocket ss = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
    closers.add(ss);
    start(tcp().build(), (InetSocketAddress) ss.getLocalSocketAddress());
    long total = 256L << 20; // far above every socket buffer and Netty's water marks on the way
    AtomicLong written = new AtomicLong();
    try (Socket s = connect()) {
      Socket app = ss.accept();
      closers.add(app);
      Thread writer =
          Thread.ofVirtual()
              .start(
                  () -> {
                    byte[] chunk = new byte[64 * 1024];
                    try {
                      OutputStream out = s.getOutputStream();
                      while (written.get() < total) {
                        out.write(chunk);
                        written.addAndGet(chunk.length);
                      }
                      s.shutdownOutput();
                    } catch (IOException e) {
                      // reported by the assertions below
                    }
                  });
      // Wait until the writer is stuck (its count stops moving); a proxy that buffered without
      // bound would let it write everything.
      long last = -1;
      long deadline = System.nanoTime() + java.time.Duration.ofSeconds(60).toNanos();
      int still = 0;
      while (still < 50 && System.nanoTime() < deadline && writer.isAlive()) {
        Thread.sleep(20); // polling interval
        long now = written.get();
        still = now == last ? still + 1 : 0;
        last = now;
      }
      assertThat(writer.isAlive())
          .as("the writer finished: the proxy buffered everything")
          .isTrue();
      assertThat(written.get()).isLessThan(total);
      // Now the app reads: every byte arrives, in order of count, and the writer finishes.
      long read = 0;
      byte[] buf = new byte[64 * 1024];
      InputStream in = app.getInputStream();
      int n;
      while ((n = in.read(buf)) >= 0) {
        read += n;
      }
      writer.join();
      assertThat(read).isEqualTo(total);
    }
  }

  /**
   * Several connections at once, each echoing many MiB of a pattern in which every 8-byte word
   * names its connection and its index, read back slowly so the proxy's water marks and autoRead
   * toggle on both directions: every byte must come back in place. On a mismatch the message says
   * where the first wrong word came from (repeated, skipped, another connection's).
   */
  @Test
  void concurrentEchoesUnderBackpressureComeBackByteExact() throws Exception {
    start(tcp().build(), echoServer());
    int connections = Integer.getInteger("weft.test.tcpStress.connections", 4);
    int words = Integer.getInteger("weft.test.tcpStress.mib", 8) << 17; // 8-byte words
    List<java.util.concurrent.Future<String>> results = new ArrayList<>();
    try (var pool = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
      for (int c = 0; c < connections; c++) {
        int id = c + 1;
        results.add(pool.submit(() -> patternEcho(id, words)));
      }
      List<String> wrong = new ArrayList<>();
      for (var r : results) {
        if (!r.get().isEmpty()) {
          wrong.add(r.get());
        }
      }
      assertThat(wrong).as("%s", debugStats()).isEmpty();
    }
  }

  String debugStats() {
    try (HttpClient c = HttpClient.newHttpClient()) {
      return c.send(
              HttpRequest.newBuilder(
                      URI.create("http://127.0.0.1:" + proxy.adminAddress().getPort() + "/stats"))
                  .build(),
              HttpResponse.BodyHandlers.ofString())
          .body()
          .lines()
          .filter(l -> l.startsWith("tcp.") || l.contains("cx_") && !l.endsWith(": 0"))
          .collect(java.util.stream.Collectors.joining("\n"));
    } catch (Exception e) {
      return e.toString();
    }
  }

  /** The pattern's word {@code index} of connection {@code id}. */
  static long patternWord(int id, long index) {
    return ((long) id << 40) | index;
  }

  /** Echoes {@code words} pattern words of connection {@code id}; "" or where they differ. */
  String patternEcho(int id, int words) throws Exception {
    try (Socket s = connect()) {
      Thread writer =
          Thread.ofVirtual()
              .start(
                  () -> {
                    try {
                      OutputStream out = s.getOutputStream();
                      java.nio.ByteBuffer chunk = java.nio.ByteBuffer.allocate(8 * 4096);
                      for (long i = 0; i < words; ) {
                        chunk.clear();
                        for (int k = 0; k < 4096 && i < words; k++, i++) {
                          chunk.putLong(patternWord(id, i));
                        }
                        out.write(chunk.array(), 0, chunk.position());
                      }
                      s.shutdownOutput();
                    } catch (IOException e) {
                      // the reader reports it
                    }
                  });
      InputStream in = new java.io.BufferedInputStream(s.getInputStream(), 1024);
      java.io.DataInputStream data = new java.io.DataInputStream(in);
      String result = "";
      for (long i = 0; i < words; i++) {
        long got;
        try {
          got = data.readLong();
        } catch (java.io.EOFException e) {
          result = "connection " + id + ": short, ended at word " + i + " of " + words;
          break;
        }
        if (got != patternWord(id, i)) {
          result =
              "connection "
                  + id
                  + ": word "
                  + i
                  + " (byte "
                  + (i * 8)
                  + ") is 0x"
                  + Long.toHexString(got)
                  + " = connection "
                  + (got >>> 40)
                  + " word "
                  + (got & ((1L << 40) - 1));
          break;
        }
        if ((i & 4095) == 0) {
          // A slow reader: the echo backs up through the proxy in both directions.
          java.util.concurrent.locks.LockSupport.parkNanos(200_000);
        }
      }
      if (result.isEmpty() && in.read() != -1) {
        result = "connection " + id + ": more bytes than were sent";
      }
      s.close();
      writer.join();
      return result;
    }
  }

  long statQuietly(String name) {
    try {
      return stat(name);
    } catch (Exception e) {
      return -2;
    }
  }

  @Test
  void theCompilerTakesTcpProxyFieldsItHonoursAndNacksTheRest() throws Exception {
    dev.weft.proxy.xds.resource.ConfigCompiler compiler =
        new dev.weft.proxy.xds.resource.ConfigCompiler(new dev.weft.proxy.stats.ProxyStats());
    TcpProxy weighted =
        TcpProxy.newBuilder()
            .setStatPrefix("p")
            .setWeightedClusters(
                TcpProxy.WeightedCluster.newBuilder()
                    .addClusters(
                        TcpProxy.WeightedCluster.ClusterWeight.newBuilder()
                            .setName("a")
                            .setWeight(80))
                    .addClusters(
                        TcpProxy.WeightedCluster.ClusterWeight.newBuilder()
                            .setName("b")
                            .setWeight(20)))
            .build();
    dev.weft.proxy.config.TcpProxyConfig t =
        (dev.weft.proxy.config.TcpProxyConfig)
            compiler
                .listener(tcpListener("l", 9000, weighted))
                .filterChains()
                .get(0)
                .networkFilter();
    assertThat(t.totalWeight()).isEqualTo(100);
    assertThat(t.cluster(0)).isEqualTo("a");
    assertThat(t.cluster(79)).isEqualTo("a");
    assertThat(t.cluster(80)).isEqualTo("b");
    assertThat(t.cluster(99)).isEqualTo("b");
    assertThat(t.idleTimeoutMillis()).isEqualTo(3_600_000);

    for (TcpProxy bad :
        List.of(
            TcpProxy.newBuilder().setCluster("c").build(), // no stat_prefix
            TcpProxy.newBuilder().setStatPrefix("p").build(), // no cluster
            tcp()
                .addAccessLog(
                    io.envoyproxy.envoy.config.accesslog.v3.AccessLog.getDefaultInstance())
                .build(),
            tcp().setMaxConnectAttempts(com.google.protobuf.UInt32Value.of(3)).build(),
            tcp().setIdleTimeout(Duration.newBuilder().setSeconds(-1)).build())) {
      org.assertj.core.api.Assertions.assertThatThrownBy(
              () -> compiler.listener(tcpListener("l", 9000, bad)))
          .isInstanceOf(dev.weft.proxy.config.InvalidResourceException.class)
          .hasMessageContaining("envoy.filters.network.tcp_proxy");
    }
  }

  // ------------------------------------------------------------------ network RBAC

  /** A TCP echo server counting the connections it accepted. */
  InetSocketAddress countingEcho(AtomicLong accepted) throws IOException {
    ServerSocket ss = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
    closers.add(ss);
    Thread.ofVirtual()
        .start(
            () -> {
              while (!ss.isClosed()) {
                try {
                  Socket s = ss.accept();
                  accepted.incrementAndGet();
                  closers.add(s);
                  Thread.ofVirtual()
                      .start(
                          () -> {
                            try (s) {
                              s.getInputStream().transferTo(s.getOutputStream());
                              s.shutdownOutput();
                            } catch (IOException e) {
                              // the client went away
                            }
                          });
                } catch (IOException e) {
                  return;
                }
              }
            });
    return (InetSocketAddress) ss.getLocalSocketAddress();
  }

  /** {@code envoy.filters.network.rbac} with one policy: any permission, {@code id}. */
  static Filter networkRbac(
      io.envoyproxy.envoy.config.rbac.v3.RBAC.Action action,
      io.envoyproxy.envoy.config.rbac.v3.Principal id) {
    return Filter.newBuilder()
        .setName("envoy.filters.network.rbac")
        .setTypedConfig(
            Any.pack(
                io.envoyproxy
                    .envoy
                    .extensions
                    .filters
                    .network
                    .rbac
                    .v3
                    .RBAC
                    .newBuilder()
                    .setStatPrefix("tcp.")
                    .setRules(
                        io.envoyproxy
                            .envoy
                            .config
                            .rbac
                            .v3
                            .RBAC
                            .newBuilder()
                            .setAction(action)
                            .putPolicies(
                                "ns[demo]-policy[p]-rule[0]",
                                io.envoyproxy.envoy.config.rbac.v3.Policy.newBuilder()
                                    .addPermissions(
                                        io.envoyproxy.envoy.config.rbac.v3.Permission.newBuilder()
                                            .setAny(true))
                                    .addPrincipals(id)
                                    .build()))
                    .build()))
        .build();
  }

  static io.envoyproxy.envoy.config.rbac.v3.Principal sourceIp(String ip) {
    return io.envoyproxy.envoy.config.rbac.v3.Principal.newBuilder()
        .setDirectRemoteIp(
            io.envoyproxy.envoy.config.core.v3.CidrRange.newBuilder()
                .setAddressPrefix(ip)
                .setPrefixLen(com.google.protobuf.UInt32Value.of(32)))
        .build();
  }

  static Listener rbacListener(String name, int port, Filter rbac, FilterChain.Builder chain) {
    return Listener.newBuilder()
        .setName(name)
        .setAddress(Xds.address("127.0.0.1", port))
        .addFilterChains(
            chain
                .addFilters(rbac)
                .addFilters(
                    Filter.newBuilder()
                        .setName("envoy.filters.network.tcp_proxy")
                        .setTypedConfig(Any.pack(tcp().build()))))
        .build();
  }

  Proxy startWith(Listener... listeners) throws IOException {
    ads.set(LDS, "l1", (com.google.protobuf.Message[]) listeners);
    proxy =
        Proxy.start(
            ProxyBootstrap.builder()
                .nodeId(new NodeId(NodeId.SIDECAR, "127.0.0.1", "app-v1", "demo"))
                .metadata(Map.of("NAMESPACE", "demo"))
                .xdsServer(new InetSocketAddress("127.0.0.1", ads.port()))
                .adminAddress(new InetSocketAddress("127.0.0.1", 0))
                .transport(transport())
                .accessLogPath(tmp.resolve("access.log"))
                .build());
    assertThat(proxy.awaitReady(java.time.Duration.ofSeconds(10)))
        .as("%s", proxy.failure())
        .isTrue();
    return proxy;
  }

  /** Reads until end of stream or a reset; true when the peer closed without sending anything. */
  static boolean closedWithoutData(Socket s) {
    try {
      return s.getInputStream().read() == -1;
    } catch (IOException e) {
      return true; // reset by the proxy
    }
  }

  static String echo(Socket s, String text) throws IOException {
    OutputStream out = s.getOutputStream();
    out.write(text.getBytes(StandardCharsets.UTF_8));
    out.flush();
    byte[] buf = s.getInputStream().readNBytes(text.length());
    return new String(buf, StandardCharsets.UTF_8);
  }

  @Test
  void networkRbacClosesADeniedSourceIpWithoutReachingTheUpstream() throws Exception {
    AtomicLong accepted = new AtomicLong();
    InetSocketAddress echo = countingEcho(accepted);
    ads.set(CDS, "c1", Xds.staticCluster(CLUSTER, echo));
    int allowPort = Xds.freePort();
    startWith(
        rbacListener(
            "127.0.0.1_" + port,
            port,
            networkRbac(io.envoyproxy.envoy.config.rbac.v3.RBAC.Action.DENY, sourceIp("127.0.0.1")),
            FilterChain.newBuilder()),
        rbacListener(
            "127.0.0.1_" + allowPort,
            allowPort,
            networkRbac(io.envoyproxy.envoy.config.rbac.v3.RBAC.Action.DENY, sourceIp("10.9.9.9")),
            FilterChain.newBuilder()));
    Socket denied = connect();
    denied.getOutputStream().write("hello".getBytes(StandardCharsets.UTF_8));
    assertThat(closedWithoutData(denied)).isTrue();
    assertThat(stat("tcp.rbac.denied")).isEqualTo(1);

    Socket allowed = new Socket("127.0.0.1", allowPort);
    allowed.setSoTimeout(20_000);
    closers.add(allowed);
    assertThat(echo(allowed, "hello")).isEqualTo("hello");
    assertThat(stat("tcp.rbac.allowed")).isEqualTo(1);
    // Only the allowed connection reached the upstream.
    assertThat(accepted.get()).isEqualTo(1);
  }

  @Test
  void networkRbacAllowsAnMtlsPeerByPrincipalAndClosesAnother() throws Exception {
    dev.weft.proxy.testing.TestPki.Ca root = dev.weft.proxy.testing.TestPki.ca("cluster.local");
    var serverCert =
        dev.weft.proxy.testing.TestPki.workload(root, "spiffe://cluster.local/ns/demo/sa/server");
    var good =
        dev.weft.proxy.testing.TestPki.workload(root, "spiffe://cluster.local/ns/demo/sa/client");
    var bad = dev.weft.proxy.testing.TestPki.workload(root, "spiffe://cluster.local/ns/other/sa/x");
    AtomicLong accepted = new AtomicLong();
    InetSocketAddress echo = countingEcho(accepted);
    ads.set(CDS, "c1", Xds.staticCluster(CLUSTER, echo));
    var downstream =
        io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext.newBuilder()
            .setRequireClientCertificate(com.google.protobuf.BoolValue.of(true))
            .setCommonTlsContext(
                dev.weft.proxy.testing.IstioTls.common(false, List.of(), List.of()))
            .build();
    io.envoyproxy.envoy.config.rbac.v3.Principal principal =
        io.envoyproxy.envoy.config.rbac.v3.Principal.newBuilder()
            .setAuthenticated(
                io.envoyproxy.envoy.config.rbac.v3.Principal.Authenticated.newBuilder()
                    .setPrincipalName(
                        io.envoyproxy.envoy.type.matcher.v3.StringMatcher.newBuilder()
                            .setExact("spiffe://cluster.local/ns/demo/sa/client")))
            .build();
    startWith(
        rbacListener(
            "127.0.0.1_" + port,
            port,
            networkRbac(io.envoyproxy.envoy.config.rbac.v3.RBAC.Action.ALLOW, principal),
            FilterChain.newBuilder()
                .setTransportSocket(dev.weft.proxy.testing.IstioTls.tls(downstream))));
    proxy
        .secrets()
        .register(dev.weft.proxy.testing.TestPki.certificateSecret("default", serverCert));
    proxy.secrets().register(dev.weft.proxy.testing.TestPki.rootSecret("ROOTCA", root));

    try (Socket s =
        dev.weft.proxy.testing.TlsHttp.context(good, root)
            .getSocketFactory()
            .createSocket("127.0.0.1", port)) {
      s.setSoTimeout(20_000);
      assertThat(echo(s, "hello")).isEqualTo("hello");
    }
    try (Socket s =
        dev.weft.proxy.testing.TlsHttp.context(bad, root)
            .getSocketFactory()
            .createSocket("127.0.0.1", port)) {
      s.setSoTimeout(20_000);
      s.getOutputStream().write("hello".getBytes(StandardCharsets.UTF_8));
      s.getOutputStream().flush();
      assertThat(closedWithoutData(s)).isTrue();
    }
    assertThat(stat("tcp.rbac.allowed")).isEqualTo(1);
    assertThat(stat("tcp.rbac.denied")).isEqualTo(1);
    assertThat(accepted.get()).isEqualTo(1);
  }
}
