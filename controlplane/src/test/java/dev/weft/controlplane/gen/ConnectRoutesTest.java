package dev.weft.controlplane.gen;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.controlplane.Fixtures;
import dev.weft.controlplane.mesh.MeshConfig;
import dev.weft.controlplane.push.PushContext;
import dev.weft.controlplane.store.ConfigStore;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.WeightedCluster;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code http_proxy}'s CONNECT routes to TCP service ports follow the port's VirtualService {@code
 * tcp} routes as its TCP listener does: weights, {@code sourceLabels}, and the whole service when
 * no route applies.
 */
class ConnectRoutesTest {
  @TempDir Path dir;

  private static final String CONFIG =
      """
      apiVersion: v1
      kind: Service
      metadata: {name: db, namespace: b}
      spec:
        selector: {app: db}
        ports: [{name: tcp, port: 7200}, {name: tcp-other, port: 7300}]
      ---
      apiVersion: networking.istio.io/v1
      kind: VirtualService
      metadata: {name: db, namespace: b}
      spec:
        hosts: [db.b.svc.cluster.local]
        tcp:
        - match: [{port: 7200, sourceLabels: {app: canary-client}}]
          route: [{destination: {host: db.b.svc.cluster.local, subset: v3}}]
        - match: [{port: 7200}]
          route:
          - {destination: {host: db.b.svc.cluster.local, subset: v1}, weight: 70}
          - {destination: {host: db.b.svc.cluster.local, subset: v2}, weight: 30}
      """;

  static Proxy sidecar(String app) {
    return Proxy.fromNode(
        Fixtures.node(
            "sidecar~127.0.1.20~" + app + ".a~a.svc.cluster.local",
            Map.of("app", app),
            "127.0.1.20",
            "",
            "127.0.2.20"));
  }

  private RouteConfiguration routes(Proxy p) throws Exception {
    ConfigStore store = ConfigStore.open(dir.resolve(p.workload().name()), Fixtures.CLOCK);
    assertThat(store.apply("t", Fixtures.parse("t", CONFIG)).errors()).isEmpty();
    PushContext ctx =
        PushContext.build(1, store.snapshot(), List.of(p.workload()), MeshConfig.DEFAULT);
    return (RouteConfiguration) new RouteGenerator().generate(ctx, p).get(0);
  }

  static Route connect(RouteConfiguration rc, String vhost) {
    return rc.getVirtualHostsList().stream()
        .filter(v -> v.getName().equals(vhost))
        .findFirst()
        .orElseThrow()
        .getRoutes(0);
  }

  @Test
  void aConnectRouteTakesThePortsWeightedTcpRoute() throws Exception {
    RouteConfiguration rc = routes(sidecar("client"));
    Route r = connect(rc, "db.b.svc.cluster.local:7200");
    assertThat(r.getMatch().hasConnectMatcher()).isTrue();
    assertThat(r.getRoute().getWeightedClusters().getClustersList())
        .extracting(WeightedCluster.ClusterWeight::getName, c -> c.getWeight().getValue())
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("outbound|7200|v1|db.b.svc.cluster.local", 70),
            org.assertj.core.groups.Tuple.tuple("outbound|7200|v2|db.b.svc.cluster.local", 30));
    assertThat(r.getRoute().getUpgradeConfigs(0).hasConnectConfig()).isTrue();
    // Port 7300 has no tcp route: the whole service.
    assertThat(connect(rc, "db.b.svc.cluster.local:7300").getRoute().getCluster())
        .isEqualTo("outbound|7300||db.b.svc.cluster.local");
  }

  @Test
  void aSourceLabelsMatchChoosesTheRouteForTheProxiesItSelects() throws Exception {
    Route r = connect(routes(sidecar("canary-client")), "db.b.svc.cluster.local:7200");
    assertThat(r.getRoute().getCluster()).isEqualTo("outbound|7200|v3|db.b.svc.cluster.local");
  }
}
