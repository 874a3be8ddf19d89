package dev.weft.controlplane.push;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.api.ResourceKey;
import dev.weft.api.ResourceKind;
import dev.weft.controlplane.Fixtures;
import dev.weft.controlplane.store.ConfigSnapshot;
import dev.weft.controlplane.store.ConfigStore;
import dev.weft.xds.TypeUrls;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #10: which hosts' routes a VirtualService change may alter ({@link RouteChanges}), and so
 * which virtual hosts a push regenerates and whether it regenerates listeners.
 */
class RouteChangesTest {
  private static final String A = "a.demo.svc.cluster.local";
  private static final String B = "b.demo.svc.cluster.local";
  private static final String C = "c.demo.svc.cluster.local";
  private static final String DB = "db.demo.svc.cluster.local";

  @TempDir Path dir;
  ConfigStore store;

  @BeforeEach
  void setUp() throws Exception {
    store = ConfigStore.open(dir, Fixtures.CLOCK);
    apply(
        """
        apiVersion: v1
        kind: Service
        metadata: {name: a, namespace: demo}
        spec:
          selector: {app: a}
          ports: [{name: http, port: 80}]
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: b, namespace: demo}
        spec:
          selector: {app: b}
          ports: [{name: http, port: 80}]
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: c, namespace: demo}
        spec:
          selector: {app: c}
          ports: [{name: grpc, port: 9000}]
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: db, namespace: demo}
        spec:
          selector: {app: db}
          ports: [{name: tcp, port: 5432}]
        ---
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: a, namespace: demo}
        spec:
          hosts: [a]
          http: [{route: [{destination: {host: a}}]}]
        ---
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: untouched, namespace: demo}
        spec:
          hosts: [c]
          http: [{route: [{destination: {host: c}}]}]
        """);
  }

  private void apply(String yaml) throws Exception {
    var outcome = store.apply("t.yaml", Fixtures.parse("t.yaml", yaml));
    assertThat(outcome.ok()).as("%s", outcome).isTrue();
  }

  private void delete(String name) throws Exception {
    assertThat(
            store
                .delete(
                    "t.yaml", List.of(new ResourceKey(ResourceKind.VIRTUAL_SERVICE, "demo", name)))
                .ok())
        .isTrue();
  }

  private static RouteChanges between(ConfigSnapshot before, ConfigSnapshot after) {
    return RouteChanges.between(
        before.list(ResourceKind.VIRTUAL_SERVICE), after.list(ResourceKind.VIRTUAL_SERVICE));
  }

  @Test
  void aVirtualServiceThatMovesItsHostAffectsTheOldHostAndTheNew() throws Exception {
    ConfigSnapshot before = store.snapshot();
    apply(
        """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: a, namespace: demo}
        spec:
          hosts: [b]
          http: [{route: [{destination: {host: b}}]}]
        """);
    RouteChanges r = between(before, store.snapshot());
    assertThat(r.affects(A)).isTrue();
    assertThat(r.affects(B)).isTrue();
    assertThat(r.affects(C)).as("a VirtualService that did not change").isFalse();
    assertThat(r.exactHosts()).containsExactlyInAnyOrder(A, B);
    assertThat(r.gateways()).isFalse();
  }

  @Test
  void aDeletedVirtualServiceAffectsItsHosts() throws Exception {
    ConfigSnapshot before = store.snapshot();
    delete("a");
    RouteChanges r = between(before, store.snapshot());
    assertThat(r.exactHosts()).containsExactly(A);
  }

  @Test
  void aDelegateAffectsTheHostsOfTheVirtualServicesThatDelegateToIt() throws Exception {
    apply(
        """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: root, namespace: demo}
        spec:
          hosts: [b]
          http:
          - match: [{uri: {prefix: /api}}]
            delegate: {name: api, namespace: demo}
        ---
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: api, namespace: demo}
        spec:
          http: [{route: [{destination: {host: b}}]}]
        """);
    ConfigSnapshot before = store.snapshot();
    apply(
        """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: api, namespace: demo}
        spec:
          http: [{route: [{destination: {host: a}}]}]
        """);
    RouteChanges r = between(before, store.snapshot());
    assertThat(r.exactHosts())
        .as("the root's host, not the delegate's destinations")
        .containsExactly(B);

    // A deleted delegate affects its roots' hosts.
    before = store.snapshot();
    delete("api");
    assertThat(between(before, store.snapshot()).exactHosts()).containsExactly(B);
  }

  @Test
  void anExportToChangeAffectsItsHosts() throws Exception {
    ConfigSnapshot before = store.snapshot();
    apply(
        """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: a, namespace: demo}
        spec:
          hosts: [a]
          exportTo: ["."]
          http: [{route: [{destination: {host: a}}]}]
        """);
    assertThat(between(before, store.snapshot()).exactHosts()).containsExactly(A);
  }

  @Test
  void aVirtualServiceWithGatewaysAffectsGatewaysAndListeners() throws Exception {
    ConfigSnapshot before = store.snapshot();
    apply(
        """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: a, namespace: demo}
        spec:
          hosts: [a]
          gateways: [istio-system/ingress]
          http: [{route: [{destination: {host: a}}]}]
        """);
    RouteChanges r = between(before, store.snapshot());
    assertThat(r.exactHosts()).as("it leaves the mesh: a's sidecar routes change").contains(A);
    assertThat(r.gateways()).isTrue();
    assertThat(r.affectsListeners(List.of())).isTrue();
  }

  @Test
  void wildcardAndStarHosts() throws Exception {
    ConfigSnapshot before = store.snapshot();
    apply(
        """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: wild, namespace: demo}
        spec:
          hosts: ["*.demo.svc.cluster.local"]
          http: [{route: [{destination: {host: a}}]}]
        """);
    ConfigSnapshot wild = store.snapshot();
    RouteChanges r = between(before, wild);
    assertThat(r.affects(A)).isTrue();
    assertThat(r.affects(C)).isTrue();
    assertThat(r.affects("x.other.svc.cluster.local")).isFalse();
    apply(
        """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: star, namespace: demo}
        spec:
          hosts: ["*"]
          gateways: [gw]
          http: [{route: [{destination: {host: a}}]}]
        """);
    assertThat(between(wild, store.snapshot())).as("every host").isNull();
  }

  @Test
  void listenersChangeOnlyForHostsWithPortsBeyondTheHttpProxy() throws Exception {
    PushContext before = PushContext.build(1, store.snapshot(), List.of());
    apply(
        """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: a, namespace: demo}
        spec:
          hosts: [a]
          http: [{route: [{destination: {host: a}}], timeout: 3s}]
        """);
    PushContext http = PushContext.build(2, store.snapshot(), List.of(), before);
    assertThat(http.changes().routes().exactHosts()).containsExactly(A);
    assertThat(http.changes().affects(TypeUrls.ROUTE)).isTrue();
    assertThat(http.changes().affects(TypeUrls.LISTENER)).as("HTTP port only").isFalse();
    assertThat(http.changes().affects(TypeUrls.CLUSTER)).isFalse();
    assertThat(http.changes().affects(TypeUrls.ENDPOINT)).isFalse();

    apply(
        """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: db, namespace: demo}
        spec:
          hosts: [db]
          tcp: [{route: [{destination: {host: db}}]}]
        """);
    PushContext tcp = PushContext.build(3, store.snapshot(), List.of(), http);
    assertThat(tcp.changes().routes().exactHosts()).containsExactly(DB);
    assertThat(tcp.changes().affects(TypeUrls.LISTENER)).as("a TCP port's listener").isTrue();
  }
}
