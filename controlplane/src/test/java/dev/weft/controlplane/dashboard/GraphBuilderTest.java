package dev.weft.controlplane.dashboard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * The graph from scrapes: rates from deltas, p99 from buckets, the version split, the mTLS lock.
 */
class GraphBuilderTest {
  private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
  private static final List<GraphBuilder.KnownWorkload> GATEWAY =
      List.of(
          new GraphBuilder.KnownWorkload(
              "istio-system", "istio-ingressgateway", "istio-ingressgateway", "", true));

  /** Istio's labels for a request from the gateway to podinfo's {@code version} workload. */
  static String labels(String reporter, String version, int code, boolean mtls) {
    return "reporter=\""
        + reporter
        + "\",source_workload=\"istio-ingressgateway\",source_canonical_service=\"istio-ingressgateway\","
        + "source_canonical_revision=\"latest\",source_workload_namespace=\"istio-system\","
        + "source_principal=\"unknown\",source_app=\"istio-ingressgateway\",source_version=\"unknown\","
        + "source_cluster=\"Kubernetes\",destination_workload=\"podinfo-"
        + version
        + "\",destination_workload_namespace=\"demo\",destination_principal=\"unknown\","
        + "destination_app=\"podinfo\",destination_version=\""
        + version
        + "\",destination_service=\"podinfo.demo.svc.cluster.local\","
        + "destination_canonical_service=\"podinfo\",destination_canonical_revision=\""
        + version
        + "\",destination_service_name=\"podinfo\",destination_service_namespace=\"demo\","
        + "destination_cluster=\"Kubernetes\",request_protocol=\"http\",response_code=\""
        + code
        + "\",grpc_response_status=\"\",response_flags=\"-\",connection_security_policy=\""
        + (reporter.equals("source") ? "unknown" : mtls ? "mutual_tls" : "none")
        + "\"";
  }

  /** A series' counter and its duration histogram, all requests in the bucket up to {@code le}. */
  static String series(String labels, long count, Map<String, Long> bucketCounts) {
    StringBuilder sb = new StringBuilder();
    sb.append("istio_requests_total{").append(labels).append("} ").append(count).append('\n');
    long cumulative = 0;
    for (String le : List.of("0.5", "1", "5", "10", "25", "50", "100", "250", "+Inf")) {
      cumulative += bucketCounts.getOrDefault(le, 0L);
      sb.append("istio_request_duration_milliseconds_bucket{")
          .append(labels)
          .append(",le=\"")
          .append(le)
          .append("\"} ")
          .append(cumulative)
          .append('\n');
    }
    return sb.toString();
  }

  private static Graph graph(MetricsWindow w) {
    return GraphBuilder.build("demo", w.traffic(), GATEWAY, List.of());
  }

  private static Graph.Edge edge(Graph g, String source, String target) {
    return g.edges().stream()
        .filter(e -> e.source().equals(source) && e.target().equals(target))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no edge " + source + " -> " + target + " in " + g));
  }

  @Test
  void ratesAreDeltasOverTheScrapesTimeAndTheSplitIsBetweenVersions() {
    MetricsWindow w = new MetricsWindow(Duration.ofSeconds(60));
    String gw = "127.0.0.1:15090";
    w.record(
        gw,
        MetricsWindow.Scrape.parse(
            T0,
            series(labels("source", "v1", 200, false), 1000, Map.of("5", 1000L))
                + series(labels("source", "v2", 200, false), 100, Map.of("5", 100L))));
    // No rate from one scrape: only totals.
    Graph first = graph(w);
    assertThat(first.windowSeconds()).isZero();
    assertThat(
            edge(first, "workload:istio-system/istio-ingressgateway", "service:demo/podinfo")
                .idle())
        .isTrue();
    // 10 s later: 90 more to v1, 10 to v2.
    w.record(
        gw,
        MetricsWindow.Scrape.parse(
            T0.plusSeconds(10),
            series(labels("source", "v1", 200, false), 1090, Map.of("5", 1090L))
                + series(labels("source", "v2", 200, false), 110, Map.of("5", 110L))));
    Graph g = graph(w);
    assertThat(g.windowSeconds()).isEqualTo(10.0);
    Graph.Edge in = edge(g, "workload:istio-system/istio-ingressgateway", "service:demo/podinfo");
    assertThat(in.rate()).isCloseTo(10.0, within(1e-9));
    assertThat(in.percent()).isCloseTo(100.0, within(1e-9));
    assertThat(in.requests()).isEqualTo(1200);
    assertThat(in.idle()).isFalse();
    Graph.Edge v1 = edge(g, "service:demo/podinfo", "workload:demo/podinfo-v1");
    Graph.Edge v2 = edge(g, "service:demo/podinfo", "workload:demo/podinfo-v2");
    assertThat(v1.rate()).isCloseTo(9.0, within(1e-9));
    assertThat(v1.percent()).isCloseTo(90.0, within(1e-9));
    assertThat(v2.percent()).isCloseTo(10.0, within(1e-9));
    assertThat(g.nodes())
        .extracting(Graph.Node::id, Graph.Node::type, Graph.Node::label)
        .contains(
            org.assertj.core.groups.Tuple.tuple(
                "workload:istio-system/istio-ingressgateway",
                Graph.NodeType.GATEWAY,
                "istio-ingressgateway"),
            org.assertj.core.groups.Tuple.tuple(
                "service:demo/podinfo", Graph.NodeType.SERVICE, "podinfo"),
            org.assertj.core.groups.Tuple.tuple(
                "workload:demo/podinfo-v1", Graph.NodeType.WORKLOAD, "podinfo v1"));
  }

  @Test
  void theWindowTakesTheScrapeAtItsStartAsTheBase() {
    MetricsWindow w = new MetricsWindow(Duration.ofSeconds(30));
    String t = "127.0.1.2:15090";
    String l = labels("destination", "v1", 200, false);
    for (int i = 0; i <= 12; i++) { // every 10 s, 5 requests a second
      w.record(
          t, MetricsWindow.Scrape.parse(T0.plusSeconds(10L * i), series(l, 50L * i, Map.of())));
    }
    Graph g = graph(w);
    assertThat(g.windowSeconds()).isEqualTo(30.0);
    assertThat(edge(g, "service:demo/podinfo", "workload:demo/podinfo-v1").rate())
        .isCloseTo(5.0, within(1e-9));
  }

  @Test
  void sharesBetweenProxiesFirstScrapedAtDifferentTimesAreSharesOfRequests() {
    MetricsWindow w = new MetricsWindow(Duration.ofMinutes(30));
    // v1's sidecar scraped from T0, v2's from T0 + 5 s; then a burst of 90 and 10 requests.
    w.record("v1:1", MetricsWindow.Scrape.parse(T0, ""));
    w.record("v2:1", MetricsWindow.Scrape.parse(T0.plusSeconds(5), ""));
    w.record(
        "v1:1",
        MetricsWindow.Scrape.parse(
            T0.plusSeconds(10), series(labels("destination", "v1", 200, false), 90, Map.of())));
    w.record(
        "v2:1",
        MetricsWindow.Scrape.parse(
            T0.plusSeconds(10), series(labels("destination", "v2", 200, false), 10, Map.of())));
    Graph g = graph(w);
    assertThat(edge(g, "service:demo/podinfo", "workload:demo/podinfo-v1").percent())
        .isCloseTo(90.0, within(1e-9));
    assertThat(edge(g, "service:demo/podinfo", "workload:demo/podinfo-v2").rate())
        .isCloseTo(1.0, within(1e-9));
  }

  @Test
  void manyScrapesInTheWindowKeepItsStart() {
    MetricsWindow w = new MetricsWindow(Duration.ofMinutes(30));
    String t = "127.0.1.2:15090";
    String l = labels("destination", "v1", 200, false);
    // 100 requests, then 4 × MAX_SCRAPES quiet scrapes a quarter second apart
    w.record(t, MetricsWindow.Scrape.parse(T0, ""));
    for (int i = 1; i <= 4 * MetricsWindow.MAX_SCRAPES; i++) {
      w.record(t, MetricsWindow.Scrape.parse(T0.plusMillis(250L * i), series(l, 100, Map.of())));
    }
    Graph.Edge e = edge(graph(w), "service:demo/podinfo", "workload:demo/podinfo-v1");
    assertThat(e.idle()).isFalse();
    assertThat(e.rate()).isCloseTo(100 / (MetricsWindow.MAX_SCRAPES * 1.0), within(1e-9));
  }

  @Test
  void theDestinationsReportOfARequestByAddressStillCountsOnce() {
    MetricsWindow w = new MetricsWindow(Duration.ofSeconds(60));
    // The gateway forwarded the client's Host (an address): the sidecar reports the service as
    // unknown, named after its canonical service (Istio's fallback).
    String dest =
        labels("destination", "v1", 200, false)
            .replace(
                "destination_service=\"podinfo.demo.svc.cluster.local\"",
                "destination_service=\"unknown\"");
    w.record("gw:1", MetricsWindow.Scrape.parse(T0, ""));
    w.record("v1:1", MetricsWindow.Scrape.parse(T0, ""));
    w.record(
        "gw:1",
        MetricsWindow.Scrape.parse(
            T0.plusSeconds(1), series(labels("source", "v1", 200, false), 7, Map.of())));
    w.record("v1:1", MetricsWindow.Scrape.parse(T0.plusSeconds(1), series(dest, 7, Map.of())));
    Graph g = graph(w);
    assertThat(edge(g, "service:demo/podinfo", "workload:demo/podinfo-v1").requests()).isEqualTo(7);
    assertThat(
            edge(g, "workload:istio-system/istio-ingressgateway", "service:demo/podinfo")
                .requests())
        .isEqualTo(7);
  }

  @Test
  void aCounterResetCountsFromZeroAndANewSeriesFromNothing() {
    MetricsWindow w = new MetricsWindow(Duration.ofSeconds(60));
    String t = "127.0.1.2:15090";
    w.record(
        t,
        MetricsWindow.Scrape.parse(
            T0, series(labels("destination", "v1", 200, false), 500, Map.of())));
    // the proxy restarted: 20 requests since; and 5 errors in a series that did not exist
    w.record(
        t,
        MetricsWindow.Scrape.parse(
            T0.plusSeconds(5),
            series(labels("destination", "v1", 200, false), 20, Map.of())
                + series(labels("destination", "v1", 503, false), 5, Map.of())));
    Graph.Edge e = edge(graph(w), "service:demo/podinfo", "workload:demo/podinfo-v1");
    assertThat(e.rate()).isCloseTo(5.0, within(1e-9));
    assertThat(e.errorRate()).isCloseTo(0.2, within(1e-9));
  }

  @Test
  void p99FromBucketDeltasAsHistogramQuantile() {
    MetricsWindow w = new MetricsWindow(Duration.ofSeconds(60));
    String t = "127.0.1.2:15090";
    String l = labels("destination", "v1", 200, false);
    // Before: 1000 fast requests. In the window: 98 in (1,5], 2 in (100,250].
    w.record(t, MetricsWindow.Scrape.parse(T0, series(l, 1000, Map.of("1", 1000L))));
    w.record(
        t,
        MetricsWindow.Scrape.parse(
            T0.plusSeconds(10), series(l, 1100, Map.of("1", 1000L, "5", 98L, "250", 2L))));
    Graph.Edge e = edge(graph(w), "service:demo/podinfo", "workload:demo/podinfo-v1");
    // rank 0.99 × 100 = 99: the first of 2 in (100, 250] → 100 + 150 × (99 − 98) / 2 = 175
    assertThat(e.p99()).isCloseTo(175.0, within(1e-9));
  }

  @Test
  void quantileFollowsPrometheus() {
    NavigableMap<Double, Double> b = new TreeMap<>();
    b.put(0.5, 0.0);
    b.put(1.0, 0.0);
    b.put(5.0, 10.0);
    b.put(Double.POSITIVE_INFINITY, 10.0);
    assertThat(Quantiles.quantile(0.5, b)).isCloseTo(3.0, within(1e-9)); // 1 + 4 × 5/10
    b.put(Double.POSITIVE_INFINITY, 20.0);
    assertThat(Quantiles.quantile(0.99, b)).isEqualTo(5.0); // in +Inf: the largest finite bound
    b.clear();
    b.put(10.0, 4.0);
    b.put(Double.POSITIVE_INFINITY, 4.0);
    assertThat(Quantiles.quantile(0.5, b)).isCloseTo(5.0, within(1e-9)); // first bucket from 0
    assertThat(Quantiles.quantile(0.99, new TreeMap<>())).isNaN();
  }

  @Test
  void eachRequestCountsOnceAndTheDestinationsReportCarriesMtls() {
    MetricsWindow w = new MetricsWindow(Duration.ofSeconds(60));
    String gw = "127.0.0.1:15090";
    String v1 = "127.0.1.2:15090";
    String v2 = "127.0.1.3:15090";
    // v1's sidecar saw its requests over mTLS, v2's in plaintext; the gateway reports both.
    w.record(gw, MetricsWindow.Scrape.parse(T0, ""));
    w.record(v1, MetricsWindow.Scrape.parse(T0, ""));
    w.record(v2, MetricsWindow.Scrape.parse(T0, ""));
    w.record(
        gw,
        MetricsWindow.Scrape.parse(
            T0.plusSeconds(10),
            series(labels("source", "v1", 200, false), 90, Map.of())
                + series(labels("source", "v2", 200, false), 10, Map.of())
                + series(
                    labels("source", "unknown", 503, false)
                        .replace(
                            "destination_workload=\"podinfo-unknown\"",
                            "destination_workload=\"unknown\""),
                    4,
                    Map.of())));
    w.record(
        v1,
        MetricsWindow.Scrape.parse(
            T0.plusSeconds(10), series(labels("destination", "v1", 200, true), 90, Map.of())));
    w.record(
        v2,
        MetricsWindow.Scrape.parse(
            T0.plusSeconds(10), series(labels("destination", "v2", 200, false), 10, Map.of())));
    Graph g = graph(w);
    Graph.Edge in = edge(g, "workload:istio-system/istio-ingressgateway", "service:demo/podinfo");
    // 90 + 10 from the sidecars, the gateway's reports of them dropped; 4 503s only the gateway saw
    assertThat(in.rate()).isCloseTo(10.4, within(1e-9));
    assertThat(in.errorRate()).isCloseTo(4 / 104.0, within(1e-9));
    assertThat(in.mtlsPercent()).isCloseTo(90 * 100 / 104.0, within(1e-9));
    Graph.Edge toV1 = edge(g, "service:demo/podinfo", "workload:demo/podinfo-v1");
    Graph.Edge toV2 = edge(g, "service:demo/podinfo", "workload:demo/podinfo-v2");
    assertThat(toV1.mtls()).isTrue();
    assertThat(toV1.mtlsPercent()).isEqualTo(100.0);
    assertThat(toV2.mtls()).isFalse();
    assertThat(toV1.percent()).isCloseTo(90.0, within(1e-9));
  }

  @Test
  void otherNamespacesTrafficIsLeftOut() {
    MetricsWindow w = new MetricsWindow(Duration.ofSeconds(60));
    w.record(
        "a:1",
        MetricsWindow.Scrape.parse(
            T0, series(labels("destination", "v1", 200, false), 1, Map.of())));
    assertThat(GraphBuilder.build("other", w.traffic(), GATEWAY, List.of()).edges()).isEmpty();
    assertThat(GraphBuilder.build("istio-system", w.traffic(), GATEWAY, List.of()).edges())
        .hasSize(2);
  }

  @Test
  void prometheusTextIsReadWithEscapesAndBadLinesSkipped() {
    PromText.Parsed p =
        PromText.parse(
            "# HELP istio_requests_total x\n"
                + "istio_requests_total{a=\"q\\\"uote\\\\\",b=\"line\\nbreak\"} 3\n"
                + "istio_requests_total{a=\"unterminated} 4\n"
                + "istio_requests_total{a=\"x\"} notanumber\n"
                + "envoy_other{a=\"x\"} 5\n"
                + "istio_requests_total 7 1700000000000\n",
            Set.of("istio_requests_total"));
    assertThat(p.malformed()).isEqualTo(2);
    assertThat(p.samples()).hasSize(2);
    assertThat(p.samples().get(0).labels())
        .containsEntry("a", "q\"uote\\")
        .containsEntry("b", "line\nbreak");
    assertThat(p.samples().get(1).value()).isEqualTo(7.0);
  }

  @Test
  void onlyLoopbackHostsAreAnswered() {
    assertThat(Dashboard.loopbackHost("127.0.0.1:20001")).isTrue();
    assertThat(Dashboard.loopbackHost("localhost:20001")).isTrue();
    assertThat(Dashboard.loopbackHost("[::1]:20001")).isTrue();
    assertThat(Dashboard.loopbackHost("127.0.0.1")).isTrue();
    assertThat(Dashboard.loopbackHost("evil.example:20001")).isFalse();
    assertThat(Dashboard.loopbackHost("10.0.0.1:20001")).isFalse();
    assertThat(Dashboard.loopbackHost("localhost.evil.example")).isFalse();
  }
}
