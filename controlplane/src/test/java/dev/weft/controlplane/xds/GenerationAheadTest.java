package dev.weft.controlplane.xds;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.controlplane.ControlPlane;
import dev.weft.controlplane.Fixtures;
import dev.weft.xds.TypeUrls;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.Resource;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #10, "initial requests served concurrently": delta streams' resources are generated ahead
 * of their responses on a pool ({@link Prefetch}). The oracle is the same mesh answered by the
 * executor alone: every stream must end up holding the same resources at the same versions (their
 * content's hash), after its sync and after a change pushed to all of them.
 */
class GenerationAheadTest {
  private static final int SIDECARS = 12;

  @TempDir Path without;
  @TempDir Path with;

  @Test
  void streamsHoldTheSameResourcesWhetherGeneratedAheadOrByTheExecutor() throws Exception {
    Map<String, Map<String, Map<String, String>>> byExecutor = sync(without, 0);
    Map<String, Map<String, Map<String, String>>> ahead = sync(with, 2);

    assertThat(byExecutor).hasSize(SIDECARS + 1);
    assertThat(byExecutor.get("sidecar~127.0.1.10~svc-0-pod.demo~demo.svc.cluster.local"))
        .as("what one sidecar holds")
        .containsKeys(TypeUrls.CLUSTER, TypeUrls.ENDPOINT, TypeUrls.LISTENER, TypeUrls.ROUTE);
    assertThat(ahead).isEqualTo(byExecutor);
  }

  /**
   * A control plane with {@code generators} threads generating ahead: its streams' sync, then a
   * change (a Service more, a VirtualService) pushed to them; what each stream holds, by node id.
   */
  private static Map<String, Map<String, Map<String, String>>> sync(Path dir, int generators)
      throws Exception {
    try (ControlPlane cp =
        Fixtures.startWithPodinfo(
            Fixtures.controlPlane(dir).dashboardAddress(null).generators(generators))) {
      assertThat(
              cp.store()
                  .apply("services.yaml", Fixtures.parse("services.yaml", Fixtures.services(10)))
                  .ok())
          .isTrue();
      List<Sidecar> sidecars = new ArrayList<>();
      try {
        for (int i = 0; i < SIDECARS; i++) {
          String ns = i < SIDECARS - 2 ? "demo" : "other";
          sidecars.add(
              new Sidecar(
                  new DeltaAdsClient(
                      cp,
                      Fixtures.node(
                          "sidecar~127.0.1."
                              + (10 + i)
                              + "~svc-"
                              + i
                              + "-pod."
                              + ns
                              + "~"
                              + ns
                              + ".svc.cluster.local",
                          Map.of("app", "svc-" + i),
                          "127.0.1." + (10 + i),
                          "http:9898",
                          "127.0.2." + (10 + i)))));
        }
        sidecars.add(new Sidecar(new DeltaAdsClient(cp, Fixtures.gatewayNode())));
        for (Sidecar s : sidecars) {
          s.client.subscribe(TypeUrls.CLUSTER, "*");
          s.client.subscribe(TypeUrls.LISTENER, "*");
        }
        settle(cp, sidecars, "outbound|80||svc-9.demo.svc.cluster.local");

        assertThat(
                cp.store()
                    .apply(
                        "change.yaml",
                        Fixtures.parse(
                            "change.yaml",
                            Fixtures.services(11)
                                + """
                                apiVersion: networking.istio.io/v1
                                kind: VirtualService
                                metadata: {name: svc-0, namespace: demo}
                                spec:
                                  hosts: [svc-0]
                                  http:
                                  - match: [{headers: {x-canary: {exact: "1"}}}]
                                    route: [{destination: {host: svc-1}}]
                                  - route: [{destination: {host: svc-0}}]
                                """))
                    .ok())
            .isTrue();
        settle(cp, sidecars, "outbound|80||svc-10.demo.svc.cluster.local");

        // The pool made some of what was sent (else this test compares the executor with itself).
        String flow = cp.xdsFlowState();
        java.util.regex.Matcher counts =
            java.util.regex.Pattern.compile("resources for (\\d+) responses, (\\d+) of them")
                .matcher(flow);
        assertThat(counts.find()).isTrue();
        long sent = Long.parseLong(counts.group(1));
        long ahead = Long.parseLong(counts.group(2));
        System.out.println(
            "GenerationAheadTest: "
                + generators
                + " generator threads: resources for "
                + sent
                + " responses, "
                + ahead
                + " of them generated ahead");
        assertThat(sent).as(flow).isGreaterThan(2L * sidecars.size());
        if (generators == 0) {
          assertThat(ahead).isZero();
        } else {
          assertThat(ahead).as("responses whose resources the pool generated").isPositive();
        }

        Map<String, Map<String, Map<String, String>>> out = new TreeMap<>();
        for (Sidecar s : sidecars) {
          Map<String, Map<String, String>> held = new TreeMap<>();
          s.client.held.forEach((type, m) -> held.put(type, new TreeMap<>(m)));
          out.put(s.id, held);
        }
        return out;
      } finally {
        for (Sidecar s : sidecars) {
          s.client.close();
        }
      }
    }
  }

  /**
   * Answers, ACKs and subscribes as a proxy does (EDS for its EDS clusters, RDS for its listeners'
   * route configurations) until every stream holds {@code cluster} (the store's latest change
   * reached it) and every name it subscribed to, and has ACKed everything of the store's version.
   */
  private static void settle(ControlPlane cp, List<Sidecar> sidecars, String cluster)
      throws Exception {
    long version = cp.store().snapshot().version();
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (true) {
      boolean quiet = true;
      for (Sidecar s : sidecars) {
        for (DeltaDiscoveryResponse r = s.client.poll(0); r != null; r = s.client.poll(0)) {
          quiet = false;
          s.apply(r);
        }
      }
      if (quiet
          && sidecars.stream()
              .allMatch(
                  s ->
                      s.client.held.getOrDefault(TypeUrls.CLUSTER, Map.of()).containsKey(cluster)
                          && s.client.held.containsKey(TypeUrls.LISTENER)
                          && s.holdsWhatItAskedFor())
          && cp.awaitSync(version, Duration.ZERO).done()) {
        return;
      }
      assertThat(System.nanoTime()).as("streams settled within 60 s").isLessThan(deadline);
      if (quiet) {
        Thread.sleep(5); // polls the condition: responses, ACKs and the sync report
      }
    }
  }

  /** One simulated proxy's stream: the names it asked for per type. */
  private static final class Sidecar {
    final DeltaAdsClient client;
    final String id;
    final Map<String, Set<String>> asked = new TreeMap<>();

    Sidecar(DeltaAdsClient client) {
      this.client = client;
      this.id = client.nodeId();
    }

    void apply(DeltaDiscoveryResponse r) throws Exception {
      client.ack(r);
      Set<String> wanted = new TreeSet<>();
      String next = null;
      if (r.getTypeUrl().equals(TypeUrls.CLUSTER)) {
        next = TypeUrls.ENDPOINT;
        for (Resource res : r.getResourcesList()) {
          Cluster c = res.getResource().unpack(Cluster.class);
          if (c.hasEdsClusterConfig()) {
            wanted.add(
                c.getEdsClusterConfig().getServiceName().isEmpty()
                    ? c.getName()
                    : c.getEdsClusterConfig().getServiceName());
          }
        }
      } else if (r.getTypeUrl().equals(TypeUrls.LISTENER)) {
        next = TypeUrls.ROUTE;
        for (Resource res : r.getResourcesList()) {
          Listener l = res.getResource().unpack(Listener.class);
          List<FilterChain> chains = new ArrayList<>(l.getFilterChainsList());
          if (l.hasDefaultFilterChain()) {
            chains.add(l.getDefaultFilterChain());
          }
          for (FilterChain fc : chains) {
            for (Filter f : fc.getFiltersList()) {
              if (f.getTypedConfig().is(HttpConnectionManager.class)) {
                HttpConnectionManager hcm = f.getTypedConfig().unpack(HttpConnectionManager.class);
                if (hcm.hasRds()) {
                  wanted.add(hcm.getRds().getRouteConfigName());
                }
              }
            }
          }
        }
      }
      if (next != null) {
        Set<String> already = asked.computeIfAbsent(next, t -> new TreeSet<>());
        wanted.removeAll(already);
        if (!wanted.isEmpty()) {
          already.addAll(wanted);
          client.subscribe(next, List.copyOf(wanted), Map.of());
        }
      }
    }

    boolean holdsWhatItAskedFor() {
      for (Map.Entry<String, Set<String>> e : asked.entrySet()) {
        Map<String, String> held = client.held.getOrDefault(e.getKey(), Map.of());
        if (!held.keySet().containsAll(e.getValue())) {
          return false;
        }
      }
      return client.queued() == 0;
    }
  }
}
