package dev.weft.proxy.stats;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Struct;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.Test;

class IstioTelemetryTest {
  private static final PeerMetadata CLIENT =
      PeerMetadata.ofNode(
          Map.of(
              "NAME", "sleep-abc",
              "NAMESPACE", "shop",
              "WORKLOAD_NAME", "sleep",
              "SERVICE_ACCOUNT", "sleep",
              "LABELS", Map.of("app", "sleep", "version", "v7")),
          "x",
          "y");
  private static final PeerMetadata SERVER =
      PeerMetadata.ofNode(
          Map.of(
              "NAME", "podinfo-v1",
              "NAMESPACE", "demo",
              "SERVICE_ACCOUNT", "podinfo",
              "CLUSTER_ID", "east",
              "LABELS",
                  Map.of(
                      "app", "podinfo",
                      "version", "v1",
                      "service.istio.io/canonical-name", "podinfo-canonical")),
          "x",
          "y");

  @Test
  void nodeMetadataTravelsAsBase64ProtobufStructWithIstioKeys() throws Exception {
    Struct s = Struct.parseFrom(Base64.getDecoder().decode(CLIENT.headerValue()));
    assertThat(s.getFieldsOrThrow("NAME").getStringValue()).isEqualTo("sleep-abc");
    assertThat(s.getFieldsOrThrow("NAMESPACE").getStringValue()).isEqualTo("shop");
    assertThat(s.getFieldsOrThrow("WORKLOAD_NAME").getStringValue()).isEqualTo("sleep");
    assertThat(
            s.getFieldsOrThrow("LABELS").getStructValue().getFieldsOrThrow("app").getStringValue())
        .isEqualTo("sleep");

    PeerMetadata back = PeerMetadata.decode(SERVER.headerValue());
    assertThat(back).isEqualTo(SERVER);
    assertThat(back.workload()).isEqualTo("podinfo-v1"); // WORKLOAD_NAME absent: NAME
    assertThat(back.canonicalService()).isEqualTo("podinfo-canonical");
    assertThat(back.canonicalRevision()).isEqualTo("v1");
    assertThat(back.clusterId()).isEqualTo("east");
    assertThat(CLIENT.clusterId()).isEqualTo("Kubernetes");
    assertThat(CLIENT.canonicalService()).isEqualTo("sleep");
  }

  @Test
  void unreadablePeerMetadataIsUnknownAndCountedNotThrown() {
    IstioTelemetry t = new IstioTelemetry(SERVER, "sidecar~1~podinfo-v1.demo~demo", true);
    assertThat(t.peer("%%% not base64")).isSameAs(PeerMetadata.UNKNOWN);
    assertThat(t.peer(Base64.getEncoder().encodeToString(new byte[] {(byte) 0xff, 1, 2})))
        .isSameAs(PeerMetadata.UNKNOWN);
    assertThat(t.badPeerMetadata.sum()).isEqualTo(2);
    // A good value is decoded once and interned.
    assertThat(t.peer(CLIENT.headerValue())).isSameAs(t.peer(CLIENT.headerValue()));
  }

  @Test
  void sourceSendsItsOwnAndReadsAndStripsTheServers() {
    IstioTelemetry client =
        new IstioTelemetry(CLIENT, "sidecar~10.0.0.1~sleep-abc.shop~shop", true);
    IstioTelemetry server =
        new IstioTelemetry(SERVER, "sidecar~10.0.0.2~podinfo-v1.demo~demo", true);

    HttpHeaders request = new DefaultHttpHeaders();
    request.set(IstioTelemetry.PEER_METADATA, "forged by the app");
    assertThat(client.onUpstreamRequest(request, false)).isNull();
    assertThat(request.get(IstioTelemetry.PEER_METADATA)).isEqualTo(CLIENT.headerValue());
    assertThat(request.get(IstioTelemetry.PEER_METADATA_ID))
        .isEqualTo("sidecar~10.0.0.1~sleep-abc.shop~shop");

    // The server's sidecar takes them off before its app sees the request.
    PeerMetadata downstream = server.onUpstreamRequest(request, true);
    assertThat(downstream).isEqualTo(CLIENT);
    assertThat(request.contains(IstioTelemetry.PEER_METADATA)).isFalse();
    assertThat(request.contains(IstioTelemetry.PEER_METADATA_ID)).isFalse();

    HttpHeaders response = new DefaultHttpHeaders();
    assertThat(server.onUpstreamResponse(response, true, downstream)).isNull();
    assertThat(response.get(IstioTelemetry.PEER_METADATA)).isEqualTo(SERVER.headerValue());
    HttpHeaders noPeer = new DefaultHttpHeaders();
    server.onUpstreamResponse(noPeer, true, null);
    assertThat(noPeer.isEmpty()).as("a client outside the mesh learns nothing").isTrue();

    assertThat(client.onUpstreamResponse(response, false, null)).isEqualTo(SERVER);
    assertThat(response.contains(IstioTelemetry.PEER_METADATA)).isFalse();
    assertThat(response.contains(IstioTelemetry.PEER_METADATA_ID)).isFalse();
  }

  @Test
  void disabledTelemetryExchangesAndRecordsNothing() {
    IstioTelemetry off = new IstioTelemetry(CLIENT, "id", false);
    HttpHeaders h = new DefaultHttpHeaders();
    off.onUpstreamRequest(h, false);
    assertThat(h.isEmpty()).isTrue();
    ProxyStats stats = new ProxyStats();
    stats.telemetry(off);
    ClusterStats c = stats.cluster("outbound|80||podinfo.demo.svc.cluster.local");
    off.record(c, null, null, false, null, 200, "-", 1, 0, 0);
    assertThat(stats.prometheus()).doesNotContain("istio_requests_total{");
  }

  @Test
  void destinationSideLabelsComeFromThePeerTheMtlsIdentityAndTheAuthority() {
    ProxyStats stats = new ProxyStats();
    IstioTelemetry t = new IstioTelemetry(SERVER, "id", true);
    stats.telemetry(t);
    ClusterStats inbound = stats.cluster("inbound|9898||");
    PeerMetadata peer = t.peer(CLIENT.headerValue());
    String san = "spiffe://cluster.local/ns/shop/sa/sleep";
    t.record(inbound, peer, san, true, "podinfo.demo:9898", 200, "-", 3, 10, 2000);
    t.record(inbound, peer, san, true, "podinfo.demo:9898", 200, "-", 700, 0, 20);
    String prom = stats.prometheus();
    String labels =
        "reporter=\"destination\",source_workload=\"sleep\",source_canonical_service=\"sleep\","
            + "source_canonical_revision=\"v7\",source_workload_namespace=\"shop\","
            + "source_principal=\"spiffe://cluster.local/ns/shop/sa/sleep\",source_app=\"sleep\","
            + "source_version=\"v7\",source_cluster=\"Kubernetes\","
            + "destination_workload=\"podinfo-v1\",destination_workload_namespace=\"demo\","
            + "destination_principal=\"spiffe://cluster.local/ns/demo/sa/podinfo\","
            + "destination_app=\"podinfo\",destination_version=\"v1\","
            + "destination_service=\"podinfo.demo.svc.cluster.local\","
            + "destination_canonical_service=\"podinfo-canonical\","
            + "destination_canonical_revision=\"v1\",destination_service_name=\"podinfo\","
            + "destination_service_namespace=\"demo\",destination_cluster=\"east\","
            + "request_protocol=\"http\",response_code=\"200\",grpc_response_status=\"\","
            + "response_flags=\"-\",connection_security_policy=\"mutual_tls\"";
    assertThat(prom)
        .contains("istio_requests_total{" + labels + "} 2\n")
        .contains("istio_request_duration_milliseconds_bucket{" + labels + ",le=\"1\"} 0\n")
        .contains("istio_request_duration_milliseconds_bucket{" + labels + ",le=\"5\"} 1\n")
        .contains("istio_request_duration_milliseconds_bucket{" + labels + ",le=\"500\"} 1\n")
        .contains("istio_request_duration_milliseconds_bucket{" + labels + ",le=\"1000\"} 2\n")
        .contains("istio_request_duration_milliseconds_bucket{" + labels + ",le=\"+Inf\"} 2\n")
        .contains("istio_request_duration_milliseconds_sum{" + labels + "} 703\n")
        .contains("istio_request_duration_milliseconds_count{" + labels + "} 2\n")
        .contains("istio_request_bytes_sum{" + labels + "} 10\n")
        .contains("istio_response_bytes_bucket{" + labels + ",le=\"25\"} 1\n")
        .contains("istio_response_bytes_sum{" + labels + "} 2020\n")
        .contains("# TYPE istio_request_duration_milliseconds histogram\n");
    assertThat(inbound.istio).hasSize(1);
    // A plaintext request from outside the mesh is its own series, with unknown source; an
    // address names no service and the cluster has no istio.services metadata: Istio's
    // istio_stats falls back to the destination's canonical service.
    t.record(inbound, null, null, false, "10.1.2.3:9898", 503, "UF", 1, 0, 0);
    assertThat(stats.prometheus())
        .contains(
            "istio_requests_total{reporter=\"destination\",source_workload=\"unknown\","
                + "source_canonical_service=\"unknown\"")
        .contains(
            "destination_service=\"podinfo-canonical\","
                + "destination_canonical_service=\"podinfo-canonical\","
                + "destination_canonical_revision=\"v1\","
                + "destination_service_name=\"podinfo-canonical\"")
        .contains(
            "response_code=\"503\",grpc_response_status=\"\",response_flags=\"UF\","
                + "connection_security_policy=\"none\"} 1");
  }

  @Test
  void grpcRequestsAreLabelledWithTheirProtocolAndStatus() {
    ProxyStats stats = new ProxyStats();
    IstioTelemetry t = new IstioTelemetry(SERVER, "id", true);
    stats.telemetry(t);
    ClusterStats inbound = stats.cluster("inbound|9898||");
    // Istio: request_protocol "grpc" and the response's grpc-status (200 with UNAVAILABLE here).
    t.record(inbound, null, null, false, "podinfo.demo:9898", 200, "-", true, 14, 1, 0, 0, null);
    t.record(inbound, null, null, false, "podinfo.demo:9898", 200, "-", false, -1, 1, 0, 0, null);
    assertThat(stats.prometheus())
        .contains("request_protocol=\"grpc\",response_code=\"200\",grpc_response_status=\"14\",")
        .contains("request_protocol=\"http\",response_code=\"200\",grpc_response_status=\"\",");
  }

  @Test
  void requestsCannotGrowTheSeriesWithoutBound() {
    ProxyStats stats = new ProxyStats();
    IstioTelemetry t = new IstioTelemetry(SERVER, "id", true);
    stats.telemetry(t);
    ClusterStats inbound = stats.cluster("inbound|9898||");
    int n = IstioTelemetry.MAX_SERIES_PER_CLUSTER + 500;
    for (int i = 0; i < n; i++) {
      t.record(inbound, null, null, false, "host-" + i + ".demo", 200, "-", 1, 0, 0);
    }
    assertThat(inbound.istio).hasSize(IstioTelemetry.MAX_SERIES_PER_CLUSTER + 1);
    assertThat(t.overflow.sum()).isEqualTo(500);
    assertThat(stats.text()).contains("istio.series_overflow: 500");
    assertThat(stats.prometheus())
        .contains(
            "destination_service=\"podinfo-canonical\","
                + "destination_canonical_service=\"podinfo-canonical\"");
  }

  @Test
  void bucketsAreEnvoysDefaults() {
    assertThat(IstioSeries.BUCKET_TEXT)
        .containsExactly(
            "0.5", "1", "5", "10", "25", "50", "100", "250", "500", "1000", "2500", "5000", "10000",
            "30000", "60000", "300000", "600000", "1800000", "3600000");
  }

  /** The Telemetry API's metric overrides, as the istio.stats filter carries them. */
  @Test
  void metricOverridesDropMetricsRemoveAndUpsertTagsAndMergeEqualSeries() {
    ProxyStats stats = new ProxyStats();
    IstioTelemetry t = new IstioTelemetry(SERVER, "id", true);
    stats.telemetry(t);
    ClusterStats inbound = stats.cluster("inbound|9898||");
    MetricOverrides o =
        new MetricOverrides(
            Map.of(
                "requests_total",
                new MetricOverrides.Override(
                    false,
                    java.util.Set.of("response_code", "source_workload"),
                    Map.of("team", "payments", "request_protocol", "h")),
                "request_duration_milliseconds",
                new MetricOverrides.Override(true, java.util.Set.of(), Map.of())));
    t.record(inbound, null, null, false, "podinfo:9898", 200, "-", false, -1, 3, 0, 0, o);
    t.record(inbound, null, null, false, "podinfo:9898", 503, "-", false, -1, 3, 0, 0, o);
    t.record(inbound, null, null, false, "podinfo:9898", 200, "-", false, -1, 3, 0, 0, null);
    String m = stats.prometheus();
    java.util.List<String> requests =
        m.lines().filter(l -> l.startsWith("istio_requests_total{")).toList();
    // The two overridden series lose response_code: one line, summed; the plain one stays.
    assertThat(requests).hasSize(2);
    String merged = requests.stream().filter(l -> l.contains("team=")).findFirst().orElseThrow();
    assertThat(merged)
        .endsWith("} 2")
        .doesNotContain("response_code=")
        .doesNotContain("source_workload=")
        .contains("request_protocol=\"h\"")
        .contains("team=\"payments\"}");
    assertThat(requests.stream().filter(l -> l.contains("response_code=\"200\"")).toList())
        .hasSize(1);
    // Duration dropped for the overridden series only.
    assertThat(m.lines().filter(l -> l.startsWith("istio_request_duration_milliseconds_count{")))
        .hasSize(1);
    // request_bytes has no override: the 200s of both kinds are one series (2), the 503 another.
    assertThat(
            m.lines()
                .filter(l -> l.startsWith("istio_request_bytes_count{"))
                .map(l -> l.substring(l.lastIndexOf(' ') + 1)))
        .containsExactlyInAnyOrder("2", "1");
  }

  /**
   * Istio applies the Telemetry API's overrides to its TCP metrics too ({@code TCP_*} and {@code
   * ALL_METRICS}): a dropped one is not reported, tags are removed and set, and connections whose
   * labels become equal are summed.
   */
  @Test
  void metricOverridesApplyToTheTcpMetrics() {
    ProxyStats stats = new ProxyStats();
    IstioTelemetry t = new IstioTelemetry(SERVER, "id", true);
    stats.telemetry(t);
    ClusterStats inbound = stats.cluster("inbound|9000||");
    MetricOverrides o =
        new MetricOverrides(
            Map.of(
                "tcp_connections_opened_total",
                new MetricOverrides.Override(
                    false, java.util.Set.of("source_workload"), Map.of("team", "payments")),
                "tcp_sent_bytes_total",
                new MetricOverrides.Override(true, java.util.Set.of(), Map.of())));
    // The same workload's canary: only source_workload differs.
    PeerMetadata other =
        PeerMetadata.ofNode(
            Map.of(
                "NAME", "sleep-xyz",
                "NAMESPACE", "shop",
                "WORKLOAD_NAME", "sleep-canary",
                "SERVICE_ACCOUNT", "sleep",
                "LABELS", Map.of("app", "sleep", "version", "v7")),
            "x",
            "y");
    for (PeerMetadata peer : new PeerMetadata[] {CLIENT, other}) {
      TcpTelemetry c = t.tcpConnection();
      c.cluster(inbound);
      c.overrides(o);
      c.opened();
      c.downstreamPeer(peer, null);
      c.bytes(3, 4);
      c.closed();
    }
    String m = stats.prometheus();
    // opened: source_workload removed, so both connections are one series (2), with the new tag.
    java.util.List<String> opened =
        m.lines().filter(l -> l.startsWith("istio_tcp_connections_opened_total{")).toList();
    assertThat(opened).hasSize(1);
    assertThat(opened.get(0))
        .doesNotContain("source_workload=")
        .contains("team=\"payments\"}")
        .endsWith("} 2");
    // closed and received keep Istio's labels: one series per source workload.
    assertThat(m.lines().filter(l -> l.startsWith("istio_tcp_connections_closed_total{")))
        .hasSize(2)
        .allMatch(l -> l.contains("source_workload=") && l.endsWith("} 1"));
    assertThat(m.lines().filter(l -> l.startsWith("istio_tcp_received_bytes_total{")))
        .hasSize(2)
        .allMatch(l -> l.endsWith("} 3"));
    // sent dropped.
    assertThat(m).contains("# TYPE istio_tcp_sent_bytes_total counter\n");
    assertThat(m.lines().filter(l -> l.startsWith("istio_tcp_sent_bytes_total{"))).isEmpty();
  }

  /** Istio's {@code istio.services} cluster metadata with one service. */
  static io.envoyproxy.envoy.config.core.v3.Metadata services(
      String host, String name, String namespace) {
    Struct.Builder svc =
        Struct.newBuilder()
            .putFields("host", com.google.protobuf.Value.newBuilder().setStringValue(host).build());
    if (name != null) {
      svc.putFields("name", com.google.protobuf.Value.newBuilder().setStringValue(name).build());
    }
    if (namespace != null) {
      svc.putFields(
          "namespace", com.google.protobuf.Value.newBuilder().setStringValue(namespace).build());
    }
    return io.envoyproxy.envoy.config.core.v3.Metadata.newBuilder()
        .putFilterMetadata(
            "istio",
            Struct.newBuilder()
                .putFields(
                    "services",
                    com.google.protobuf.Value.newBuilder()
                        .setListValue(
                            com.google.protobuf.ListValue.newBuilder()
                                .addValues(
                                    com.google.protobuf.Value.newBuilder().setStructValue(svc)))
                        .build())
                .build())
        .build();
  }

  @Test
  void theClusterMetadataNamesTheServiceEvenWhenTheHostIsAnAddress() {
    ProxyStats stats = new ProxyStats();
    IstioTelemetry t = new IstioTelemetry(SERVER, "id", true);
    stats.telemetry(t);
    ClusterStats inbound = stats.cluster("inbound|9898||");
    inbound.serviceMetadata(services("podinfo.demo.svc.cluster.local", "podinfo", "demo"));
    // The gateway forwards with the endpoint's address as Host: the cluster names the service.
    t.record(inbound, CLIENT, null, false, "127.0.1.2:9898", 200, "-", 1, 0, 0);
    t.record(inbound, CLIENT, null, false, "127.0.1.3:9898", 200, "-", 1, 0, 0);
    String prom = stats.prometheus();
    assertThat(prom)
        .contains(
            "destination_service=\"podinfo.demo.svc.cluster.local\","
                + "destination_canonical_service=\"podinfo-canonical\","
                + "destination_canonical_revision=\"v1\",destination_service_name=\"podinfo\","
                + "destination_service_namespace=\"demo\"")
        .doesNotContain("destination_service=\"unknown\"");
    // One series: the authority no longer tells series apart once the cluster names the service.
    assertThat(inbound.istio).hasSize(1);

    // A ServiceEntry host: its namespace is the entry's, not the host's second label.
    ClusterStats egress = stats.cluster("outbound|80||httpbin.org");
    egress.serviceMetadata(services("httpbin.org", "httpbin.org", "egress"));
    t.record(egress, null, null, false, "httpbin.org", 200, "-", 1, 0, 0);
    assertThat(stats.prometheus())
        .contains(
            "destination_service=\"httpbin.org\",destination_canonical_service=\"unknown\","
                + "destination_canonical_revision=\"latest\","
                + "destination_service_name=\"httpbin.org\","
                + "destination_service_namespace=\"egress\"");
    // Without metadata (another control plane), the host still names it.
    ClusterStats plain = stats.cluster("outbound|80||reviews.shop.svc.cluster.local");
    t.record(plain, null, null, false, "reviews", 200, "-", 1, 0, 0);
    assertThat(stats.prometheus())
        .contains(
            "destination_service=\"reviews.shop.svc.cluster.local\",destination_canonical_service=\"unknown\","
                + "destination_canonical_revision=\"latest\","
                + "destination_service_name=\"reviews\",destination_service_namespace=\"shop\"");
  }

  @Test
  void theTcpExchangeFrameIsIstiosMagicLengthAndAnyStruct() throws Exception {
    IstioTelemetry t = new IstioTelemetry(CLIENT, "sidecar~10.0.0.1~sleep-abc.shop~shop", true);
    java.nio.ByteBuffer f = java.nio.ByteBuffer.wrap(t.exchangeFrame());
    assertThat(f.getInt()).isEqualTo(0x3D230467);
    int length = f.getInt();
    assertThat(length).isEqualTo(f.remaining());
    byte[] payload = new byte[length];
    f.get(payload);
    com.google.protobuf.Any any = com.google.protobuf.Any.parseFrom(payload);
    assertThat(any.getTypeUrl()).isEqualTo("type.googleapis.com/google.protobuf.Struct");
    Struct data = Struct.parseFrom(any.getValue());
    assertThat(data.getFieldsOrThrow("x-envoy-peer-metadata-id").getStringValue())
        .isEqualTo("sidecar~10.0.0.1~sleep-abc.shop~shop");
    Struct md = data.getFieldsOrThrow("x-envoy-peer-metadata").getStructValue();
    assertThat(md.getFieldsOrThrow("WORKLOAD_NAME").getStringValue()).isEqualTo("sleep");
    assertThat(md.getFieldsOrThrow("NAMESPACE").getStringValue()).isEqualTo("shop");
  }

  @Test
  void tcpSeriesWaitForThePeerOfTheirReporterSide() {
    ProxyStats stats = new ProxyStats();
    IstioTelemetry t = new IstioTelemetry(SERVER, "id", true);
    stats.telemetry(t);
    ClusterStats inbound = stats.cluster("inbound|9000||");
    inbound.serviceMetadata(services("echo.demo.svc.cluster.local", "echo", "demo"));
    TcpTelemetry c = t.tcpConnection();
    c.cluster(inbound);
    c.upstreamPeer(PeerMetadata.UNKNOWN, null); // the app: plaintext
    c.opened();
    c.bytes(5, 0); // before the client's frame was read: kept
    assertThat(inbound.tcp).isEmpty();
    dev.weft.proxy.tls.PeerIdentity client =
        new dev.weft.proxy.tls.PeerIdentity(
            "spiffe://cluster.local/ns/shop/sa/sleep", "cluster.local/ns/shop/sa/sleep", true);
    c.downstreamPeer(CLIENT, client);
    c.bytes(0, 7);
    c.closed();
    String labels =
        "reporter=\"destination\",source_workload=\"sleep\","
            + "source_canonical_service=\"sleep\",source_canonical_revision=\"v7\","
            + "source_workload_namespace=\"shop\","
            + "source_principal=\"spiffe://cluster.local/ns/shop/sa/sleep\","
            + "source_app=\"sleep\",source_version=\"v7\",source_cluster=\"Kubernetes\","
            + "destination_workload=\"podinfo-v1\",destination_workload_namespace=\"demo\","
            + "destination_principal=\"spiffe://cluster.local/ns/demo/sa/podinfo\","
            + "destination_app=\"podinfo\",destination_version=\"v1\","
            + "destination_service=\"echo.demo.svc.cluster.local\","
            + "destination_canonical_service=\"podinfo-canonical\","
            + "destination_canonical_revision=\"v1\",destination_service_name=\"echo\","
            + "destination_service_namespace=\"demo\",destination_cluster=\"east\","
            + "request_protocol=\"tcp\",response_flags=\"-\","
            + "connection_security_policy=\"mutual_tls\"";
    assertThat(stats.prometheus())
        .contains("istio_tcp_connections_opened_total{" + labels + "} 1\n")
        .contains("istio_tcp_connections_closed_total{" + labels + "} 1\n")
        .contains("istio_tcp_received_bytes_total{" + labels + "} 5\n")
        .contains("istio_tcp_sent_bytes_total{" + labels + "} 7\n");

    // The source side reports its own principal and the upstream's, and no policy (Istio).
    ClusterStats outbound = stats.cluster("outbound|9000||echo.demo.svc.cluster.local");
    TcpTelemetry o = t.tcpConnection();
    o.cluster(outbound);
    o.downstreamPeer(PeerMetadata.UNKNOWN, null);
    o.opened();
    o.upstreamPeer(
        CLIENT,
        new dev.weft.proxy.tls.PeerIdentity(
            "spiffe://cluster.local/ns/shop/sa/sleep", "cluster.local/ns/shop/sa/sleep", true));
    o.closed();
    assertThat(stats.prometheus())
        .contains(
            "istio_tcp_connections_closed_total{reporter=\"source\",source_workload=\"podinfo-v1\"")
        .contains(
            "source_principal=\"spiffe://cluster.local/ns/demo/sa/podinfo\","
                + "source_app=\"podinfo\"")
        .contains(
            "destination_workload=\"sleep\",destination_workload_namespace=\"shop\","
                + "destination_principal=\"spiffe://cluster.local/ns/shop/sa/sleep\"")
        .contains(
            "request_protocol=\"tcp\",response_flags=\"-\",connection_security_policy=\"unknown\"} 1");

    // A connection that closes before its peer is known is counted with an unknown peer.
    TcpTelemetry u = t.tcpConnection();
    u.cluster(inbound);
    u.opened();
    u.closed();
    assertThat(stats.prometheus())
        .contains(
            "istio_tcp_connections_closed_total{reporter=\"destination\",source_workload=\"unknown\"");
  }

  @Test
  void theSourceReporterNamesItsOwnPrincipalAndTheUpstreamCertificates() {
    ProxyStats stats = new ProxyStats();
    IstioTelemetry t = new IstioTelemetry(CLIENT, "id", true);
    stats.telemetry(t);
    ClusterStats outbound = stats.cluster("outbound|9898||podinfo.demo.svc.cluster.local");
    t.record(
        outbound,
        SERVER,
        "spiffe://cluster.local/ns/demo/sa/podinfo",
        true,
        "podinfo.demo:9898",
        200,
        "-",
        1,
        0,
        0);
    assertThat(stats.prometheus())
        .contains(
            "source_principal=\"spiffe://cluster.local/ns/shop/sa/sleep\",source_app=\"sleep\"")
        .contains(
            "destination_principal=\"spiffe://cluster.local/ns/demo/sa/podinfo\","
                + "destination_app=\"podinfo\"")
        // Istio reports the policy at the destination only.
        .contains("response_flags=\"-\",connection_security_policy=\"unknown\"} 1");
  }

  /**
   * The cluster's last-series hint ({@code ClusterStats.lastIstio}) only ever shortcuts to the
   * series of the same label set: a change of response code, flags, peer, principal, mTLS or gRPC
   * status in between lands in its own series, and coming back lands in the first one again.
   */
  @Test
  void theLastSeriesHintNeverRecordsIntoAnotherLabelSet() {
    ProxyStats stats = new ProxyStats();
    IstioTelemetry t = new IstioTelemetry(SERVER, "id", true);
    stats.telemetry(t);
    ClusterStats inbound = stats.cluster("inbound|9898||");
    PeerMetadata peer = t.peer(CLIENT.headerValue());
    String san = "spiffe://cluster.local/ns/shop/sa/sleep";
    String authority = "podinfo.demo:9898";
    t.record(inbound, peer, san, true, authority, 200, "-", 1, 0, 0);
    t.record(inbound, peer, san, true, authority, 200, "-", 1, 0, 0);
    t.record(inbound, peer, san, true, authority, 503, "-", 1, 0, 0);
    t.record(inbound, peer, san, true, authority, 503, "UF", 1, 0, 0);
    t.record(inbound, null, san, true, authority, 200, "-", 1, 0, 0);
    t.record(inbound, peer, null, false, authority, 200, "-", 1, 0, 0);
    t.record(
        inbound,
        peer,
        "spiffe://cluster.local/ns/shop/sa/other",
        true,
        authority,
        200,
        "-",
        1,
        0,
        0);
    t.record(inbound, peer, san, true, authority, 200, "-", true, 0, 1, 0, 0, null);
    t.record(inbound, peer, san, true, authority, 200, "-", true, 14, 1, 0, 0, null);
    // The same labels from fresh strings (as a new request's header values are) find the hint.
    t.record(inbound, peer, new String(san), true, new String(authority), 200, "-", 1, 0, 0);
    assertThat(inbound.istio).hasSize(8);
    assertThat(inbound.lastIstio.key.code()).isEqualTo(200);
    assertThat(inbound.lastIstio.requests.sum()).isEqualTo(3);
    String prom = stats.prometheus();
    assertThat(
            count(
                prom,
                "source_workload=\"sleep\"",
                "response_code=\"200\"",
                "grpc_response_status=\"\",response_flags=\"-\",connection_security_policy=\"mutual_tls\"",
                "source_principal=\"" + san + "\""))
        .isEqualTo(3);
    assertThat(count(prom, "response_code=\"503\",grpc_response_status=\"\",response_flags=\"-\""))
        .isEqualTo(1);
    assertThat(count(prom, "response_code=\"503\",grpc_response_status=\"\",response_flags=\"UF\""))
        .isEqualTo(1);
    assertThat(count(prom, "source_workload=\"unknown\"")).isEqualTo(1);
    assertThat(count(prom, "connection_security_policy=\"none\"")).isEqualTo(1);
    assertThat(count(prom, "source_principal=\"spiffe://cluster.local/ns/shop/sa/other\""))
        .isEqualTo(1);
    assertThat(count(prom, "grpc_response_status=\"0\"")).isEqualTo(1);
    assertThat(count(prom, "grpc_response_status=\"14\"")).isEqualTo(1);
  }

  /** A new configuration's service metadata moves the cluster's streams to a new series. */
  @Test
  void theLastSeriesHintFollowsTheClustersServiceMetadata() {
    ProxyStats stats = new ProxyStats();
    IstioTelemetry t = new IstioTelemetry(CLIENT, "id", true);
    stats.telemetry(t);
    ClusterStats outbound = stats.cluster("outbound|80||podinfo.demo.svc.cluster.local");
    t.record(outbound, SERVER, null, false, "podinfo", 200, "-", 1, 0, 0);
    outbound.serviceMetadata(
        io.envoyproxy.envoy.config.core.v3.Metadata.newBuilder()
            .putFilterMetadata(
                "istio",
                Struct.newBuilder()
                    .putFields(
                        "services",
                        com.google.protobuf.Value.newBuilder()
                            .setListValue(
                                com.google.protobuf.ListValue.newBuilder()
                                    .addValues(
                                        com.google.protobuf.Value.newBuilder()
                                            .setStructValue(
                                                Struct.newBuilder()
                                                    .putFields(
                                                        "host",
                                                        com.google.protobuf.Value.newBuilder()
                                                            .setStringValue(
                                                                "renamed.demo.svc.cluster.local")
                                                            .build()))))
                            .build())
                    .build())
            .build());
    t.record(outbound, SERVER, null, false, "podinfo", 200, "-", 1, 0, 0);
    assertThat(outbound.istio).hasSize(2);
    assertThat(count(stats.prometheus(), "destination_service=\"renamed.demo.svc.cluster.local\""))
        .isEqualTo(1);
  }

  /**
   * A stream recorded in the series its cluster recorded last allocates nothing: no key object, no
   * map lookup (2026-11-30 perf/hot3; before, every stream made an {@code IstioSeries.Key}).
   */
  @Test
  void recordingASteadyStreamAllocatesNothing() {
    ProxyStats stats = new ProxyStats();
    IstioTelemetry t = new IstioTelemetry(SERVER, "id", true);
    stats.telemetry(t);
    ClusterStats inbound = stats.cluster("inbound|9898||");
    PeerMetadata peer = t.peer(CLIENT.headerValue());
    String san = "spiffe://cluster.local/ns/shop/sa/sleep";
    var threads =
        (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
    long id = Thread.currentThread().threadId();
    t.record(inbound, peer, san, true, "podinfo.demo:9898", 200, "-", 3, 0, 1024);
    int n = 20_000;
    long before = threads.getThreadAllocatedBytes(id);
    for (int i = 0; i < n; i++) {
      t.record(inbound, peer, san, true, "podinfo.demo:9898", 200, "-", 3, 0, 1024);
    }
    long bytes = threads.getThreadAllocatedBytes(id) - before;
    assertThat(inbound.lastIstio.requests.sum()).isEqualTo(n + 1);
    // The measurement itself may allocate a little; a key per stream would be 40+ bytes each.
    assertThat((double) bytes / n).as("bytes per recorded stream").isLessThan(4);
  }

  /** The whole-number bucket bounds place every value where the bounds as doubles do. */
  @Test
  void histogramBucketsAgreeWithEnvoysBoundsAtEveryEdge() {
    java.util.List<Long> values = new java.util.ArrayList<>(java.util.List.of(-1L, 0L, 1L, 2L));
    for (double b : IstioSeries.BUCKETS) {
      long f = (long) Math.floor(b);
      values.addAll(java.util.List.of(f - 1, f, f + 1));
    }
    values.add(Long.MAX_VALUE);
    for (long v : values) {
      IstioSeries.Histogram h = new IstioSeries.Histogram();
      h.add(v);
      int expected = 0;
      while (expected < IstioSeries.BUCKETS.length && v > IstioSeries.BUCKETS[expected]) {
        expected++;
      }
      assertThat(h.counts[expected].sum()).as("bucket of %d", v).isEqualTo(1);
      assertThat(h.sum.sum()).isEqualTo(v);
    }
  }

  /** A peer's header value read again, from a fresh string, is the same interned peer. */
  @Test
  void aPeerSeenAgainIsTheInternedOneWhicheverPeerCameBetween() {
    IstioTelemetry t = new IstioTelemetry(SERVER, "id", true);
    PeerMetadata client = t.peer(new String(CLIENT.headerValue()));
    PeerMetadata server = t.peer(new String(SERVER.headerValue()));
    assertThat(t.peer(new String(CLIENT.headerValue()))).isSameAs(client);
    assertThat(t.peer(new String(CLIENT.headerValue()))).isSameAs(client);
    assertThat(t.peer(new String(SERVER.headerValue()))).isSameAs(server);
    assertThat(client.workload()).isEqualTo("sleep");
    assertThat(server.workload()).isEqualTo("podinfo-v1");
    assertThat(t.peer("%%% not base64")).isSameAs(PeerMetadata.UNKNOWN);
    assertThat(t.peer(new String(SERVER.headerValue()))).isSameAs(server);
  }

  /** The value of the {@code istio_requests_total} line that has every one of {@code parts}. */
  private static long count(String prom, String... parts) {
    long found = -1;
    for (String line : prom.split("\n")) {
      if (!line.startsWith("istio_requests_total{")) {
        continue;
      }
      boolean all = true;
      for (String p : parts) {
        all &= line.contains(p);
      }
      if (all) {
        assertThat(found).as("one line with %s", java.util.Arrays.toString(parts)).isEqualTo(-1);
        found = Long.parseLong(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    return found;
  }

  /**
   * The proxy's own metadata goes out as header bytes made once ({@code AsciiString}: validated
   * over bytes and copied whole into the encoder's buffer), the same text as its node metadata, on
   * the source's requests and the destination's responses.
   */
  @Test
  void ownMetadataIsSetAsPreEncodedHeaderBytes() {
    IstioTelemetry client =
        new IstioTelemetry(CLIENT, "sidecar~10.0.0.1~sleep-abc.shop~shop", true);
    IstioTelemetry server =
        new IstioTelemetry(SERVER, "sidecar~10.0.0.2~podinfo-v1.demo~demo", true);
    HttpHeaders request = new DefaultHttpHeaders();
    client.onUpstreamRequest(request, false);
    HttpHeaders response = new DefaultHttpHeaders();
    server.onUpstreamResponse(response, true, CLIENT);
    for (HttpHeaders h : java.util.List.of(request, response)) {
      java.util.List<CharSequence> values = new java.util.ArrayList<>();
      h.iteratorCharSequence().forEachRemaining(e -> values.add(e.getValue()));
      assertThat(values).hasSize(2).allMatch(v -> v instanceof io.netty.util.AsciiString);
    }
    assertThat(request.get(IstioTelemetry.PEER_METADATA)).isEqualTo(CLIENT.headerValue());
    assertThat(request.get(IstioTelemetry.PEER_METADATA_ID))
        .isEqualTo("sidecar~10.0.0.1~sleep-abc.shop~shop");
    assertThat(response.get(IstioTelemetry.PEER_METADATA)).isEqualTo(SERVER.headerValue());
    assertThat(server.peer(response.get(IstioTelemetry.PEER_METADATA)).workload())
        .isEqualTo("podinfo-v1");
  }
}
