package dev.weft.controlplane.gen;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Message;
import dev.weft.controlplane.Fixtures;
import dev.weft.controlplane.mesh.MeshConfig;
import dev.weft.controlplane.push.PushContext;
import dev.weft.controlplane.registry.Workload;
import dev.weft.controlplane.store.ConfigStore;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the generators make of ServiceEntries, outbound traffic policies, Sidecar scoping, exportTo,
 * DestinationRule workloadSelector, VirtualService sourceLabels/sourceNamespace and delegation, for
 * each proxy.
 */
class EgressGenerationTest {
  @TempDir Path dir;

  private static final String SERVICES =
      """
      apiVersion: v1
      kind: Service
      metadata: {name: web, namespace: a}
      spec:
        selector: {app: web}
        ports: [{name: http, port: 80, targetPort: 8080}]
      ---
      apiVersion: v1
      kind: Service
      metadata: {name: db, namespace: b}
      spec:
        selector: {app: db}
        ports: [{name: http, port: 80, targetPort: 8080}]
      """;

  private PushContext context(MeshConfig mesh, String yaml, Workload... workloads)
      throws Exception {
    ConfigStore store = ConfigStore.open(dir, Fixtures.CLOCK);
    assertThat(store.apply("t", Fixtures.parse("t", yaml)).errors()).isEmpty();
    return PushContext.build(1, store.snapshot(), List.of(workloads), mesh);
  }

  private PushContext context(String yaml, Workload... workloads) throws Exception {
    return context(MeshConfig.DEFAULT, yaml, workloads);
  }

  static Proxy sidecar(String name, String ns, String ip, Map<String, String> labels) {
    return Proxy.fromNode(
        Fixtures.node(
            "sidecar~" + ip + "~" + name + "." + ns + "~" + ns + ".svc.cluster.local",
            labels,
            ip,
            "http:8080",
            "127.0.2.9"));
  }

  static Proxy gateway(String ns, Map<String, String> labels) {
    return Proxy.fromNode(
        Fixtures.node(
            "router~127.0.0.5~gw." + ns + "~" + ns + ".svc.cluster.local",
            labels,
            "127.0.0.5",
            "",
            ""));
  }

  private static final Proxy A = sidecar("client", "a", "127.0.1.10", Map.of("app", "client"));
  private static final Proxy B = sidecar("other", "b", "127.0.1.11", Map.of("app", "other"));

  static List<Cluster> clusters(PushContext ctx, Proxy p) {
    return new ClusterGenerator().generate(ctx, p).stream().map(m -> (Cluster) m).toList();
  }

  static List<String> clusterNames(PushContext ctx, Proxy p) {
    return clusters(ctx, p).stream().map(Cluster::getName).toList();
  }

  static Cluster cluster(PushContext ctx, Proxy p, String name) {
    return clusters(ctx, p).stream()
        .filter(c -> c.getName().equals(name))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no cluster " + name));
  }

  static RouteConfiguration routes(PushContext ctx, Proxy p) {
    List<Message> rs = new RouteGenerator().generate(ctx, p);
    assertThat(rs).hasSize(1);
    return (RouteConfiguration) rs.get(0);
  }

  static Optional<VirtualHost> vhost(RouteConfiguration rc, String name) {
    return rc.getVirtualHostsList().stream().filter(v -> v.getName().equals(name)).findFirst();
  }

  static List<String> vhostNames(RouteConfiguration rc) {
    return rc.getVirtualHostsList().stream().map(VirtualHost::getName).toList();
  }

  // ---------------------------------------------------------------- ServiceEntry

  @Test
  void serviceEntryResolutionsGiveIstiosClusterTypes() throws Exception {
    PushContext ctx =
        context(
            """
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata: {name: dns, namespace: a}
            spec:
              hosts: [api.example.com]
              location: MESH_EXTERNAL
              resolution: DNS
              ports: [{number: 80, name: http, protocol: HTTP}, {number: 443, name: https, protocol: HTTPS}]
            ---
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata: {name: rr, namespace: a}
            spec:
              hosts: [rr.example.com]
              resolution: DNS_ROUND_ROBIN
              ports: [{number: 8080, name: http}]
              endpoints: [{address: lb.example.com, ports: {http: 9090}}]
            ---
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata: {name: static, namespace: a}
            spec:
              hosts: [static.example.com]
              resolution: STATIC
              ports: [{number: 80, name: http, targetPort: 8000}]
              endpoints:
              - {address: 10.0.0.1}
              - {address: 10.0.0.2, ports: {http: 9000}, labels: {v: two}}
            ---
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata: {name: none, namespace: a}
            spec:
              hosts: ["*.wild.com"]
              resolution: NONE
              ports: [{number: 80, name: http}]
            """);

    Cluster dns = cluster(ctx, A, "outbound|80||api.example.com");
    assertThat(dns.getType()).isEqualTo(Cluster.DiscoveryType.STRICT_DNS);
    assertThat(dns.getDnsLookupFamily()).isEqualTo(Cluster.DnsLookupFamily.V4_ONLY);
    assertThat(endpoints(dns.getLoadAssignment())).containsExactly("api.example.com:80");
    assertThat(cluster(ctx, A, "outbound|443||api.example.com").getType())
        .isEqualTo(Cluster.DiscoveryType.STRICT_DNS);
    // MESH_EXTERNAL: no auto mTLS, even for a TLS-capable proxy.
    assertThat(dns.getTransportSocketMatchesList()).isEmpty();

    Cluster rr = cluster(ctx, A, "outbound|8080||rr.example.com");
    assertThat(rr.getType()).isEqualTo(Cluster.DiscoveryType.LOGICAL_DNS);
    assertThat(endpoints(rr.getLoadAssignment())).containsExactly("lb.example.com:9090");

    Cluster stat = cluster(ctx, A, "outbound|80||static.example.com");
    assertThat(stat.getType()).isEqualTo(Cluster.DiscoveryType.EDS);
    ClusterLoadAssignment cla = eds(ctx, "outbound|80||static.example.com");
    assertThat(endpoints(cla)).containsExactly("10.0.0.1:8000", "10.0.0.2:9000");

    Cluster none = cluster(ctx, A, "outbound|80||*.wild.com");
    assertThat(none.getType()).isEqualTo(Cluster.DiscoveryType.ORIGINAL_DST);
    assertThat(none.getLbPolicy()).isEqualTo(Cluster.LbPolicy.CLUSTER_PROVIDED);
    // Gateways cannot pass through: EDS (Istio's convertResolution).
    assertThat(cluster(ctx, Fixtures.gateway(), "outbound|80||*.wild.com").getType())
        .isEqualTo(Cluster.DiscoveryType.EDS);

    // Routes: the hosts (and the wildcard) are virtual hosts of http_proxy, without short names.
    RouteConfiguration rc = routes(ctx, A);
    assertThat(vhost(rc, "api.example.com:80").orElseThrow().getDomainsList())
        .containsExactly("api.example.com", "api.example.com:80");
    assertThat(vhost(rc, "*.wild.com:80").orElseThrow().getDomainsList())
        .containsExactly("*.wild.com", "*.wild.com:80");
    assertThat(vhost(rc, "api.example.com:443")).isEmpty(); // HTTPS: cluster only
  }

  @Test
  void serviceEntryWorkloadSelectorMakesWorkloadEntriesAndWorkloadsItsEndpoints() throws Exception {
    Workload proxy =
        new Workload(
            "vm-proxy",
            "a",
            Map.of("app", "legacy"),
            "127.0.1.20",
            Map.of(),
            "default",
            Workload.Source.PROXY);
    PushContext ctx =
        context(
            """
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata: {name: legacy, namespace: a}
            spec:
              hosts: [legacy.internal]
              location: MESH_INTERNAL
              resolution: STATIC
              ports: [{number: 80, name: http, targetPort: 8080}]
              workloadSelector: {labels: {app: legacy}}
            ---
            apiVersion: networking.istio.io/v1
            kind: WorkloadEntry
            metadata: {name: vm1, namespace: a}
            spec: {address: 10.1.0.1, labels: {app: legacy}}
            ---
            apiVersion: networking.istio.io/v1
            kind: WorkloadEntry
            metadata: {name: vm2, namespace: b}
            spec: {address: 10.1.0.2, labels: {app: legacy}}
            """,
            proxy);
    assertThat(endpoints(eds(ctx, "outbound|80||legacy.internal")))
        .containsExactly("10.1.0.1:8080", "127.0.1.20:8080"); // not vm2: another namespace
  }

  @Test
  void virtualServiceAndDestinationRuleApplyToServiceEntryHosts() throws Exception {
    PushContext ctx =
        context(
            """
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata: {name: ext, namespace: a}
            spec:
              hosts: [ext.example.com]
              resolution: DNS
              ports: [{number: 80, name: http}]
              endpoints: [{address: e1.example.com, labels: {v: one}}, {address: e2.example.com, labels: {v: two}}]
            ---
            apiVersion: networking.istio.io/v1
            kind: DestinationRule
            metadata: {name: ext, namespace: a}
            spec:
              host: ext.example.com
              subsets: [{name: one, labels: {v: one}}]
            ---
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: ext, namespace: a}
            spec:
              hosts: [ext.example.com]
              http:
              - timeout: 3s
                route: [{destination: {host: ext.example.com, subset: one}}]
            """);
    Cluster one = cluster(ctx, A, "outbound|80|one|ext.example.com");
    assertThat(one.getType()).isEqualTo(Cluster.DiscoveryType.STRICT_DNS);
    assertThat(endpoints(one.getLoadAssignment())).containsExactly("e1.example.com:80");
    Route r = vhost(routes(ctx, A), "ext.example.com:80").orElseThrow().getRoutes(0);
    assertThat(r.getRoute().getCluster()).isEqualTo("outbound|80|one|ext.example.com");
    assertThat(r.getRoute().getTimeout().getSeconds()).isEqualTo(3);
  }

  // ---------------------------------------------------------------- outboundTrafficPolicy

  @Test
  void allowAnyPassesUnknownHostsThroughAndRegistryOnlyAnswers502() throws Exception {
    PushContext allow = context(SERVICES);
    RouteConfiguration rc = routes(allow, A);
    VirtualHost last = rc.getVirtualHosts(rc.getVirtualHostsCount() - 1);
    assertThat(last.getName()).isEqualTo("allow_any");
    assertThat(last.getDomainsList()).containsExactly("*");
    assertThat(last.getRoutes(0).getRoute().getCluster()).isEqualTo("PassthroughCluster");
    assertThat(cluster(allow, A, "PassthroughCluster").getType())
        .isEqualTo(Cluster.DiscoveryType.ORIGINAL_DST);
    assertThat(cluster(allow, A, "BlackHoleCluster").hasLoadAssignment()).isFalse();
    assertThat(clusterNames(allow, Fixtures.gateway()))
        .contains("BlackHoleCluster")
        .doesNotContain("PassthroughCluster");

    PushContext registryOnly =
        context(MeshConfig.DEFAULT.withOutboundTrafficPolicy("REGISTRY_ONLY"), SERVICES);
    rc = routes(registryOnly, A);
    last = rc.getVirtualHosts(rc.getVirtualHostsCount() - 1);
    assertThat(last.getName()).isEqualTo("block_all");
    assertThat(last.getRoutes(0).getDirectResponse().getStatus()).isEqualTo(502);
  }

  @Test
  void sidecarOutboundTrafficPolicyOverridesTheMesh() throws Exception {
    PushContext ctx =
        context(
            SERVICES
                + """
                ---
                apiVersion: networking.istio.io/v1
                kind: Sidecar
                metadata: {name: default, namespace: a}
                spec:
                  outboundTrafficPolicy: {mode: REGISTRY_ONLY}
                """);
    assertThat(vhostNames(routes(ctx, A))).last().isEqualTo("block_all");
    assertThat(vhostNames(routes(ctx, B))).last().isEqualTo("allow_any");
  }

  // ---------------------------------------------------------------- Sidecar scoping

  @Test
  void sidecarEgressHostsScopeClustersAndRoutes() throws Exception {
    PushContext ctx =
        context(
            SERVICES
                + """
                ---
                apiVersion: networking.istio.io/v1
                kind: Sidecar
                metadata: {name: default, namespace: a}
                spec:
                  egress: [{hosts: ["./*", "istio-system/*"]}]
                """);
    // Out of scope for a's proxies: b's db is absent from clusters and routes.
    assertThat(clusterNames(ctx, A))
        .contains("outbound|80||web.a.svc.cluster.local")
        .doesNotContain("outbound|80||db.b.svc.cluster.local");
    assertThat(vhostNames(routes(ctx, A)))
        .contains("web.a.svc.cluster.local:80")
        .doesNotContain("db.b.svc.cluster.local:80");
    // b has no Sidecar: it sees both.
    assertThat(clusterNames(ctx, B)).contains("outbound|80||db.b.svc.cluster.local");
    assertThat(clusterNames(ctx, B)).contains("outbound|80||web.a.svc.cluster.local");
  }

  @Test
  void rootNamespaceSidecarIsTheDefaultAndWorkloadSelectorWins() throws Exception {
    PushContext ctx =
        context(
            SERVICES
                + """
                ---
                apiVersion: networking.istio.io/v1
                kind: Sidecar
                metadata: {name: default, namespace: istio-system}
                spec:
                  egress: [{hosts: ["./*"]}]
                ---
                apiVersion: networking.istio.io/v1
                kind: Sidecar
                metadata: {name: special, namespace: b}
                spec:
                  workloadSelector: {labels: {app: special}}
                  egress: [{hosts: ["*/*"]}]
                """);
    // The root Sidecar's "." is each proxy's own namespace.
    assertThat(clusterNames(ctx, A))
        .contains("outbound|80||web.a.svc.cluster.local")
        .doesNotContain("outbound|80||db.b.svc.cluster.local");
    assertThat(clusterNames(ctx, B))
        .contains("outbound|80||db.b.svc.cluster.local")
        .doesNotContain("outbound|80||web.a.svc.cluster.local");
    Proxy special = sidecar("special", "b", "127.0.1.12", Map.of("app", "special"));
    assertThat(clusterNames(ctx, special))
        .contains("outbound|80||db.b.svc.cluster.local", "outbound|80||web.a.svc.cluster.local");
  }

  @Test
  void importedHostsVirtualServiceDestinationsGetClusters() throws Exception {
    PushContext ctx =
        context(
            SERVICES
                + """
                ---
                apiVersion: networking.istio.io/v1
                kind: Sidecar
                metadata: {name: default, namespace: a}
                spec:
                  egress: [{hosts: ["./*"]}]
                ---
                apiVersion: networking.istio.io/v1
                kind: VirtualService
                metadata: {name: web, namespace: a}
                spec:
                  hosts: [web]
                  http: [{route: [{destination: {host: db.b.svc.cluster.local}}]}]
                """);
    // As Istio: the route's destination gets a cluster, but no virtual host of its own.
    assertThat(clusterNames(ctx, A)).contains("outbound|80||db.b.svc.cluster.local");
    assertThat(vhostNames(routes(ctx, A))).doesNotContain("db.b.svc.cluster.local:80");
  }

  // ---------------------------------------------------------------- exportTo

  @Test
  void exportToHidesServicesServiceEntriesVirtualServicesAndDestinationRules() throws Exception {
    PushContext ctx =
        context(
            """
            apiVersion: v1
            kind: Service
            metadata:
              name: private
              namespace: b
              annotations: {networking.istio.io/exportTo: "."}
            spec:
              selector: {app: p}
              ports: [{name: http, port: 80}]
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: shared, namespace: b}
            spec:
              selector: {app: s}
              ports: [{name: http, port: 80}]
            ---
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata: {name: ext, namespace: b}
            spec:
              hosts: [only-b.example.com]
              exportTo: [b]
              resolution: DNS
              ports: [{number: 80, name: http}]
            ---
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: shared, namespace: b}
            spec:
              hosts: [shared.b.svc.cluster.local]
              exportTo: ["."]
              http: [{timeout: 7s, route: [{destination: {host: shared}}]}]
            ---
            apiVersion: networking.istio.io/v1
            kind: DestinationRule
            metadata: {name: shared, namespace: b}
            spec:
              host: shared
              exportTo: ["."]
              subsets: [{name: v1, labels: {v: "1"}}]
            """);
    assertThat(clusterNames(ctx, A))
        .contains("outbound|80||shared.b.svc.cluster.local")
        .doesNotContain(
            "outbound|80||private.b.svc.cluster.local",
            "outbound|80||only-b.example.com",
            "outbound|80|v1|shared.b.svc.cluster.local");
    assertThat(clusterNames(ctx, B))
        .contains(
            "outbound|80||private.b.svc.cluster.local",
            "outbound|80||only-b.example.com",
            "outbound|80|v1|shared.b.svc.cluster.local");
    Route fromA = vhost(routes(ctx, A), "shared.b.svc.cluster.local:80").orElseThrow().getRoutes(0);
    assertThat(fromA.getName()).isEqualTo("default"); // the VirtualService is b's own
    Route fromB = vhost(routes(ctx, B), "shared.b.svc.cluster.local:80").orElseThrow().getRoutes(0);
    assertThat(fromB.getRoute().getTimeout().getSeconds()).isEqualTo(7);
  }

  @Test
  void gatewaysSeeOnlyVirtualServicesExportedToTheirNamespace() throws Exception {
    String yaml =
        """
        apiVersion: v1
        kind: Service
        metadata: {name: echo, namespace: demo}
        spec:
          selector: {app: echo}
          ports: [{name: tcp-echo, port: 9000}, {name: http, port: 80}]
        ---
        apiVersion: networking.istio.io/v1
        kind: Gateway
        metadata: {name: gw, namespace: demo}
        spec:
          selector: {istio: ingressgateway}
          servers:
          - port: {number: 9000, name: tcp, protocol: TCP}
            hosts: ["*"]
          - port: {number: 80, name: http, protocol: HTTP}
            hosts: ["*"]
        ---
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: echo, namespace: demo}
        spec:
          hosts: ["*"]
          gateways: [gw]
          exportTo: [EXPORT]
          tcp: [{route: [{destination: {host: echo, port: {number: 9000}}}]}]
          http: [{route: [{destination: {host: echo, port: {number: 80}}}]}]
        """;
    PushContext hidden = context(yaml.replace("EXPORT", "\".\""));
    Proxy gw = Fixtures.gateway(); // in istio-system
    List<String> listeners =
        new ListenerGenerator()
            .generate(hidden, gw).stream()
                .map(m -> ((io.envoyproxy.envoy.config.listener.v3.Listener) m).getName())
                .toList();
    assertThat(listeners).doesNotContain("127.0.0.1_9000");
    assertThat(
            ((RouteConfiguration) new RouteGenerator().generate(hidden, gw).get(0))
                .getVirtualHostsList())
        .isEmpty();

    dir = java.nio.file.Files.createDirectories(dir.resolve("exported"));
    PushContext shown = context(yaml.replace("EXPORT", "istio-system"));
    assertThat(
            new ListenerGenerator()
                .generate(shown, gw).stream()
                    .map(m -> ((io.envoyproxy.envoy.config.listener.v3.Listener) m).getName())
                    .toList())
        .contains("127.0.0.1_9000");
    assertThat(
            ((RouteConfiguration) new RouteGenerator().generate(shown, gw).get(0))
                .getVirtualHostsList())
        .isNotEmpty();
  }

  // ---------------------------------------------------------------- DestinationRule selector

  @Test
  void destinationRuleWorkloadSelectorAppliesOnlyToSelectedProxies() throws Exception {
    PushContext ctx =
        context(
            SERVICES
                + """
                ---
                apiVersion: networking.istio.io/v1
                kind: DestinationRule
                metadata: {name: all, namespace: a}
                spec:
                  host: db.b.svc.cluster.local
                  subsets: [{name: everyone, labels: {v: "1"}}]
                ---
                apiVersion: networking.istio.io/v1
                kind: DestinationRule
                metadata: {name: chosen, namespace: a}
                spec:
                  host: db.b.svc.cluster.local
                  workloadSelector: {matchLabels: {app: client}}
                  exportTo: ["."]
                  subsets: [{name: chosen, labels: {v: "2"}}]
                """);
    Proxy otherInA = sidecar("x", "a", "127.0.1.13", Map.of("app", "x"));
    assertThat(clusterNames(ctx, A))
        .contains("outbound|80|chosen|db.b.svc.cluster.local")
        .doesNotContain("outbound|80|everyone|db.b.svc.cluster.local");
    assertThat(clusterNames(ctx, otherInA))
        .contains("outbound|80|everyone|db.b.svc.cluster.local")
        .doesNotContain("outbound|80|chosen|db.b.svc.cluster.local");
    // Both subsets have endpoints assignments (EDS is one list for every proxy).
    assertThat(eds(ctx, "outbound|80|chosen|db.b.svc.cluster.local")).isNotNull();
    assertThat(eds(ctx, "outbound|80|everyone|db.b.svc.cluster.local")).isNotNull();
  }

  @Test
  void destinationRulesForOneHostAreMergedAsIstioDoes() throws Exception {
    // Istio's mergeDestinationRule: the second rule's new subsets are appended, its duplicate
    // subset dropped, the first rule's top-level policy kept.
    PushContext ctx =
        context(
            SERVICES
                + """
                ---
                apiVersion: networking.istio.io/v1
                kind: DestinationRule
                metadata: {name: first, namespace: b}
                spec:
                  host: db
                  trafficPolicy: {loadBalancer: {simple: RANDOM}}
                  subsets: [{name: v1, labels: {v: "1"}}]
                ---
                apiVersion: networking.istio.io/v1
                kind: DestinationRule
                metadata: {name: second, namespace: b}
                spec:
                  host: db.b.svc.cluster.local
                  trafficPolicy: {loadBalancer: {simple: ROUND_ROBIN}}
                  subsets:
                  - name: v2
                    labels: {v: "2"}
                    trafficPolicy: {connectionPool: {tcp: {maxConnections: 3}}}
                  - {name: v1, labels: {v: "other"}}
                """,
            new Workload(
                "db1",
                "b",
                Map.of("app", "db", "v", "1"),
                "127.0.3.1",
                Map.of(),
                "default",
                Workload.Source.PROXY),
            new Workload(
                "db2",
                "b",
                Map.of("app", "db", "v", "2"),
                "127.0.3.2",
                Map.of(),
                "default",
                Workload.Source.PROXY));
    for (Proxy p : List.of(A, B)) {
      assertThat(clusterNames(ctx, p))
          .contains(
              "outbound|80||db.b.svc.cluster.local",
              "outbound|80|v1|db.b.svc.cluster.local",
              "outbound|80|v2|db.b.svc.cluster.local");
      // The first rule's top-level policy for every cluster of the merged rule.
      assertThat(cluster(ctx, p, "outbound|80||db.b.svc.cluster.local").getLbPolicy())
          .isEqualTo(Cluster.LbPolicy.RANDOM);
      Cluster v2 = cluster(ctx, p, "outbound|80|v2|db.b.svc.cluster.local");
      assertThat(v2.getLbPolicy()).isEqualTo(Cluster.LbPolicy.RANDOM);
      assertThat(v2.getCircuitBreakers().getThresholds(0).getMaxConnections().getValue())
          .isEqualTo(3);
    }
    // v1 is the first rule's (the duplicate's labels are dropped); v2 the second's.
    assertThat(endpoints(eds(ctx, "outbound|80|v1|db.b.svc.cluster.local")))
        .containsExactly("127.0.3.1:8080");
    assertThat(endpoints(eds(ctx, "outbound|80|v2|db.b.svc.cluster.local")))
        .containsExactly("127.0.3.2:8080");
  }

  @Test
  void aSelectedRuleIsNotMergedAndNamespaceRulesWinOverTheRootNamespaces() throws Exception {
    PushContext ctx =
        context(
            SERVICES
                + """
                ---
                apiVersion: networking.istio.io/v1
                kind: DestinationRule
                metadata: {name: mesh-wide, namespace: istio-system}
                spec:
                  host: db.b.svc.cluster.local
                  subsets: [{name: root, labels: {v: "0"}}]
                ---
                apiVersion: networking.istio.io/v1
                kind: DestinationRule
                metadata: {name: local, namespace: a}
                spec:
                  host: db.b.svc.cluster.local
                  subsets: [{name: local, labels: {v: "1"}}]
                ---
                apiVersion: networking.istio.io/v1
                kind: DestinationRule
                metadata: {name: also-local, namespace: a}
                spec:
                  host: db.b.svc.cluster.local
                  subsets: [{name: merged, labels: {v: "2"}}]
                ---
                apiVersion: networking.istio.io/v1
                kind: DestinationRule
                metadata: {name: selected, namespace: a}
                spec:
                  host: db.b.svc.cluster.local
                  workloadSelector: {matchLabels: {app: client}}
                  subsets: [{name: selected, labels: {v: "3"}}]
                """);
    Proxy otherInA = sidecar("x", "a", "127.0.1.13", Map.of("app", "x"));
    // Namespace a's two rules merge; the root namespace's is not used in a.
    assertThat(clusterNames(ctx, otherInA))
        .contains("outbound|80|local|db.b.svc.cluster.local")
        .contains("outbound|80|merged|db.b.svc.cluster.local")
        .doesNotContain("outbound|80|root|db.b.svc.cluster.local")
        .doesNotContain("outbound|80|selected|db.b.svc.cluster.local");
    // The selected proxy gets its rule alone (a rule with a workloadSelector is not merged).
    assertThat(clusterNames(ctx, A))
        .contains("outbound|80|selected|db.b.svc.cluster.local")
        .doesNotContain("outbound|80|local|db.b.svc.cluster.local")
        .doesNotContain("outbound|80|merged|db.b.svc.cluster.local");
    // b has no rule of its own: the root namespace's.
    assertThat(clusterNames(ctx, B))
        .contains("outbound|80|root|db.b.svc.cluster.local")
        .doesNotContain("outbound|80|local|db.b.svc.cluster.local");
  }

  @Test
  void passthroughMakesAServiceEntryClusterOriginalDstButNotAServices() throws Exception {
    PushContext ctx =
        context(
            SERVICES
                + """
                ---
                apiVersion: networking.istio.io/v1
                kind: ServiceEntry
                metadata: {name: ext, namespace: a}
                spec:
                  hosts: [ext.example.com]
                  resolution: STATIC
                  ports: [{number: 80, name: http}]
                  endpoints: [{address: 10.9.0.1}]
                ---
                apiVersion: networking.istio.io/v1
                kind: DestinationRule
                metadata: {name: ext, namespace: a}
                spec:
                  host: ext.example.com
                  trafficPolicy: {loadBalancer: {simple: PASSTHROUGH}}
                ---
                apiVersion: networking.istio.io/v1
                kind: DestinationRule
                metadata: {name: db, namespace: a}
                spec:
                  host: db.b.svc.cluster.local
                  trafficPolicy: {loadBalancer: {simple: PASSTHROUGH}}
                """);
    Cluster ext = cluster(ctx, A, "outbound|80||ext.example.com");
    assertThat(ext.getType()).isEqualTo(Cluster.DiscoveryType.ORIGINAL_DST);
    assertThat(ext.getLbPolicy()).isEqualTo(Cluster.LbPolicy.CLUSTER_PROVIDED);
    assertThat(ext.hasEdsClusterConfig()).isFalse();
    // A Kubernetes Service has no address to pass through to locally: it stays EDS (warned).
    Cluster db = cluster(ctx, A, "outbound|80||db.b.svc.cluster.local");
    assertThat(db.getType()).isEqualTo(Cluster.DiscoveryType.EDS);
  }

  @Test
  void trafficPolicyComesFromTheDestinationRuleChosenForTheProxy() throws Exception {
    PushContext ctx =
        context(
            SERVICES
                + """
                ---
                apiVersion: networking.istio.io/v1
                kind: DestinationRule
                metadata: {name: all, namespace: a}
                spec:
                  host: db.b.svc.cluster.local
                  trafficPolicy: {loadBalancer: {simple: RANDOM}}
                ---
                apiVersion: networking.istio.io/v1
                kind: DestinationRule
                metadata: {name: chosen, namespace: a}
                spec:
                  host: db.b.svc.cluster.local
                  workloadSelector: {matchLabels: {app: client}}
                  trafficPolicy:
                    loadBalancer: {simple: LEAST_REQUEST}
                    outlierDetection: {consecutive5xxErrors: 3}
                  subsets:
                  - name: chosen
                    labels: {v: "2"}
                    trafficPolicy: {connectionPool: {tcp: {maxConnections: 7}}}
                """);
    Proxy otherInA = sidecar("x", "a", "127.0.1.13", Map.of("app", "x"));
    Cluster selected = cluster(ctx, A, "outbound|80||db.b.svc.cluster.local");
    assertThat(selected.getLbPolicy()).isEqualTo(Cluster.LbPolicy.LEAST_REQUEST);
    assertThat(selected.hasOutlierDetection()).isTrue();
    Cluster subset = cluster(ctx, A, "outbound|80|chosen|db.b.svc.cluster.local");
    assertThat(subset.getLbPolicy()).isEqualTo(Cluster.LbPolicy.LEAST_REQUEST);
    assertThat(subset.getCircuitBreakers().getThresholds(0).getMaxConnections().getValue())
        .isEqualTo(7);
    Cluster other = cluster(ctx, otherInA, "outbound|80||db.b.svc.cluster.local");
    assertThat(other.getLbPolicy()).isEqualTo(Cluster.LbPolicy.RANDOM);
    assertThat(other.hasOutlierDetection()).isFalse();
  }

  @Test
  void anOriginalDstClusterKeepsClusterProvidedUnderADestinationRulesBalancer() throws Exception {
    PushContext ctx =
        context(
            """
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata: {name: any, namespace: a}
            spec:
              hosts: [any.example.com]
              ports: [{number: 80, name: http, protocol: HTTP}]
              resolution: NONE
            ---
            apiVersion: networking.istio.io/v1
            kind: DestinationRule
            metadata: {name: any, namespace: a}
            spec:
              host: any.example.com
              trafficPolicy:
                loadBalancer: {consistentHash: {httpHeaderName: x-user}}
                connectionPool: {tcp: {maxConnections: 5}}
            """);
    Cluster c = cluster(ctx, A, "outbound|80||any.example.com");
    assertThat(c.getType()).isEqualTo(Cluster.DiscoveryType.ORIGINAL_DST);
    assertThat(c.getLbPolicy()).isEqualTo(Cluster.LbPolicy.CLUSTER_PROVIDED);
    assertThat(c.hasRingHashLbConfig()).isFalse();
    assertThat(c.getCircuitBreakers().getThresholds(0).getMaxConnections().getValue()).isEqualTo(5);
  }

  // ---------------------------------------------------------------- sourceLabels

  private static final String SOURCE_MATCHES =
      SERVICES
          + """
          ---
          apiVersion: networking.istio.io/v1
          kind: VirtualService
          metadata: {name: db, namespace: b}
          spec:
            hosts: [db.b.svc.cluster.local]
            http:
            - name: from-client
              match: [{sourceLabels: {app: client}}]
              route: [{destination: {host: db.b.svc.cluster.local, subset: fast}}]
            - name: from-b
              match: [{sourceNamespace: b}]
              route: [{destination: {host: db.b.svc.cluster.local, subset: local}}]
            - name: rest
              route: [{destination: {host: db.b.svc.cluster.local}}]
          """;

  @Test
  void sourceLabelsAndSourceNamespaceAreEnforcedPerProxy() throws Exception {
    PushContext ctx = context(SOURCE_MATCHES);
    assertThat(routeNames(ctx, A)).containsExactly("from-client", "rest");
    assertThat(routeNames(ctx, B)).containsExactly("from-b", "rest");
    Proxy plainA = sidecar("plain", "a", "127.0.1.14", Map.of("app", "plain"));
    assertThat(routeNames(ctx, plainA)).containsExactly("rest");
  }

  private static List<String> routeNames(PushContext ctx, Proxy p) {
    return vhost(routes(ctx, p), "db.b.svc.cluster.local:80").orElseThrow().getRoutesList().stream()
        .map(Route::getName)
        .toList();
  }

  @Test
  void proxiesShareGeneratedResourcesExactlyWhenTheirScopeIsTheSame() throws Exception {
    PushContext ctx = context(SOURCE_MATCHES);
    Proxy a2 = sidecar("client-2", "a", "127.0.1.15", Map.of("app", "client", "x", "y"));
    Proxy plainA = sidecar("plain", "a", "127.0.1.14", Map.of("app", "plain"));
    // Same namespace and same sourceLabels outcome: the very same RouteConfiguration object.
    assertThat(routes(ctx, a2)).isSameAs(routes(ctx, A));
    assertThat(routes(ctx, plainA)).isNotSameAs(routes(ctx, A));
    // Clusters do not depend on sourceLabels nor (here) on the namespace: shared by all three.
    assertThat(new ClusterGenerator().generate(ctx, plainA).get(0))
        .isSameAs(new ClusterGenerator().generate(ctx, A).get(0))
        .isSameAs(new ClusterGenerator().generate(ctx, B).get(0));
  }

  // ---------------------------------------------------------------- delegate

  @Test
  void delegateRoutesAreMergedUnderTheRootMatch() throws Exception {
    PushContext ctx =
        context(
            SERVICES
                + """
                ---
                apiVersion: networking.istio.io/v1
                kind: VirtualService
                metadata: {name: root, namespace: a}
                spec:
                  hosts: [web.a.svc.cluster.local]
                  http:
                  - name: api
                    match: [{uri: {prefix: /api}}]
                    timeout: 5s
                    delegate: {name: api-routes, namespace: b}
                  - name: rest
                    route: [{destination: {host: web.a.svc.cluster.local}}]
                ---
                apiVersion: networking.istio.io/v1
                kind: VirtualService
                metadata: {name: api-routes, namespace: b}
                spec:
                  http:
                  - name: v2
                    match: [{uri: {prefix: /api/v2}, headers: {x-user: {exact: jo}}}]
                    route: [{destination: {host: db}}]
                  - name: conflicting
                    match: [{uri: {prefix: /other}}]
                    route: [{destination: {host: db}}]
                  - name: all
                    timeout: 1s
                    route: [{destination: {host: db, subset: s}}]
                """);
    List<Route> rs =
        vhost(routes(ctx, A), "web.a.svc.cluster.local:80").orElseThrow().getRoutesList();
    assertThat(rs).extracting(Route::getName).containsExactly("api-v2", "api-all", "rest");
    Route v2 = rs.get(0);
    assertThat(v2.getMatch().getPrefix()).isEqualTo("/api/v2");
    assertThat(v2.getMatch().getHeaders(0).getName()).isEqualTo("x-user");
    // The delegate's host resolves in its own namespace; the root's timeout fills the gap.
    assertThat(v2.getRoute().getCluster()).isEqualTo("outbound|80||db.b.svc.cluster.local");
    assertThat(v2.getRoute().getTimeout().getSeconds()).isEqualTo(5);
    Route all = rs.get(1);
    assertThat(all.getMatch().getPrefix()).isEqualTo("/api");
    assertThat(all.getRoute().getCluster()).isEqualTo("outbound|80|s|db.b.svc.cluster.local");
    assertThat(all.getRoute().getTimeout().getSeconds()).isEqualTo(1);
  }

  // ---------------------------------------------------------------- helpers

  private static ClusterLoadAssignment eds(PushContext ctx, String name) {
    for (Message m : new EndpointGenerator().generate(ctx, A)) {
      ClusterLoadAssignment cla = (ClusterLoadAssignment) m;
      if (cla.getClusterName().equals(name)) {
        return cla;
      }
    }
    throw new AssertionError("no assignment " + name);
  }

  static List<String> endpoints(ClusterLoadAssignment cla) {
    return cla.getEndpointsList().stream()
        .flatMap(l -> l.getLbEndpointsList().stream())
        .map(LbEndpoint::getEndpoint)
        .map(
            e ->
                e.getAddress().getSocketAddress().getAddress()
                    + ":"
                    + e.getAddress().getSocketAddress().getPortValue())
        .toList();
  }
}
