package dev.weft.controlplane.push;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Message;
import dev.weft.api.ResourceKind;
import dev.weft.controlplane.Fixtures;
import dev.weft.controlplane.gen.Generator;
import dev.weft.controlplane.gen.Generators;
import dev.weft.controlplane.gen.Proxy;
import dev.weft.controlplane.registry.Workload;
import dev.weft.controlplane.store.ConfigStore;
import dev.weft.xds.TypeUrls;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #10: a push regenerates only the types its changes affect. Checks the table of {@link
 * ConfigsUpdated} against the generators: for every proxy of the fixture, a type a change does not
 * affect generates exactly what it did before the change.
 */
class ConfigsUpdatedTest {
  private static final List<Proxy> PROXIES =
      List.of(Fixtures.v1(), Fixtures.v2(), Fixtures.gateway());

  @TempDir Path dir;
  ConfigStore store;
  List<Workload> workloads;

  @BeforeEach
  void setUp() throws Exception {
    store = ConfigStore.open(dir, Fixtures.CLOCK);
    assertThat(store.apply("podinfo.yaml", Fixtures.fixtures("podinfo.yaml")).ok()).isTrue();
    workloads = new ArrayList<>(PROXIES.stream().map(Proxy::workload).toList());
  }

  private void apply(String yaml) throws Exception {
    assertThat(store.apply("change.yaml", Fixtures.parse("change.yaml", yaml)).ok()).isTrue();
  }

  /**
   * Asserts that the types {@code next.changes()} does not affect generate what {@code prev} did.
   */
  private static void unaffectedTypesUnchanged(PushContext prev, PushContext next) {
    for (Generator g : Generators.ALL) {
      if (next.changes().affects(g.typeUrl())) {
        continue;
      }
      for (Proxy p : PROXIES) {
        List<Message> before = g.generate(prev, p);
        List<Message> after = g.generate(next, p);
        assertThat(after)
            .as(TypeUrls.shortName(g.typeUrl()) + " of " + p.id() + " after " + next.changes())
            .isEqualTo(before);
      }
    }
  }

  private static Set<String> affected(ConfigsUpdated c) {
    Set<String> out = new java.util.TreeSet<>();
    for (String t : Generators.TYPE_ORDER) {
      if (c.affects(t)) {
        out.add(TypeUrls.shortName(t));
      }
    }
    return out;
  }

  @Test
  void aProxyConfigChangePushesNothing() throws Exception {
    // Read when a proxy starts (Istio: "changes will require restart of workloads").
    PushContext before = PushContext.build(1, store.snapshot(), workloads);
    apply(
        """
        apiVersion: networking.istio.io/v1beta1
        kind: ProxyConfig
        metadata: {name: one-worker, namespace: demo}
        spec:
          concurrency: 1
        """);
    PushContext after = PushContext.build(2, store.snapshot(), workloads, before);
    assertThat(after.changes().isEmpty()).isTrue();
    unaffectedTypesUnchanged(before, after);
  }

  @Test
  void underASidecarAVirtualServiceChangeMayChangeClusters() throws Exception {
    // v1's Sidecar imports only podinfo; a VirtualService on podinfo that routes to another
    // namespace's service brings that service's cluster into v1's scope.
    apply(
        """
        apiVersion: v1
        kind: Service
        metadata: {name: far, namespace: other}
        spec:
          selector: {app: far}
          ports: [{name: http, port: 80}]
        ---
        apiVersion: networking.istio.io/v1
        kind: Sidecar
        metadata: {name: default, namespace: demo}
        spec:
          egress: [{hosts: ["demo/podinfo.demo.svc.cluster.local"]}]
        """);
    PushContext before = PushContext.build(1, store.snapshot(), workloads);
    apply(
        """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: to-far, namespace: demo}
        spec:
          hosts: [podinfo]
          http: [{route: [{destination: {host: far.other.svc.cluster.local}}]}]
        """);
    PushContext after = PushContext.build(2, store.snapshot(), workloads, before);
    assertThat(after.changes().affects(TypeUrls.CLUSTER)).isTrue();
    unaffectedTypesUnchanged(before, after);
    assertThat(
            new dev.weft.controlplane.gen.ClusterGenerator()
                .generate(after, Fixtures.v1()).stream()
                    .map(m -> ((io.envoyproxy.envoy.config.cluster.v3.Cluster) m).getName())
                    .toList())
        .contains("outbound|80||far.other.svc.cluster.local");
  }

  @Test
  void eachChangeRegeneratesOnlyWhatItAffects() throws Exception {
    PushContext first = PushContext.build(1, store.snapshot(), workloads);
    assertThat(first.changes()).isEqualTo(ConfigsUpdated.FULL);
    assertThat(affected(first.changes())).containsExactly("CDS", "EDS", "LDS", "RDS", "SDS");

    // Nothing changed.
    PushContext same = PushContext.build(2, store.snapshot(), List.copyOf(workloads), first);
    assertThat(same.changes().isEmpty()).isTrue();
    assertThat(affected(same.changes())).isEmpty();

    // VirtualServices: one for the mesh added, the gateway's changed.
    apply(
        """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: podinfo-mesh, namespace: demo}
        spec:
          hosts: [podinfo]
          http:
          - route:
            - destination: {host: podinfo, subset: v2}
        ---
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: podinfo, namespace: demo}
        spec:
          hosts: ["*"]
          gateways: ["podinfo-gw"]
          http:
          - route:
            - destination: {host: podinfo.demo.svc.cluster.local, subset: v2}
        """);
    PushContext vs = PushContext.build(3, store.snapshot(), List.copyOf(workloads), same);
    assertThat(vs.changes().kinds()).containsExactly(ResourceKind.VIRTUAL_SERVICE);
    assertThat(affected(vs.changes())).containsExactly("LDS", "RDS");
    unaffectedTypesUnchanged(same, vs);
    for (Proxy p : PROXIES) {
      assertThat(Generators.of(TypeUrls.ROUTE).generate(vs, p))
          .as("the change reaches " + p.id())
          .isNotEqualTo(Generators.of(TypeUrls.ROUTE).generate(same, p));
    }

    // A workload connected with a service account podinfo's workloads already have: endpoints only.
    String sa = Fixtures.v1().workload().serviceAccount();
    workloads.add(
        new Workload(
            "podinfo-v3",
            "demo",
            Map.of("app", "podinfo", "version", "v2"),
            "127.0.1.9",
            Map.of("http", 9898),
            sa,
            Workload.Source.PROXY));
    PushContext wl = PushContext.build(4, store.snapshot(), List.copyOf(workloads), vs);
    assertThat(wl.changes().workloads()).isTrue();
    assertThat(wl.changes().serviceAccounts()).isFalse();
    assertThat(wl.changes().kinds()).isEmpty();
    assertThat(affected(wl.changes())).containsExactly("EDS");
    unaffectedTypesUnchanged(vs, wl);
    assertThat(Generators.of(TypeUrls.ENDPOINT).generate(wl, Fixtures.v1()))
        .isNotEqualTo(Generators.of(TypeUrls.ENDPOINT).generate(vs, Fixtures.v1()));

    // One with a new service account: also CDS (the SANs upstream mTLS verifies).
    workloads.add(
        new Workload(
            "podinfo-v4",
            "demo",
            Map.of("app", "podinfo", "version", "v1"),
            "127.0.1.10",
            Map.of("http", 9898),
            "another-" + sa,
            Workload.Source.PROXY));
    PushContext newSa = PushContext.build(5, store.snapshot(), List.copyOf(workloads), wl);
    assertThat(newSa.changes().serviceAccounts()).isTrue();
    assertThat(affected(newSa.changes())).containsExactly("CDS", "EDS");
    unaffectedTypesUnchanged(wl, newSa);

    // A DestinationRule: everything.
    apply(
        """
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: podinfo, namespace: demo}
        spec:
          host: podinfo
          subsets:
          - {name: v1, labels: {version: v1}}
        """);
    PushContext dr = PushContext.build(6, store.snapshot(), List.copyOf(workloads), newSa);
    assertThat(dr.changes().kinds()).containsExactly(ResourceKind.DESTINATION_RULE);
    assertThat(affected(dr.changes())).containsExactly("CDS", "EDS", "LDS", "RDS");

    // Merged (a connection held back by flow control): the union.
    assertThat(affected(vs.changes().merge(wl.changes())))
        .containsExactly("CDS", "EDS", "LDS", "RDS");
    assertThat(affected(wl.changes().merge(same.changes()))).containsExactly("EDS");
    assertThat(vs.changes().merge(ConfigsUpdated.FULL)).isEqualTo(ConfigsUpdated.FULL);

    // A Secret: SDS only (gateways' credentials), and SDS for nothing else.
    apply(
        """
        apiVersion: v1
        kind: Secret
        metadata: {name: other, namespace: istio-system}
        stringData: {password: x}
        """);
    PushContext secret = PushContext.build(7, store.snapshot(), List.copyOf(workloads), dr);
    assertThat(secret.changes().kinds()).containsExactly(ResourceKind.SECRET);
    assertThat(affected(secret.changes())).containsExactly("SDS");
    unaffectedTypesUnchanged(dr, secret);
    assertThat(affected(dr.changes())).doesNotContain("SDS");
  }
}
