package dev.weft.controlplane.gen;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.controlplane.Fixtures;
import dev.weft.controlplane.mesh.MeshConfig;
import dev.weft.controlplane.push.PushContext;
import dev.weft.controlplane.store.ConfigStore;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * DestinationRule {@code connectionPool.http.h2UpgradePolicy} and MeshConfig {@code
 * h2UpgradePolicy} as Istio's {@code shouldH2Upgrade}: the cluster's {@code
 * explicit_http_config.http2_protocol_options}.
 */
class H2UpgradePolicyTest {
  @TempDir Path dir;

  private static final String SERVICE =
      """
      apiVersion: v1
      kind: Service
      metadata: {name: web, namespace: b}
      spec:
        selector: {app: web}
        ports: [{name: http, port: 80}, {name: custom, port: 7000}, {name: tcp, port: 7100}]
      """;

  private static final Proxy CLIENT =
      Proxy.fromNode(
          Fixtures.node(
              "sidecar~127.0.1.30~c.a~a.svc.cluster.local",
              Map.of("app", "c"),
              "127.0.1.30",
              "",
              "127.0.2.30"));

  private List<Cluster> clusters(MeshConfig mesh, String yaml) throws Exception {
    ConfigStore store = ConfigStore.open(dir.resolve("s" + System.nanoTime()), Fixtures.CLOCK);
    assertThat(store.apply("t", Fixtures.parse("t", yaml)).errors()).isEmpty();
    PushContext ctx = PushContext.build(1, store.snapshot(), List.of(CLIENT.workload()), mesh);
    return new ClusterGenerator().generate(ctx, CLIENT).stream().map(m -> (Cluster) m).toList();
  }

  /** "h2", "downstream" (use_downstream_protocol_config) or "h1". */
  static String protocol(List<Cluster> cs, String name) throws Exception {
    Cluster c = cs.stream().filter(x -> x.getName().equals(name)).findFirst().orElseThrow();
    var any = c.getTypedExtensionProtocolOptionsMap().get(UpstreamProtocols.EXTENSION);
    if (any == null) {
      return "h1";
    }
    HttpProtocolOptions o = any.unpack(HttpProtocolOptions.class);
    if (o.hasExplicitHttpConfig() && o.getExplicitHttpConfig().hasHttp2ProtocolOptions()) {
      return "h2";
    }
    return o.hasUseDownstreamProtocolConfig() ? "downstream" : "h1";
  }

  @Test
  void upgradeMakesHttpPortsHttp2AndDoNotUpgradeWinsPerSubset() throws Exception {
    List<Cluster> cs =
        clusters(
            MeshConfig.DEFAULT,
            SERVICE
                + """
                ---
                apiVersion: networking.istio.io/v1
                kind: DestinationRule
                metadata: {name: web, namespace: b}
                spec:
                  host: web.b.svc.cluster.local
                  trafficPolicy: {connectionPool: {http: {h2UpgradePolicy: UPGRADE}}}
                  subsets:
                  - name: old
                    labels: {v: old}
                    trafficPolicy: {connectionPool: {http: {h2UpgradePolicy: DO_NOT_UPGRADE}}}
                """);
    assertThat(protocol(cs, "outbound|80||web.b.svc.cluster.local")).isEqualTo("h2");
    // A port of unknown protocol: the user says it is HTTP, so it is upgraded too (Istio's order).
    assertThat(protocol(cs, "outbound|7000||web.b.svc.cluster.local")).isEqualTo("h2");
    assertThat(protocol(cs, "outbound|7100||web.b.svc.cluster.local")).isEqualTo("h1");
    assertThat(protocol(cs, "outbound|80|old|web.b.svc.cluster.local")).isEqualTo("h1");
  }

  @Test
  void theMeshPolicyIsTheDefault() throws Exception {
    List<Cluster> plain = clusters(MeshConfig.DEFAULT, SERVICE);
    assertThat(protocol(plain, "outbound|80||web.b.svc.cluster.local")).isEqualTo("h1");
    List<Cluster> cs = clusters(MeshConfig.parse("h2UpgradePolicy: UPGRADE\n"), SERVICE);
    assertThat(protocol(cs, "outbound|80||web.b.svc.cluster.local")).isEqualTo("h2");
    // A sniffed port keeps its clients' protocol under the mesh default.
    assertThat(protocol(cs, "outbound|7000||web.b.svc.cluster.local")).isEqualTo("downstream");
  }
}
