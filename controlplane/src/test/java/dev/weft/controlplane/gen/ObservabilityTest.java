package dev.weft.controlplane.gen;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Message;
import dev.weft.api.Resource;
import dev.weft.api.ResourceKey;
import dev.weft.controlplane.Fixtures;
import dev.weft.controlplane.mesh.MeshConfig;
import dev.weft.controlplane.push.PushContext;
import dev.weft.controlplane.store.ConfigSnapshot;
import dev.weft.controlplane.store.StoredResource;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.trace.v3.OpenTelemetryConfig;
import io.envoyproxy.envoy.config.trace.v3.ZipkinConfig;
import io.envoyproxy.envoy.extensions.access_loggers.file.v3.FileAccessLog;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Istio's telemetry configuration in the generated xDS: the mesh config's tracing and access logs,
 * extension providers, and the Telemetry API's precedence (mesh &lt; namespace &lt; workload).
 */
class ObservabilityTest {
  private static PushContext context(MeshConfig mesh, String... yaml) {
    List<Resource> all = new ArrayList<>(Fixtures.fixtures("podinfo.yaml"));
    for (String y : yaml) {
      all.addAll(Fixtures.parse("t.yaml", y));
    }
    Map<ResourceKey, StoredResource> stored = new LinkedHashMap<>();
    int i = 0;
    for (Resource r : all) {
      stored.put(r.key(), new StoredResource(r, ++i, Instant.EPOCH.plusSeconds(i)));
    }
    ConfigSnapshot snapshot = new ConfigSnapshot(i, new java.util.TreeMap<>(stored));
    return PushContext.build(
        1,
        snapshot,
        List.of(Fixtures.v1().workload(), Fixtures.v2().workload(), Fixtures.gateway().workload()),
        mesh);
  }

  /** The connection managers of {@code proxy}'s listeners, by listener name. */
  private static Map<String, HttpConnectionManager> hcms(PushContext ctx, Proxy proxy)
      throws Exception {
    Map<String, HttpConnectionManager> out = new LinkedHashMap<>();
    for (Message m : new ListenerGenerator().generate(ctx, proxy)) {
      Listener l = (Listener) m;
      var f = l.getFilterChains(0).getFilters(l.getFilterChains(0).getFiltersCount() - 1);
      if (f.getTypedConfig().is(HttpConnectionManager.class)) {
        out.put(l.getName(), f.getTypedConfig().unpack(HttpConnectionManager.class));
      }
    }
    return out;
  }

  private static final String OUTBOUND = "127.0.1.2_15001";
  private static final String INBOUND = "127.0.1.2_9898";

  @Test
  void istioctlsTracingPathsGiveEveryConnectionManagerZipkinTracingAndACollectorCluster()
      throws Exception {
    MeshConfig mesh =
        MeshConfig.parse(
            """
            enableTracing: true
            defaultConfig:
              tracing:
                sampling: 100
                zipkin: {address: "127.0.0.1:9411"}
            """);
    PushContext ctx = context(mesh);
    for (Proxy p : List.of(Fixtures.v1(), Fixtures.gateway())) {
      for (HttpConnectionManager h : hcms(ctx, p).values()) {
        HttpConnectionManager.Tracing t = h.getTracing();
        assertThat(t.getRandomSampling().getValue()).isEqualTo(100);
        assertThat(t.getProvider().getName()).isEqualTo("envoy.tracers.zipkin");
        ZipkinConfig z = t.getProvider().getTypedConfig().unpack(ZipkinConfig.class);
        assertThat(z.getCollectorCluster()).isEqualTo("zipkin");
        assertThat(z.getCollectorEndpoint()).isEqualTo("/api/v2/spans");
        assertThat(z.getCollectorEndpointVersion())
            .isEqualTo(ZipkinConfig.CollectorEndpointVersion.HTTP_JSON);
        assertThat(z.getTraceId128Bit()).isTrue();
        assertThat(z.getSharedSpanContext().getValue()).isFalse();
        Map<String, String> tags =
            t.getCustomTagsList().stream()
                .collect(Collectors.toMap(c -> c.getTag(), c -> c.getLiteral().getValue()));
        assertThat(tags).containsEntry("istio.mesh_id", "cluster.local");
        assertThat(tags.get("istio.canonical_service"))
            .isEqualTo(p.isRouter() ? "istio-ingressgateway" : "podinfo");
      }
    }
    List<Cluster> clusters =
        new ClusterGenerator()
            .generate(ctx, Fixtures.v1()).stream()
                .map(Cluster.class::cast)
                .filter(c -> c.getName().equals("zipkin"))
                .toList();
    assertThat(clusters).hasSize(1);
    assertThat(clusters.get(0).getType()).isEqualTo(Cluster.DiscoveryType.STATIC);
    assertThat(
            clusters
                .get(0)
                .getLoadAssignment()
                .getEndpoints(0)
                .getLbEndpoints(0)
                .getEndpoint()
                .getAddress()
                .getSocketAddress()
                .getPortValue())
        .isEqualTo(9411);
    // Without a provider nothing traces; Istio's default sampling is 1 %.
    assertThat(hcms(context(MeshConfig.DEFAULT), Fixtures.v1()).get(OUTBOUND).hasTracing())
        .isFalse();
    MeshConfig onePercent =
        MeshConfig.parse("defaultConfig: {tracing: {zipkin: {address: \"127.0.0.1:9411\"}}}");
    assertThat(
            hcms(context(onePercent), Fixtures.v1())
                .get(OUTBOUND)
                .getTracing()
                .getRandomSampling()
                .getValue())
        .isEqualTo(1.0);
  }

  @Test
  void accessLogsFollowTheMeshConfigEncodingAndFormat() throws Exception {
    FileAccessLog text =
        hcms(context(MeshConfig.DEFAULT), Fixtures.v1())
            .get(OUTBOUND)
            .getAccessLog(0)
            .getTypedConfig()
            .unpack(FileAccessLog.class);
    assertThat(text.getPath()).isEqualTo("/dev/stdout");
    assertThat(text.getLogFormat().getTextFormatSource().getInlineString())
        .isEqualTo(Observability.ISTIO_TEXT);
    FileAccessLog json =
        hcms(context(MeshConfig.parse("accessLogEncoding: JSON")), Fixtures.v1())
            .get(INBOUND)
            .getAccessLog(0)
            .getTypedConfig()
            .unpack(FileAccessLog.class);
    assertThat(json.getLogFormat().getJsonFormat().getFieldsMap().keySet())
        .containsExactlyElementsOf(Observability.ISTIO_JSON.keySet());
    FileAccessLog custom =
        hcms(
                context(MeshConfig.parse("accessLogFormat: \"%RESPONSE_CODE% %DURATION%\"")),
                Fixtures.v1())
            .get(OUTBOUND)
            .getAccessLog(0)
            .getTypedConfig()
            .unpack(FileAccessLog.class);
    assertThat(custom.getLogFormat().getTextFormatSource().getInlineString())
        .isEqualTo("%RESPONSE_CODE% %DURATION%\n");
    assertThat(
            hcms(context(MeshConfig.parse("accessLogFile: \"\"")), Fixtures.v1())
                .get(OUTBOUND)
                .getAccessLogCount())
        .isZero();
  }

  @Test
  void withoutTheMeshAccessLogATelemetryResourceStillTurnsItOn() throws Exception {
    // Istio's default install profile: accessLogFile "" (weft install --profile default). The
    // Telemetry API's accessLogging with Istio's built-in provider "envoy" still logs, to
    // /dev/stdout.
    PushContext ctx =
        context(
            MeshConfig.parse("accessLogFile: \"\""),
            """
            apiVersion: telemetry.istio.io/v1
            kind: Telemetry
            metadata: {name: mesh-default, namespace: istio-system}
            spec:
              accessLogging: [{providers: [{name: envoy}]}]
            """);
    HttpConnectionManager out = hcms(ctx, Fixtures.v1()).get(OUTBOUND);
    assertThat(out.getAccessLogCount()).isEqualTo(1);
    assertThat(out.getAccessLog(0).getTypedConfig().unpack(FileAccessLog.class).getPath())
        .isEqualTo("/dev/stdout");
    assertThat(hcms(ctx, Fixtures.v1()).get(INBOUND).getAccessLogCount()).isEqualTo(1);
  }

  static final MeshConfig PROVIDERS =
      MeshConfig.parse(
          """
          defaultProviders: {tracing: [zk]}
          extensionProviders:
          - {name: zk, zipkin: {service: 127.0.0.1, port: 9411}}
          - {name: otel, opentelemetry: {service: localhost, port: 4318, http: {path: /v1/traces}}}
          - {name: file, envoyFileAccessLog: {path: /tmp/weft-access.json, logFormat: {labels: {code: "%RESPONSE_CODE%"}}}}
          """);

  /**
   * Istio's TCP stats filter: the Telemetry API's overrides of TCP_* metrics (and ALL_METRICS) go
   * into an istio.stats network filter before every tcp_proxy; HTTP chains do not get one.
   */
  @Test
  void tcpMetricOverridesGoBeforeEveryTcpProxy() throws Exception {
    PushContext ctx =
        context(
            MeshConfig.DEFAULT,
            """
            apiVersion: v1
            kind: Service
            metadata: {name: db, namespace: demo}
            spec:
              selector: {app: db}
              ports: [{name: tcp, port: 7200}]
            ---
            apiVersion: telemetry.istio.io/v1
            kind: Telemetry
            metadata: {name: mesh-default, namespace: istio-system}
            spec:
              metrics:
              - overrides:
                - match: {metric: TCP_SENT_BYTES}
                  disabled: true
                - match: {metric: ALL_METRICS}
                  tagOverrides: {team: {value: "'payments'"}}
            """);
    int tcpChains = 0;
    for (Message m : new ListenerGenerator().generate(ctx, Fixtures.v1())) {
      for (var c : ((Listener) m).getFilterChainsList()) {
        int n = c.getFiltersCount();
        String last = c.getFilters(n - 1).getName();
        if (last.equals(EnvoyConfig.TCP_PROXY)) {
          tcpChains++;
          var stats = c.getFilters(n - 2);
          assertThat(stats.getName()).isEqualTo("istio.stats");
          String cfg =
              stats
                  .getTypedConfig()
                  .unpack(com.github.xds.type.v3.TypedStruct.class)
                  .getValue()
                  .toString();
          assertThat(cfg)
              .contains("tcp_sent_bytes_total")
              .contains("tcp_connections_opened_total")
              .contains("payments");
        } else {
          assertThat(c.getFiltersList()).noneMatch(f -> f.getName().equals("istio.stats"));
        }
      }
    }
    assertThat(tcpChains).as("the outbound TCP listener of db:7200").isPositive();
  }

  @Test
  void telemetryApiMostSpecificWins() throws Exception {
    PushContext ctx =
        context(
            PROVIDERS,
            """
            apiVersion: telemetry.istio.io/v1
            kind: Telemetry
            metadata: {name: mesh-default, namespace: istio-system}
            spec:
              tracing: [{randomSamplingPercentage: 10, customTags: {team: {literal: {value: a}}}}]
            ---
            apiVersion: telemetry.istio.io/v1
            kind: Telemetry
            metadata: {name: ns, namespace: demo}
            spec:
              tracing: [{randomSamplingPercentage: 20}]
              accessLogging: [{disabled: true}]
            ---
            apiVersion: telemetry.istio.io/v1
            kind: Telemetry
            metadata: {name: v1, namespace: demo}
            spec:
              selector: {matchLabels: {version: v1}}
              tracing:
              - providers: [{name: otel}]
                customTags: {tenant: {header: {name: x-tenant, defaultValue: none}}}
              accessLogging: [{providers: [{name: file}]}]
              metrics:
              - overrides:
                - match: {metric: REQUEST_COUNT, mode: SERVER}
                  tagOverrides:
                    request_protocol: {operation: REMOVE}
                    team: {value: "'payments'"}
                    computed: {value: "request.host"}
                - match: {metric: REQUEST_DURATION}
                  disabled: true
            """);
    // v1: the workload's provider, the namespace's sampling, tags merged from every level.
    HttpConnectionManager v1 = hcms(ctx, Fixtures.v1()).get(INBOUND);
    HttpConnectionManager.Tracing t = v1.getTracing();
    assertThat(t.getProvider().getName()).isEqualTo("envoy.tracers.opentelemetry");
    OpenTelemetryConfig o = t.getProvider().getTypedConfig().unpack(OpenTelemetryConfig.class);
    assertThat(o.getHttpService().getHttpUri().getCluster()).isEqualTo("outbound|4318||localhost");
    assertThat(o.getHttpService().getHttpUri().getUri())
        .isEqualTo("http://localhost:4318/v1/traces");
    assertThat(t.getRandomSampling().getValue()).isEqualTo(20);
    assertThat(t.getCustomTagsList())
        .extracting(c -> c.getTag())
        .contains("team", "tenant", "istio.canonical_service");
    FileAccessLog file = v1.getAccessLog(0).getTypedConfig().unpack(FileAccessLog.class);
    assertThat(file.getPath()).isEqualTo("/tmp/weft-access.json");
    assertThat(file.getLogFormat().getJsonFormat().getFieldsMap()).containsKey("code");
    // Metric overrides: SERVER side only, literal tags only (the CEL expression is left out).
    var stats =
        v1.getHttpFiltersList().stream().filter(f -> f.getName().equals("istio.stats")).toList();
    assertThat(stats).hasSize(1);
    var ts = stats.get(0).getTypedConfig().unpack(com.github.xds.type.v3.TypedStruct.class);
    assertThat(ts.getTypeUrl()).isEqualTo("type.googleapis.com/stats.PluginConfig");
    String cfg = ts.getValue().toString();
    assertThat(cfg).contains("requests_total").contains("payments").contains("request_protocol");
    assertThat(cfg).doesNotContain("request.host").contains("request_duration_milliseconds");
    HttpConnectionManager v1Out = hcms(ctx, Fixtures.v1()).get(OUTBOUND);
    String outCfg =
        v1Out.getHttpFiltersList().stream()
            .filter(f -> f.getName().equals("istio.stats"))
            .findFirst()
            .orElseThrow()
            .getTypedConfig()
            .unpack(com.github.xds.type.v3.TypedStruct.class)
            .getValue()
            .toString();
    assertThat(outCfg).doesNotContain("requests_total").contains("request_duration_milliseconds");
    // v2: the namespace level: no access log, default provider, namespace sampling.
    HttpConnectionManager v2 = hcms(ctx, Fixtures.v2()).get("127.0.1.3_9898");
    assertThat(v2.getAccessLogCount()).isZero();
    assertThat(v2.getTracing().getProvider().getName()).isEqualTo("envoy.tracers.zipkin");
    assertThat(v2.getTracing().getRandomSampling().getValue()).isEqualTo(20);
    // The gateway (root namespace): the mesh level.
    HttpConnectionManager gw = hcms(ctx, Fixtures.gateway()).values().iterator().next();
    assertThat(gw.getTracing().getRandomSampling().getValue()).isEqualTo(10);
    assertThat(gw.getAccessLogCount()).isEqualTo(1);
    // The OTLP collector outside the mesh gets a STATIC cluster under Istio's name.
    assertThat(
            new ClusterGenerator()
                .generate(ctx, Fixtures.v1()).stream()
                    .map(Cluster.class::cast)
                    .map(Cluster::getName))
        .contains("outbound|4318||localhost", "outbound|9411||127.0.0.1");
  }

  @Test
  void disableSpanReportingAndModeSplitClientFromServer() throws Exception {
    PushContext ctx =
        context(
            PROVIDERS,
            """
            apiVersion: telemetry.istio.io/v1
            kind: Telemetry
            metadata: {name: ns, namespace: demo}
            spec:
              tracing:
              - match: {mode: CLIENT}
                disableSpanReporting: true
            """);
    Map<String, HttpConnectionManager> v1 = hcms(ctx, Fixtures.v1());
    assertThat(v1.get(OUTBOUND).hasTracing()).isFalse();
    assertThat(v1.get(INBOUND).hasTracing()).isTrue();
  }
}
