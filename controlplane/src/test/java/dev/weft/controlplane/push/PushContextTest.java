package dev.weft.controlplane.push;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.controlplane.Fixtures;
import dev.weft.controlplane.registry.MeshService;
import dev.weft.controlplane.registry.Protocol;
import dev.weft.controlplane.registry.Workload;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PushContextTest {
  @TempDir Path dir;

  private static Workload workload(
      String name, String ns, Map<String, String> labels, String ip, Map<String, Integer> ports) {
    return new Workload(name, ns, labels, ip, ports, "default", Workload.Source.PROXY);
  }

  @Test
  void servicesSelectWorkloadsByLabelsInTheirNamespace() throws Exception {
    String yaml =
        """
        apiVersion: v1
        kind: Service
        metadata: {name: web, namespace: a}
        spec:
          selector: {app: web}
          ports:
          - {name: http, port: 80, targetPort: web-port}
          - {name: grpc-api, port: 9090, targetPort: 9090}
          - {name: tcp-db, port: 5432, targetPort: 5432}
          - {name: metrics, port: 9100, targetPort: 9100, appProtocol: http}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: none, namespace: a}
        spec:
          ports: [{name: http, port: 80}]
        ---
        apiVersion: networking.istio.io/v1
        kind: WorkloadEntry
        metadata: {name: vm, namespace: a}
        spec:
          address: 10.0.0.7
          labels: {app: web}
          ports: {http: 8081}
        """;
    var store = dev.weft.controlplane.store.ConfigStore.open(dir, Fixtures.CLOCK);
    assertThat(store.apply("t", Fixtures.parse("t", yaml)).errors()).isEmpty();
    PushContext ctx =
        PushContext.build(
            1,
            store.snapshot(),
            List.of(
                workload(
                    "w1",
                    "a",
                    Map.of("app", "web", "v", "1"),
                    "127.0.1.2",
                    Map.of("web-port", 8080)),
                workload("w2", "a", Map.of("app", "web"), "127.0.1.3", Map.of()), // port unresolved
                workload("w3", "b", Map.of("app", "web"), "127.0.1.4", Map.of("web-port", 8080))));

    MeshService web = ctx.service("web.a.svc.cluster.local");
    assertThat(web.ports())
        .extracting(MeshService.Port::protocol)
        .containsExactly(Protocol.HTTP, Protocol.GRPC, Protocol.TCP, Protocol.HTTP);

    MeshService.Port http = web.port(80);
    assertThat(ctx.endpoints(web, http, Map.of()))
        .extracting(e -> e.address() + ":" + e.port())
        .containsExactly("10.0.0.7:8081", "127.0.1.2:8080");
    assertThat(ctx.endpoints(web, web.port(9090), Map.of()))
        .extracting(e -> e.address() + ":" + e.port())
        .containsExactly("10.0.0.7:9090", "127.0.1.2:9090", "127.0.1.3:9090");
    assertThat(ctx.endpoints(web, web.port(9090), Map.of("v", "1")))
        .extracting(Endpoint::address)
        .containsExactly("127.0.1.2");

    MeshService none = ctx.service("none.a.svc.cluster.local");
    assertThat(ctx.endpoints(none, none.port(80), Map.of())).isEmpty();

    // The Services selecting a workload: by namespace and labels, found once per context for
    // workloads alike (issue #10: every proxy's listeners and clusters ask).
    Workload w1 = workload("w1", "a", Map.of("app", "web", "v", "1"), "127.0.1.2", Map.of());
    Workload alike = workload("w9", "a", Map.of("v", "1", "app", "web"), "127.0.1.9", Map.of());
    assertThat(ctx.servicesSelecting(w1)).containsExactly(web);
    assertThat(ctx.servicesSelecting(alike)).isSameAs(ctx.servicesSelecting(w1));
    assertThat(
            ctx.servicesSelecting(workload("w3", "b", Map.of("app", "web"), "1.2.3.4", Map.of())))
        .as("another namespace")
        .isEmpty();
    assertThat(ctx.servicesSelecting(workload("w4", "a", Map.of("app", "db"), "1.2.3.5", Map.of())))
        .as("other labels")
        .isEmpty();
  }

  /**
   * Who selects whom, found through an index of labels (issue #10: not every Service against every
   * workload), is what matching every selector against every workload finds: Services with one- and
   * two-label selectors that overlap, in two namespaces, one without a selector, a ServiceEntry
   * with a workloadSelector (an endpoint's Services leave it out), in the context's order.
   */
  @Test
  void theLabelIndexSelectsWhatAScanSelects() throws Exception {
    StringBuilder yaml = new StringBuilder();
    String[][] selectors = {
      {"app: web"},
      {"app: web", "tier: front"},
      {"tier: front"},
      {"tier: back", "app: db"},
      {"app: db"},
      {"version: v1"},
      {}
    };
    for (String ns : List.of("a", "b")) {
      for (int i = 0; i < selectors.length; i++) {
        yaml.append("apiVersion: v1\nkind: Service\nmetadata: {name: s")
            .append(i)
            .append(", namespace: ")
            .append(ns)
            .append("}\nspec:\n");
        if (selectors[i].length > 0) {
          yaml.append("  selector: {").append(String.join(", ", selectors[i])).append("}\n");
        }
        yaml.append("  ports: [{name: http, port: 80}]\n---\n");
      }
    }
    yaml.append(
        """
        apiVersion: networking.istio.io/v1
        kind: ServiceEntry
        metadata: {name: se, namespace: a}
        spec:
          hosts: [se.example.com]
          location: MESH_INTERNAL
          resolution: STATIC
          ports: [{name: http, number: 80, protocol: HTTP}]
          workloadSelector: {labels: {app: web}}
        """);
    var store = dev.weft.controlplane.store.ConfigStore.open(dir, Fixtures.CLOCK);
    assertThat(store.apply("t", Fixtures.parse("t", yaml.toString())).errors()).isEmpty();
    List<Map<String, String>> labelSets =
        List.of(
            Map.of("app", "web"),
            Map.of("app", "web", "tier", "front"),
            Map.of("tier", "front"),
            Map.of("app", "db", "tier", "back", "version", "v1"),
            Map.of("app", "db"),
            Map.of("version", "v1", "app", "web", "tier", "front"),
            Map.of("other", "x"),
            Map.of());
    List<Workload> workloads = new java.util.ArrayList<>();
    int n = 0;
    for (String ns : List.of("a", "b", "c")) {
      for (Map<String, String> labels : labelSets) {
        workloads.add(workload("w" + n, ns, labels, "127.0.2." + (++n), Map.of()));
      }
    }
    PushContext ctx = PushContext.build(1, store.snapshot(), workloads);
    assertThat(ctx.services()).hasSizeGreaterThan(2 * selectors.length);
    for (Workload w : workloads) {
      List<MeshService> scan =
          ctx.services().stream().filter(s -> !s.isServiceEntry() && s.selects(w)).toList();
      assertThat(ctx.servicesSelecting(w)).as(w.name() + " " + w.labels()).isEqualTo(scan);
    }
    for (MeshService s : ctx.services()) {
      List<Workload> scan = ctx.workloads().stream().filter(s::selects).toList();
      assertThat(ctx.selected(s)).as(s.hostname()).isEqualTo(scan);
    }
    assertThat(ctx.selected(ctx.service("s0.a.svc.cluster.local"))).hasSize(3);
    assertThat(ctx.servicesSelecting(workloads.get(5)))
        .extracting(MeshService::hostname)
        .containsExactly(
            "s0.a.svc.cluster.local",
            "s1.a.svc.cluster.local",
            "s2.a.svc.cluster.local",
            "s5.a.svc.cluster.local");
  }
}
