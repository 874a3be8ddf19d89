package dev.weft.controlplane.xds;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.api.ResourceKey;
import dev.weft.api.ResourceKind;
import dev.weft.controlplane.ControlPlane;
import dev.weft.controlplane.Fixtures;
import dev.weft.controlplane.gen.Proxy;
import dev.weft.controlplane.push.PushContext;
import dev.weft.xds.TypeUrls;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.Resource;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #10: pushes after a VirtualService change are computed incrementally (only the changed
 * hosts' virtual hosts regenerated, listeners skipped when they cannot change, each stream answered
 * from its scope's one diff), so this test holds them to the strongest guard against incremental
 * bugs, over real delta streams (TLS, workload tokens) to a real control plane: after every change
 * of a random sequence, every stream holds exactly what a push context built from scratch (no
 * previous context, nothing reused) generates for its proxy, every type; and the change delivered
 * exactly the resources whose content changed and removed exactly those that are gone, nothing
 * else.
 */
class DeltaIncrementalTest {
  private static final List<String> TYPES =
      List.of(
          TypeUrls.CLUSTER,
          TypeUrls.ENDPOINT,
          TypeUrls.LISTENER,
          TypeUrls.ROUTE,
          TypeUrls.VIRTUAL_HOST);

  private static final String MESH =
      """
      apiVersion: v1
      kind: Service
      metadata: {name: a, namespace: demo}
      spec:
        selector: {app: a}
        ports: [{name: http, port: 80, targetPort: 8080}]
      ---
      apiVersion: v1
      kind: Service
      metadata: {name: b, namespace: demo}
      spec:
        selector: {app: b}
        ports:
        - {name: http, port: 80, targetPort: 8080}
        - {name: http2-alt, port: 8081, targetPort: 8081}
      ---
      apiVersion: v1
      kind: Service
      metadata: {name: c, namespace: demo}
      spec:
        selector: {app: c}
        ports: [{name: grpc, port: 9000, targetPort: 9000}]
      ---
      apiVersion: v1
      kind: Service
      metadata: {name: db, namespace: demo}
      spec:
        selector: {app: db}
        ports: [{name: tcp, port: 5432, targetPort: 5432}]
      ---
      apiVersion: v1
      kind: Service
      metadata: {name: s, namespace: demo}
      spec:
        selector: {app: s}
        ports: [{name: web, port: 7000, targetPort: 7000}]
      ---
      apiVersion: v1
      kind: Service
      metadata: {name: o, namespace: other}
      spec:
        selector: {app: o}
        ports: [{name: http, port: 80, targetPort: 8080}]
      ---
      apiVersion: networking.istio.io/v1
      kind: DestinationRule
      metadata: {name: a, namespace: demo}
      spec:
        host: a.demo.svc.cluster.local
        subsets: [{name: v1, labels: {version: v1}}, {name: v2, labels: {version: v2}}]
      ---
      apiVersion: networking.istio.io/v1
      kind: DestinationRule
      metadata: {name: b, namespace: demo}
      spec:
        host: b.demo.svc.cluster.local
        subsets: [{name: v1, labels: {version: v1}}, {name: v2, labels: {version: v2}}]
      """;

  private static final List<String> HOSTS = List.of("a", "b", "c", "s", "o.other");

  @TempDir Path dir;
  ControlPlane cp;
  final List<DeltaAdsClient> clients = new ArrayList<>();
  final List<Node> nodes = new ArrayList<>();

  @BeforeEach
  void start() throws Exception {
    cp = Fixtures.startWithPodinfo(Fixtures.controlPlane(dir));
    apply("mesh.yaml", MESH);
  }

  @AfterEach
  void stop() throws Exception {
    for (DeltaAdsClient c : clients) {
      c.close();
    }
    cp.close();
  }

  private long apply(String name, String yaml) throws Exception {
    var outcome = cp.store().apply(name, Fixtures.parse(name, yaml));
    assertThat(outcome.ok()).as("%s", outcome).isTrue();
    return Long.parseLong(outcome.results().get(0).resourceVersion());
  }

  /** Connects a client for {@code node} subscribing to every type by wildcard, RDS by name. */
  private void connect(Node node) throws Exception {
    DeltaAdsClient c = new DeltaAdsClient(cp, node);
    clients.add(c);
    nodes.add(node);
    for (String type : List.of(TypeUrls.CLUSTER, TypeUrls.ENDPOINT, TypeUrls.LISTENER)) {
      c.subscribe(type, "*");
    }
    c.subscribe(TypeUrls.VIRTUAL_HOST, "*");
    Proxy p = Proxy.fromNode(node);
    c.subscribe(
        TypeUrls.ROUTE,
        new ArrayList<>(DeltaAdsService.available(cp.pushContext(), p, TypeUrls.ROUTE).keySet()),
        Map.of());
  }

  /**
   * Takes and ACKs every response until the control plane reports {@code generation} synced by
   * every stream and none is left; returns per client and type the names received and removed.
   */
  private List<Map<String, Set<String>>> settle(long generation, boolean once) throws Exception {
    List<Map<String, Set<String>>> got = new ArrayList<>();
    for (int i = 0; i < clients.size(); i++) {
      got.add(new HashMap<>());
    }
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (true) {
      assertThat(System.nanoTime())
          .as("generation %d synced in time", generation)
          .isLessThan(deadline);
      boolean any = false;
      for (int i = 0; i < clients.size(); i++) {
        DeltaDiscoveryResponse r = clients.get(i).poll(0);
        if (r == null) {
          continue;
        }
        any = true;
        Set<String> names = got.get(i).computeIfAbsent(r.getTypeUrl(), t -> new TreeSet<>());
        for (Resource res : r.getResourcesList()) {
          assertThat(names.add(res.getName()) || !once)
              .as("%s sent once per change: %s", res.getName(), TypeUrls.shortName(r.getTypeUrl()))
              .isTrue();
        }
        for (String removed : r.getRemovedResourcesList()) {
          assertThat(names.add("-" + removed) || !once).isTrue();
        }
        clients.get(i).ack(r);
      }
      if (any) {
        continue;
      }
      SyncReport report = cp.awaitSync(generation, Duration.ZERO);
      if (report.done()) {
        boolean empty = true;
        for (DeltaAdsClient c : clients) {
          empty &= c.queued() == 0;
        }
        if (empty) {
          return got;
        }
      }
      waitForResponses(20);
    }
  }

  /** Waits up to {@code millis} for a response on any client (returns early when one comes). */
  private void waitForResponses(long millis) throws InterruptedException {
    long until = System.nanoTime() + millis * 1_000_000;
    while (System.nanoTime() < until) {
      for (DeltaAdsClient c : clients) {
        if (c.queued() > 0) {
          return;
        }
      }
      Thread.sleep(1); // polling a condition with a deadline, not synchronising on time
    }
  }

  /**
   * What each client's proxy is generated from a push context built from scratch on the current
   * snapshot and workloads: per type, resource name to version (a content hash).
   */
  private List<Map<String, Map<String, String>>> fresh() {
    PushContext now = cp.pushContext();
    // The test has no WorkloadEntries, so the context's workloads are the connected ones.
    PushContext scratch =
        PushContext.build(now.version(), now.config(), now.workloads(), now.mesh());
    List<Map<String, Map<String, String>>> out = new ArrayList<>();
    for (Node node : nodes) {
      Proxy p = Proxy.fromNode(node);
      Map<String, Map<String, String>> types = new HashMap<>();
      for (String type : TYPES) {
        Map<String, String> versions = new HashMap<>();
        DeltaAdsService.available(scratch, p, type)
            .forEach((name, v) -> versions.put(name, v.version()));
        types.put(type, versions);
      }
      out.add(types);
    }
    return out;
  }

  private void assertEveryStreamHoldsAFreshSnapshot(
      List<Map<String, Map<String, String>>> expected, String after) {
    for (int i = 0; i < clients.size(); i++) {
      for (String type : TYPES) {
        assertThat(clients.get(i).held.getOrDefault(type, Map.of()))
            .as("%s of %s after %s", TypeUrls.shortName(type), nodes.get(i).getId(), after)
            .isEqualTo(expected.get(i).get(type));
      }
    }
  }

  /** The names whose version differs between two snapshots, gone ones as {@code -name}. */
  private static Set<String> delta(Map<String, String> before, Map<String, String> after) {
    Set<String> out = new TreeSet<>();
    after.forEach(
        (n, v) -> {
          if (!v.equals(before.get(n))) {
            out.add(n);
          }
        });
    for (String n : before.keySet()) {
      if (!after.containsKey(n)) {
        out.add("-" + n);
      }
    }
    return out;
  }

  @Test
  void afterRandomChangesEveryStreamHoldsWhatAFreshPushContextGenerates() throws Exception {
    connect(
        Fixtures.node(
            "sidecar~127.0.1.21~x-1.demo~demo.svc.cluster.local",
            Map.of("app", "x", "version", "v1"),
            "127.0.1.21",
            "",
            ""));
    connect(
        Fixtures.node(
            "sidecar~127.0.1.22~y-1.demo~demo.svc.cluster.local",
            Map.of("app", "y"),
            "127.0.1.22",
            "",
            ""));
    connect(
        Fixtures.node(
            "sidecar~127.0.1.23~z-1.other~other.svc.cluster.local",
            Map.of("app", "z"),
            "127.0.1.23",
            "",
            ""));
    connect(Fixtures.gatewayNode());
    // Registrations are pushed on their own (debounced) schedule: wait until all four are in the
    // push context, so that every push below is the change's alone.
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (cp.pushContext().workloads().size() < nodes.size()) {
      assertThat(System.nanoTime()).as("the proxies registered").isLessThan(deadline);
      waitForResponses(20);
    }
    settle(cp.pushContext().config().version(), false);
    List<Map<String, Map<String, String>>> before = fresh();
    assertEveryStreamHoldsAFreshSnapshot(before, "the initial sync");

    Random random = new Random(10);
    int vhdsOnly = 0;
    for (int step = 0; step < 60; step++) {
      Change change = randomChange(random, step);
      long generation = change.apply(this);
      List<Map<String, Set<String>>> got = settle(generation, true);
      List<Map<String, Map<String, String>>> after = fresh();
      assertEveryStreamHoldsAFreshSnapshot(after, change.what());
      boolean onlyVhds = true;
      for (int i = 0; i < clients.size(); i++) {
        for (String type : TYPES) {
          Set<String> expected = delta(before.get(i).get(type), after.get(i).get(type));
          assertThat(got.get(i).getOrDefault(type, Set.of()))
              .as(
                  "%s sent to %s for %s: exactly what changed",
                  TypeUrls.shortName(type), nodes.get(i).getId(), change.what())
              .isEqualTo(expected);
          if (!type.equals(TypeUrls.VIRTUAL_HOST) && !expected.isEmpty()) {
            onlyVhds = false;
          }
        }
      }
      if (onlyVhds) {
        vhdsOnly++;
      }
      before = after;
    }
    assertThat(vhdsOnly).as("most changes change virtual hosts only").isGreaterThan(20);
  }

  private record Change(String what, String name, String yaml, String deleted) {
    long apply(DeltaIncrementalTest t) throws Exception {
      if (deleted != null) {
        boolean exists =
            t.cp.store().snapshot().list(ResourceKind.VIRTUAL_SERVICE).stream()
                .anyMatch(r -> r.resource().metadata().name().equals(deleted));
        if (!exists) {
          return t.cp.store().snapshot().version();
        }
        var outcome =
            t.cp
                .store()
                .delete(
                    "chg.yaml",
                    List.of(new ResourceKey(ResourceKind.VIRTUAL_SERVICE, "demo", deleted)));
        assertThat(outcome.ok()).as("%s", outcome).isTrue();
        return t.cp.store().snapshot().version();
      }
      return t.apply(name, yaml);
    }
  }

  private static String vs(String name, String hostsAndMore, String http) {
    return """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: %s, namespace: demo}
        spec:
        %s
        %s
        """
        .formatted(name, hostsAndMore.indent(2).stripTrailing(), http.indent(2).stripTrailing());
  }

  private static String weighted(String host, int weight) {
    return """
        http:
        - route:
          - destination: {host: %s, subset: v1}
            weight: %d
          - destination: {host: %s, subset: v2}
            weight: %d
        """
        .formatted(host, weight, host, 100 - weight);
  }

  private static String to(String host, int timeoutSeconds) {
    return """
        http:
        - timeout: %ds
          route:
          - destination: {host: %s}
        """
        .formatted(timeoutSeconds, host);
  }

  private static Change randomChange(Random random, int step) {
    int w = 5 * random.nextInt(21);
    String host = HOSTS.get(random.nextInt(HOSTS.size()));
    return switch (random.nextInt(12)) {
      case 0, 1 ->
          new Change(
              "weights of a " + w,
              "vs-a.yaml",
              vs("vs-a", "hosts: [a]", weighted("a.demo.svc.cluster.local", w)),
              null);
      case 2 ->
          new Change(
              "vs-move to " + host,
              "vs-move.yaml",
              vs("vs-move", "hosts: [" + host + "]", to("b.demo.svc.cluster.local", 1 + step)),
              null);
      case 3 -> {
        String[] names = {"vs-a", "vs-move", "vs-root", "vs-export", "vs-gw", "vs-tcp", "vs-src"};
        String n = names[random.nextInt(names.length)];
        yield new Change("delete " + n, null, null, n);
      }
      case 4 ->
          new Change(
              "delegate root on b",
              "vs-root.yaml",
              vs(
                  "vs-root",
                  "hosts: [b]",
                  """
                  http:
                  - match: [{uri: {prefix: /api}}]
                    delegate: {name: vs-dlg, namespace: demo}
                  - route: [{destination: {host: b}}]
                  """),
              null);
      case 5 ->
          new Change(
              "delegate's routes " + w,
              "vs-dlg.yaml",
              vs(
                  "vs-dlg",
                  "hosts: []",
                  """
                  http:
                  - match: [{uri: {prefix: /api/v%d}}]
                    route: [{destination: {host: a}}]
                  """
                      .formatted(w)),
              null);
      case 6 ->
          new Change(
              "exportTo of c " + (w % 2 == 0 ? "." : "*"),
              "vs-export.yaml",
              vs(
                  "vs-export",
                  "hosts: [c]\nexportTo: [\"" + (w % 2 == 0 ? "." : "*") + "\"]",
                  to("c.demo.svc.cluster.local", 2)),
              null);
      case 7 ->
          new Change(
              "gateways of vs-gw " + (w % 2 == 0 ? "mesh" : "podinfo-gw"),
              "vs-gw.yaml",
              vs(
                  "vs-gw",
                  "hosts: [s, podinfo.local]\ngateways: ["
                      + (w % 2 == 0 ? "mesh" : "podinfo-gw")
                      + "]",
                  to("s.demo.svc.cluster.local", 1 + w)),
              null);
      case 8 ->
          new Change(
              "tcp weights of db " + w,
              "vs-tcp.yaml",
              vs(
                  "vs-tcp",
                  "hosts: [db]",
                  """
                  tcp:
                  - route:
                    - destination: {host: db}
                      weight: %d
                    - destination: {host: a}
                      weight: %d
                  """
                      .formatted(w, 100 - w)),
              null);
      case 9 ->
          new Change(
              "sourceLabels on o " + w,
              "vs-src.yaml",
              vs(
                  "vs-src",
                  "hosts: [o.other.svc.cluster.local]",
                  """
                  http:
                  - match: [{sourceLabels: {app: x}}]
                    route: [{destination: {host: a, subset: v2}}]
                    timeout: %ds
                  - route: [{destination: {host: o.other.svc.cluster.local}}]
                  """
                      .formatted(1 + w)),
              null);
      case 10 ->
          new Change(
              "wildcard " + w,
              "vs-a.yaml",
              vs(
                  "vs-a",
                  "hosts: [\"*.other.svc.cluster.local\"]",
                  to("a.demo.svc.cluster.local", 1 + w)),
              null);
      default ->
          new Change(
              "a DestinationRule's subsets " + w,
              "dr.yaml",
              """
              apiVersion: networking.istio.io/v1
              kind: DestinationRule
              metadata: {name: b, namespace: demo}
              spec:
                host: b.demo.svc.cluster.local
                subsets: [{name: v1, labels: {version: v1}}, {name: v%d, labels: {version: v2}}]
              """
                  .formatted(2 + w % 3),
              null);
    };
  }
}
