package dev.weft.controlplane.gen;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Message;
import dev.weft.api.ParseResult;
import dev.weft.api.ResourceParser;
import dev.weft.controlplane.Fixtures;
import dev.weft.controlplane.push.PushContext;
import dev.weft.controlplane.store.ConfigStore;
import dev.weft.xds.ClusterName;
import dev.weft.xds.ResourceNames;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.config.route.v3.WeightedCluster;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Istio's bookinfo networking samples (from the shared reference data), applied one after the
 * other: every configuration generated on the way must hold Envoy's invariants (no domain in two
 * virtual hosts; every routed cluster is in CDS, unless it names a subset no DestinationRule
 * defines or a host that is not a Service), and the well-known ones must route as Istio does.
 */
class BookinfoConformanceTest {
  @TempDir Path dir;

  private static Path bookinfo() {
    String shared = System.getProperty("weft.shared.dir");
    Path p = shared == null ? null : Path.of(shared, "reference", "samples", "bookinfo");
    Assumptions.assumeTrue(
        p != null && Files.isDirectory(p),
        "skipped: the shared reference data (weft.shared.dir) is not available");
    return p;
  }

  /** The Service documents of bookinfo.yaml (the rest are Deployments and ServiceAccounts). */
  private static String services(Path bookinfo) throws Exception {
    String text = Files.readString(bookinfo.resolve("platform/kube/bookinfo.yaml"));
    StringBuilder out = new StringBuilder();
    for (String doc : text.split("(?m)^---\\s*$")) {
      if (doc.contains("\nkind: Service\n") || doc.startsWith("kind: Service\n")) {
        out.append("---\n").append(doc.strip()).append('\n');
      }
    }
    return out.toString();
  }

  private static Proxy sidecar(String app, String version, String ip) {
    return Proxy.fromNode(
        Fixtures.node(
            "sidecar~" + ip + "~" + app + "-" + version + ".default~default.svc.cluster.local",
            Map.of("app", app, "version", version),
            ip,
            "",
            "127.0.2.1"));
  }

  @Test
  void everySampleGeneratesConsistentConfiguration() throws Exception {
    Path bookinfo = bookinfo();
    ConfigStore store = ConfigStore.open(dir, Fixtures.CLOCK);
    assertThat(
            store.apply("bookinfo.yaml", Fixtures.parse("bookinfo.yaml", services(bookinfo))).ok())
        .isTrue();
    List<Proxy> proxies =
        List.of(
            sidecar("productpage", "v1", "127.0.1.10"),
            sidecar("reviews", "v2", "127.0.1.11"),
            Fixtures.gateway());
    List<Path> files;
    try (Stream<Path> s = Files.list(bookinfo.resolve("networking"))) {
      files = s.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
    }
    int applied = 0;
    for (Path f : files) {
      ParseResult parsed = ResourceParser.parse(f.getFileName().toString(), Files.readString(f));
      if (!parsed.ok()) {
        System.out.println("bookinfo: not applied: " + parsed.errors());
        continue;
      }
      assertThat(store.apply(f.getFileName().toString(), parsed.resources()).ok()).isTrue();
      applied++;
      PushContext ctx = PushContext.build(applied, store.snapshot(), List.of());
      for (Proxy p : proxies) {
        checkInvariants(ctx, p, f.getFileName().toString());
      }
    }
    assertThat(applied).isGreaterThan(10);
  }

  private static void checkInvariants(PushContext ctx, Proxy proxy, String file) {
    String where = file + " for " + proxy.id();
    Set<String> clusters = new HashSet<>();
    for (Message m : new ClusterGenerator().generate(ctx, proxy)) {
      clusters.add(((Cluster) m).getName());
    }
    for (Message m : new RouteGenerator().generate(ctx, proxy)) {
      RouteConfiguration rc = (RouteConfiguration) m;
      List<String> domains = new ArrayList<>();
      for (VirtualHost vh : rc.getVirtualHostsList()) {
        assertThat(vh.getDomainsList()).as(where + " " + vh.getName()).isNotEmpty();
        domains.addAll(vh.getDomainsList());
        assertThat(vh.getRoutesList()).as(where + " " + vh.getName()).isNotEmpty();
        for (Route r : vh.getRoutesList()) {
          for (String c : routedClusters(r)) {
            if (c.equals(ResourceNames.PASSTHROUGH_CLUSTER)) {
              assertThat(clusters).as(where + ": Istio's passthrough cluster in CDS").contains(c);
              continue;
            }
            ClusterName name = ClusterName.parse(c);
            assertThat(name).as(where + ": cluster name " + c).isNotNull();
            boolean undefinedSubset =
                !name.subset().isEmpty() && ctx.subset(name.host(), name.subset()) == null;
            if (!undefinedSubset && ctx.service(name.host()) != null) {
              assertThat(clusters).as(where + ": routed cluster in CDS").contains(c);
            }
          }
        }
      }
      assertThat(domains).as(where + ": domains of " + rc.getName()).doesNotHaveDuplicates();
    }
    List<String> listeners = new ArrayList<>();
    for (Message m : new ListenerGenerator().generate(ctx, proxy)) {
      listeners.add(((Listener) m).getName());
    }
    assertThat(listeners).as(where).doesNotHaveDuplicates();
  }

  private static List<String> routedClusters(Route r) {
    if (!r.hasRoute()) {
      return List.of();
    }
    if (r.getRoute().hasWeightedClusters()) {
      return r.getRoute().getWeightedClusters().getClustersList().stream()
          .map(WeightedCluster.ClusterWeight::getName)
          .toList();
    }
    return List.of(r.getRoute().getCluster());
  }

  @Test
  void reviewsJasonRouteAndBookinfoGateway() throws Exception {
    Path bookinfo = bookinfo();
    ConfigStore store = ConfigStore.open(dir, Fixtures.CLOCK);
    String yaml =
        services(bookinfo)
            + "---\n"
            + Files.readString(bookinfo.resolve("networking/destination-rule-all.yaml"))
            + "\n---\n"
            + Files.readString(
                bookinfo.resolve("networking/virtual-service-reviews-jason-v2-v3.yaml"))
            + "\n---\n"
            + Files.readString(bookinfo.resolve("networking/bookinfo-gateway.yaml"));
    assertThat(store.apply("t", Fixtures.parse("t", yaml)).ok()).isTrue();
    PushContext ctx = PushContext.build(1, store.snapshot(), List.of());

    RouteConfiguration rc =
        (RouteConfiguration)
            new RouteGenerator().generate(ctx, sidecar("productpage", "v1", "127.0.1.10")).get(0);
    VirtualHost reviews =
        rc.getVirtualHostsList().stream()
            .filter(v -> v.getName().equals("reviews.default.svc.cluster.local:9080"))
            .findFirst()
            .orElseThrow();
    assertThat(reviews.getRoutesCount()).isEqualTo(2);
    assertThat(reviews.getRoutes(0).getMatch().getHeaders(0).getName()).isEqualTo("end-user");
    assertThat(reviews.getRoutes(0).getMatch().getHeaders(0).getStringMatch().getExact())
        .isEqualTo("jason");
    assertThat(reviews.getRoutes(0).getRoute().getCluster())
        .isEqualTo("outbound|9080|v2|reviews.default.svc.cluster.local");
    assertThat(reviews.getRoutes(1).getRoute().getCluster())
        .isEqualTo("outbound|9080|v3|reviews.default.svc.cluster.local");

    // The bookinfo Gateway listens on 8080 (no ingress Service maps it), five matches in order.
    List<Message> gwListeners = new ListenerGenerator().generate(ctx, Fixtures.gateway());
    assertThat(gwListeners)
        .extracting(m -> ((Listener) m).getName())
        .containsExactly("127.0.0.1_8080");
    RouteConfiguration gw =
        (RouteConfiguration) new RouteGenerator().generate(ctx, Fixtures.gateway()).get(0);
    assertThat(gw.getName()).isEqualTo("http.8080");
    List<Route> routes = gw.getVirtualHosts(0).getRoutesList();
    assertThat(routes).hasSize(5);
    assertThat(routes.get(0).getMatch().getPath()).isEqualTo("/productpage");
    assertThat(routes.get(1).getMatch().getPrefix()).isEqualTo("/static");
    assertThat(routes)
        .allMatch(
            r ->
                r.getRoute()
                    .getCluster()
                    .equals("outbound|9080||productpage.default.svc.cluster.local"));
  }
}
