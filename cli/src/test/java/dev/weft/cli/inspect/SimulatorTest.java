package dev.weft.cli.inspect;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.weft.api.Resource;
import dev.weft.api.ResourceParser;
import dev.weft.cli.common.CliException;
import dev.weft.controlplane.api.Simulation;
import dev.weft.controlplane.gen.Proxy;
import dev.weft.controlplane.store.ConfigSnapshot;
import dev.weft.controlplane.store.StoredResource;
import dev.weft.samples.DemoManifests;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * {@code weft x simulate}'s engine over the demo's manifests: the control plane's generators
 * ({@link Simulation}) and the proxy's compiler and router ({@link Simulator}).
 */
class SimulatorTest {
  /** For the mesh: {@code x-canary: true} to v2, the rest 90/10. */
  private static final String CANARY_AND_HEADER =
      """
      apiVersion: networking.istio.io/v1
      kind: VirtualService
      metadata: {name: podinfo-mesh, namespace: demo}
      spec:
        hosts: [podinfo.demo.svc.cluster.local]
        http:
        - match:
          - headers:
              x-canary: {exact: "true"}
          route:
          - destination: {host: podinfo.demo.svc.cluster.local, subset: v2}
        - route:
          - destination: {host: podinfo.demo.svc.cluster.local, subset: v1}
            weight: 90
          - destination: {host: podinfo.demo.svc.cluster.local, subset: v2}
            weight: 10
      """;

  private static final String V1 = "outbound|80|v1|podinfo.demo.svc.cluster.local";
  private static final String V2 = "outbound|80|v2|podinfo.demo.svc.cluster.local";

  private final DemoMeshFixture mesh = new DemoMeshFixture("");

  private ConfigSnapshot snapshot() {
    Map<dev.weft.api.ResourceKey, StoredResource> stored = new TreeMap<>();
    int v = 0;
    for (Resource r : mesh.resources) {
      v++;
      stored.put(r.key(), new StoredResource(r, v, Instant.EPOCH.plusSeconds(v)));
    }
    return new ConfigSnapshot(v, stored);
  }

  private Simulator.Prediction simulate(
      String from, String change, String url, Map<String, String> headers) {
    var parsed = ResourceParser.parse("change.yaml", change);
    assertThat(parsed.errors()).isEmpty();
    List<Resource> changes = change.isEmpty() ? List.of() : parsed.resources();
    Proxy proxy = mesh.proxies.get(from);
    Simulation.Result r =
        Simulation.generate(
            snapshot(),
            changes,
            mesh.proxies.values().stream().map(Proxy::workload).toList(),
            proxy);
    try {
      return Simulator.predict(
          ConfigDumpView.of(r.configDump()),
          proxy.isRouter(),
          r.virtualServices(),
          Simulator.Request.of("GET", url, headers));
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void theGatewaySplitsNinetyTen() {
    Simulator.Prediction p =
        simulate("istio-ingressgateway.istio-system", "", "http://localhost:8080/", Map.of());
    assertThat(p.listener()).endsWith("_8080");
    assertThat(p.destinations())
        .extracting(Simulator.Destination::name, Simulator.Destination::weight)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(V1, 90),
            org.assertj.core.groups.Tuple.tuple(V2, 10));
    assertThat(p.destinations().get(0).endpoints()).containsExactly("127.0.1.2:9898");
    assertThat(p.destinations().get(1).endpoints()).containsExactly("127.0.1.3:9898");
  }

  @Test
  void aSidecarWithTheCanaryHeaderGoesToV2AndWithoutSplitsNinetyTen() {
    Simulator.Prediction with =
        simulate(
            "podinfo-v1.demo",
            CANARY_AND_HEADER,
            "http://podinfo.demo/api/info",
            Map.of("x-canary", "true"));
    assertThat(with.listener()).isEqualTo("127.0.1.2_15001");
    assertThat(with.routeConfig()).isEqualTo("http_proxy");
    assertThat(with.virtualHost()).isEqualTo("podinfo.demo.svc.cluster.local:80");
    assertThat(with.routeIndex()).isZero();
    assertThat(with.virtualService()).isEqualTo("demo/podinfo-mesh");
    assertThat(with.match()).contains("headers x-canary exact \"true\"");
    assertThat(with.clusters()).containsExactly(V2);
    assertThat(with.text())
        .contains("Listener: 127.0.1.2_15001 (outbound HTTP proxy)")
        .contains("Cluster: " + V2 + " (weight 100)")
        .contains("Endpoints: 127.0.1.3:9898");

    Simulator.Prediction without =
        simulate("podinfo-v1.demo", CANARY_AND_HEADER, "http://podinfo.demo/api/info", Map.of());
    assertThat(without.routeIndex()).isEqualTo(1);
    assertThat(without.destinations())
        .extracting(Simulator.Destination::name, Simulator.Destination::weight)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(V1, 90),
            org.assertj.core.groups.Tuple.tuple(V2, 10));
    assertThat(without.text()).contains("Cluster: " + V1 + " (weight 90 of 100)");
    assertThat(without.json())
        .contains("\"weight\" : 90")
        .contains("\"virtualService\" : \"demo/podinfo-mesh\"");
  }

  @Test
  void aHypotheticalChangeChangesThePrediction() {
    Simulator.Prediction before =
        simulate(
            "istio-ingressgateway.istio-system",
            "",
            "http://localhost:8080/",
            Map.of("x-canary", "true"));
    assertThat(before.clusters()).containsExactly(V1, V2);
    ConfigSnapshot base = snapshot();
    Simulator.Prediction after =
        simulate(
            "istio-ingressgateway.istio-system",
            DemoManifests.read(DemoManifests.VIRTUAL_SERVICE_HEADER),
            "http://localhost:8080/",
            Map.of("x-canary", "true"));
    assertThat(after.clusters()).containsExactly(V2);
    // the snapshot the change was applied to is unchanged
    assertThat(snapshot()).isEqualTo(base);
  }

  @Test
  void anUnknownHostIsNoRoute() {
    Simulator.Prediction p =
        simulate("podinfo-v1.demo", "", "http://nosuch.example:9898/", Map.of());
    assertThat(p.noRoute()).isTrue();
    assertThat(p.text()).contains("No route: 404 NR");
  }

  @Test
  void aBadUrlIsAnError() {
    assertThatThrownBy(() -> Simulator.Request.of("GET", "podinfo:9898/", Map.of()))
        .isInstanceOf(CliException.class)
        .hasMessageContaining("bad URL");
    assertThatThrownBy(() -> Simulator.Request.of("GET", "http://a b/", Map.of()))
        .isInstanceOf(CliException.class)
        .hasMessageContaining("bad URL");
  }
}
