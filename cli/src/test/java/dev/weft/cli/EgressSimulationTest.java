package dev.weft.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Message;
import dev.weft.api.ParseResult;
import dev.weft.api.Resource;
import dev.weft.api.ResourceParser;
import dev.weft.controlplane.gen.Generator;
import dev.weft.controlplane.gen.Generators;
import dev.weft.controlplane.gen.Proxy;
import dev.weft.controlplane.mesh.MeshConfig;
import dev.weft.controlplane.push.PushContext;
import dev.weft.controlplane.store.ConfigSnapshot;
import dev.weft.controlplane.store.StoredResource;
import dev.weft.proxy.config.ClusterConfig;
import dev.weft.proxy.config.Endpoint;
import dev.weft.proxy.config.RouteAction;
import dev.weft.proxy.config.RouteTable;
import dev.weft.proxy.config.RuntimeConfig;
import dev.weft.proxy.config.VirtualHost;
import dev.weft.proxy.router.Router;
import dev.weft.proxy.stats.ProxyStats;
import dev.weft.proxy.xds.resource.ConfigCompiler;
import dev.weft.xds.ResourceNames;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * Istio-style simulation: the control plane generates a proxy's xDS from a mesh, the proxy's own
 * {@link ConfigCompiler} compiles it (nothing may be rejected), and a request is walked through the
 * compiled tables as the proxy's router walks it (virtual host by authority, first matching route,
 * cluster, host), to say where a request from a given proxy ends up: a cluster and upstream host, a
 * direct response, or no route.
 */
class EgressSimulationTest {
  private static final String MESH =
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
      ---
      apiVersion: networking.istio.io/v1
      kind: ServiceEntry
      metadata: {name: httpbin, namespace: a}
      spec:
        hosts: [httpbin.example.com]
        location: MESH_EXTERNAL
        resolution: DNS
        ports: [{number: 80, name: http, protocol: HTTP}]
      ---
      apiVersion: networking.istio.io/v1
      kind: ServiceEntry
      metadata: {name: pinned, namespace: a}
      spec:
        hosts: [pinned.example.com]
        resolution: STATIC
        ports: [{number: 8080, name: http, protocol: HTTP}]
        endpoints: [{address: 10.9.0.1, labels: {v: one}}, {address: 10.9.0.2, labels: {v: two}}]
      ---
      apiVersion: networking.istio.io/v1
      kind: DestinationRule
      metadata: {name: pinned, namespace: a}
      spec:
        host: pinned.example.com
        subsets: [{name: two, labels: {v: two}}]
      ---
      apiVersion: networking.istio.io/v1
      kind: VirtualService
      metadata: {name: pinned, namespace: a}
      spec:
        hosts: [pinned.example.com]
        http:
        - match: [{sourceLabels: {app: client}, headers: {x-pin: {exact: "2"}}}]
          route: [{destination: {host: pinned.example.com, subset: two}}]
        - route: [{destination: {host: pinned.example.com}}]
      ---
      apiVersion: networking.istio.io/v1
      kind: Sidecar
      metadata: {name: scoped, namespace: a}
      spec:
        workloadSelector: {labels: {app: scoped}}
        egress: [{hosts: ["./*"]}]
        outboundTrafficPolicy: {mode: REGISTRY_ONLY}
      """;

  private static final Map<String, String> CLIENT = Map.of("app", "client");
  private static final Map<String, String> SCOPED = Map.of("app", "scoped");

  @Test
  void serviceEntryHostGoesToItsDnsCluster() throws Exception {
    Where w = simulate(MeshConfig.DEFAULT, "a", CLIENT, "httpbin.example.com", "/get", Map.of());
    assertThat(w.cluster()).isEqualTo("outbound|80||httpbin.example.com");
    assertThat(w.clusterType()).isEqualTo("STRICT_DNS");
    assertThat(w.host()).isEqualTo("httpbin.example.com:80");
  }

  @Test
  void sourceLabelsRouteOnlyTheMatchingProxyToTheSubset() throws Exception {
    Map<String, String> pin = Map.of("x-pin", "2");
    assertThat(
            simulate(MeshConfig.DEFAULT, "a", CLIENT, "pinned.example.com:8080", "/", pin).host())
        .isEqualTo("10.9.0.2:8080");
    Where other =
        simulate(MeshConfig.DEFAULT, "b", Map.of("app", "db"), "pinned.example.com:8080", "/", pin);
    assertThat(other.cluster()).isEqualTo("outbound|8080||pinned.example.com");
  }

  @Test
  void unknownHostsPassThroughUnderAllowAnyAndAreRefusedUnderRegistryOnly() throws Exception {
    Where allow =
        simulate(MeshConfig.DEFAULT, "a", CLIENT, "somewhere.example.org:8443", "/", Map.of());
    assertThat(allow.cluster()).isEqualTo(ResourceNames.PASSTHROUGH_CLUSTER);
    assertThat(allow.clusterType()).isEqualTo("ORIGINAL_DST");
    assertThat(allow.host()).isEqualTo("somewhere.example.org:8443");

    MeshConfig registryOnly = MeshConfig.DEFAULT.withOutboundTrafficPolicy("REGISTRY_ONLY");
    Where refused =
        simulate(registryOnly, "a", CLIENT, "somewhere.example.org:8443", "/", Map.of());
    assertThat(refused.directStatus()).isEqualTo(502);
    // A host of the registry is still routed.
    assertThat(simulate(registryOnly, "a", CLIENT, "web.a", "/", Map.of()).cluster())
        .isEqualTo("outbound|80||web.a.svc.cluster.local");
  }

  @Test
  void aSidecarScopedProxyCannotReachServicesOutsideItsEgressHosts() throws Exception {
    // db.b is outside the Sidecar's egress hosts and the Sidecar is REGISTRY_ONLY: 502.
    Where scoped = simulate(MeshConfig.DEFAULT, "a", SCOPED, "db.b", "/", Map.of());
    assertThat(scoped.directStatus()).isEqualTo(502);
    assertThat(scoped.clusters()).doesNotContain("outbound|80||db.b.svc.cluster.local");
    assertThat(simulate(MeshConfig.DEFAULT, "a", SCOPED, "web", "/", Map.of()).cluster())
        .isEqualTo("outbound|80||web.a.svc.cluster.local");
    // Its neighbour without the label reaches db.
    assertThat(simulate(MeshConfig.DEFAULT, "a", CLIENT, "db.b", "/", Map.of()).cluster())
        .isEqualTo("outbound|80||db.b.svc.cluster.local");
  }

  // ------------------------------------------------------------------ the simulation

  /**
   * Where a request ended up.
   *
   * @param cluster the cluster, or null
   * @param clusterType its type
   * @param host the upstream host ({@code host:port}), or null
   * @param directStatus the status of a direct response, or 0
   * @param clusters every cluster the proxy has
   */
  record Where(
      String cluster, String clusterType, String host, int directStatus, List<String> clusters) {}

  private static Where simulate(
      MeshConfig mesh,
      String namespace,
      Map<String, String> labels,
      String authority,
      String path,
      Map<String, String> headers)
      throws Exception {
    ParseResult parsed = ResourceParser.parse("mesh", MESH);
    assertThat(parsed.errors()).isEmpty();
    Map<dev.weft.api.ResourceKey, StoredResource> stored = new LinkedHashMap<>();
    int version = 0;
    for (Resource r : parsed.resources()) {
      version++;
      stored.put(r.key(), new StoredResource(r, version, Instant.EPOCH.plusSeconds(version)));
    }
    ConfigSnapshot snapshot = new ConfigSnapshot(version, new TreeMap<>(stored));
    Proxy proxy = Proxy.fromNode(node(namespace, labels));
    PushContext ctx = PushContext.build(1, snapshot, List.of(proxy.workload()), mesh);

    ConfigCompiler compiler = new ConfigCompiler(new ProxyStats());
    Map<String, ClusterConfig> clusters = new HashMap<>();
    Map<String, ClusterLoadAssignment> endpoints = new HashMap<>();
    Map<String, dev.weft.proxy.config.ListenerConfig> listeners = new HashMap<>();
    Map<String, RouteTable> routes = new HashMap<>();
    for (Generator g : Generators.ALL) {
      for (Message m : g.generate(ctx, proxy)) {
        switch (m) {
          case Cluster c -> clusters.put(c.getName(), compiler.cluster(c, null));
          case ClusterLoadAssignment cla -> {
            compiler.validate(cla);
            endpoints.put(cla.getClusterName(), cla);
          }
          case Listener l -> listeners.put(l.getName(), compiler.listener(l));
          case RouteConfiguration rc -> routes.put(rc.getName(), compiler.routes(rc));
          default -> throw new AssertionError(m.getClass());
        }
      }
    }
    RuntimeConfig config = compiler.build(listeners, routes, clusters, endpoints);
    List<String> names = config.clusters().keySet().stream().sorted().toList();

    RouteTable table = config.routes().get(ResourceNames.HTTP_PROXY_ROUTE);
    VirtualHost vh = table.virtualHost(authority);
    if (vh == null) {
      return new Where(null, null, null, 0, names);
    }
    HttpHeaders h = new DefaultHttpHeaders();
    headers.forEach(h::set);
    dev.weft.proxy.config.Route route = Router.match(vh, path, "GET", authority, h);
    if (route == null) {
      return new Where(null, null, null, 0, names);
    }
    return switch (route.action()) {
      case RouteAction.DirectResponse d -> new Where(null, null, null, d.status(), names);
      case RouteAction.ToCluster c -> landed(config, c.cluster(), authority, names);
      case RouteAction.Weighted w -> landed(config, w.pick(0), authority, names);
      case RouteAction.Redirect r -> new Where(null, null, null, r.status(), names);
    };
  }

  /** The host the proxy's router would pick first in {@code cluster} for this authority. */
  private static Where landed(
      RuntimeConfig config, String cluster, String authority, List<String> names) {
    ClusterConfig c = config.clusters().get(cluster);
    assertThat(c).as("cluster " + cluster + " exists").isNotNull();
    Endpoint e =
        c.originalDst() != null
            ? c.originalDst().endpoint(authority)
            : c.endpoints().isEmpty() ? null : c.endpoints().get(0);
    return new Where(cluster, c.type(), e == null ? null : e.hostPort(), 0, names);
  }

  private static Node node(String namespace, Map<String, String> labels) {
    com.google.protobuf.Struct.Builder l = com.google.protobuf.Struct.newBuilder();
    labels.forEach((k, v) -> l.putFields(k, str(v)));
    com.google.protobuf.Struct md =
        com.google.protobuf.Struct.newBuilder()
            .putFields(
                dev.weft.xds.NodeMetadata.LABELS,
                com.google.protobuf.Value.newBuilder().setStructValue(l).build())
            .putFields(dev.weft.xds.NodeMetadata.INSTANCE_IPS, str("127.0.1.40"))
            .putFields(dev.weft.xds.NodeMetadata.WEFT_PORTS, str("http:8080"))
            .putFields(dev.weft.xds.NodeMetadata.WEFT_APP_ADDRESS, str("127.0.2.40"))
            .build();
    return Node.newBuilder()
        .setId("sidecar~127.0.1.40~sim." + namespace + "~" + namespace + ".svc.cluster.local")
        .setMetadata(md)
        .build();
  }

  private static com.google.protobuf.Value str(String s) {
    return com.google.protobuf.Value.newBuilder().setStringValue(s).build();
  }
}
