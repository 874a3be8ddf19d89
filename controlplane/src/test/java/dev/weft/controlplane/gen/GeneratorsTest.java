package dev.weft.controlplane.gen;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Message;
import dev.weft.controlplane.Fixtures;
import dev.weft.controlplane.push.PushContext;
import dev.weft.controlplane.store.ConfigSnapshot;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.HeaderMatcher;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GeneratorsTest {
  @TempDir Path dir;

  private PushContext context(String... fixtures) throws Exception {
    ConfigSnapshot snapshot = Fixtures.snapshot(dir, fixtures);
    return PushContext.build(
        1,
        snapshot,
        List.of(Fixtures.v1().workload(), Fixtures.v2().workload(), Fixtures.gateway().workload()));
  }

  private static RouteConfiguration only(List<Message> routes) {
    assertThat(routes).hasSize(1);
    return (RouteConfiguration) routes.get(0);
  }

  private static VirtualHost vhost(RouteConfiguration rc, String name) {
    return rc.getVirtualHostsList().stream()
        .filter(v -> v.getName().equals(name))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no virtual host " + name + " in " + rc));
  }

  @Test
  void sidecarVirtualHostsHaveIstioDomainsAndDefaultRoutes() throws Exception {
    PushContext ctx = context("podinfo.yaml", "mesh-routes.yaml");
    // A proxy in namespace "other" sees podinfo without its short name.
    RouteConfiguration fromDemo = only(new RouteGenerator().generate(ctx, Fixtures.v1()));
    assertThat(fromDemo.getName()).isEqualTo("http_proxy");
    VirtualHost backend = vhost(fromDemo, "backend.other.svc.cluster.local:8000");
    assertThat(backend.getDomainsList())
        .containsExactly(
            "backend.other.svc.cluster.local:8000", "backend.other:8000", "backend.other.svc:8000");
    assertThat(backend.getRoutesList()).hasSize(1);
    assertThat(backend.getRoutes(0).getMatch().getPrefix()).isEqualTo("/");
    assertThat(backend.getRoutes(0).getRoute().getCluster())
        .isEqualTo("outbound|8000||backend.other.svc.cluster.local");

    VirtualHost podinfo = vhost(fromDemo, "podinfo.demo.svc.cluster.local:80");
    assertThat(podinfo.getDomainsList())
        .containsExactly(
            "podinfo.demo.svc.cluster.local",
            "podinfo.demo.svc.cluster.local:80",
            "podinfo",
            "podinfo:80",
            "podinfo.demo",
            "podinfo.demo:80",
            "podinfo.demo.svc",
            "podinfo.demo.svc:80");
  }

  @Test
  void noDomainIsInTwoVirtualHosts() throws Exception {
    // Envoy rejects a route configuration that repeats a domain; istio-ingressgateway has three
    // ports.
    PushContext ctx = context("podinfo.yaml", "mesh-routes.yaml");
    RouteConfiguration rc = only(new RouteGenerator().generate(ctx, Fixtures.v1()));
    List<String> all =
        rc.getVirtualHostsList().stream().flatMap(v -> v.getDomainsList().stream()).toList();
    assertThat(all).doesNotHaveDuplicates();
    assertThat(vhost(rc, "istio-ingressgateway.istio-system.svc.cluster.local:80").getDomainsList())
        .containsExactly(
            "istio-ingressgateway.istio-system.svc.cluster.local",
            "istio-ingressgateway.istio-system.svc.cluster.local:80",
            "istio-ingressgateway.istio-system",
            "istio-ingressgateway.istio-system:80",
            "istio-ingressgateway.istio-system.svc",
            "istio-ingressgateway.istio-system.svc:80");
  }

  @Test
  void meshVirtualServiceBecomesOneRoutePerMatchInOrder() throws Exception {
    PushContext ctx = context("podinfo.yaml", "mesh-routes.yaml");
    RouteConfiguration rc = only(new RouteGenerator().generate(ctx, Fixtures.v1()));
    List<Route> routes = vhost(rc, "podinfo.demo.svc.cluster.local:80").getRoutesList();
    assertThat(routes).hasSize(3);

    Route exact = routes.get(0);
    assertThat(exact.getMatch().getPath()).isEqualTo("/version");
    assertThat(exact.getMatch().getHeadersList())
        .extracting(HeaderMatcher::getName)
        .containsExactly(":method");
    assertThat(exact.getMatch().getHeaders(0).getStringMatch().getExact()).isEqualTo("GET");
    // Subset v3 is in no DestinationRule: the cluster is named anyway (the proxy answers 503 NC).
    assertThat(exact.getRoute().getCluster())
        .isEqualTo("outbound|80|v3|podinfo.demo.svc.cluster.local");

    Route regex = routes.get(1);
    assertThat(regex.getMatch().getSafeRegex().getRegex()).isEqualTo("/api/.*");
    assertThat(regex.getMatch().getSafeRegex().hasGoogleRe2()).isTrue();
    assertThat(regex.getMatch().getHeaders(0).getName()).isEqualTo("x-canary");
    assertThat(regex.getMatch().getHeaders(0).getStringMatch().getPrefix()).isEqualTo("tr");

    Route fallback = routes.get(2);
    assertThat(fallback.getMatch().getPrefix()).isEqualTo("/");
    assertThat(fallback.getRoute().getCluster())
        .isEqualTo("outbound|80|v1|podinfo.demo.svc.cluster.local");

    List<String> clusters =
        new ClusterGenerator()
            .generate(ctx, Fixtures.v1()).stream().map(m -> ((Cluster) m).getName()).toList();
    assertThat(clusters)
        .contains("outbound|80|v1|podinfo.demo.svc.cluster.local")
        .doesNotContain("outbound|80|v3|podinfo.demo.svc.cluster.local");
  }

  @Test
  void gatewayWithoutBoundVirtualServiceHasNoVirtualHosts() throws Exception {
    PushContext ctx = context("podinfo.yaml");
    ConfigSnapshot withoutVs = Fixtures.snapshot(dir.resolve("b"), "podinfo.yaml");
    // Same fixture without the VirtualService: rebuild from a filtered snapshot.
    var resources = new java.util.TreeMap<>(withoutVs.resources());
    resources.keySet().removeIf(k -> k.kind() == dev.weft.api.ResourceKind.VIRTUAL_SERVICE);
    PushContext noVs =
        PushContext.build(2, new ConfigSnapshot(withoutVs.version(), resources), ctx.workloads());
    RouteConfiguration rc = only(new RouteGenerator().generate(noVs, Fixtures.gateway()));
    assertThat(rc.getName()).isEqualTo("http.8080");
    assertThat(rc.getVirtualHostsList()).isEmpty();
    // The listener is there all the same (Gateway port 80 → the ingress Service's targetPort).
    assertThat(new ListenerGenerator().generate(noVs, Fixtures.gateway()))
        .extracting(m -> ((Listener) m).getName())
        .containsExactly("127.0.0.1_8080");
  }

  @Test
  void gatewayServerHostsRestrictVirtualServicesByNamespace() throws Exception {
    String gateways =
        """
        apiVersion: networking.istio.io/v1
        kind: Gateway
        metadata: {name: podinfo-gw, namespace: demo}
        spec:
          selector: {istio: ingressgateway}
          servers:
          - port: {number: 80, name: http, protocol: HTTP}
            hosts: ["other/*", "./own.example.com"]
        """;
    var store = dev.weft.controlplane.store.ConfigStore.open(dir.resolve("ns"), Fixtures.CLOCK);
    store.apply("f", Fixtures.fixtures("podinfo.yaml"));
    store.apply("g", Fixtures.parse("g", gateways));
    String vs =
        """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: own, namespace: demo}
        spec:
          hosts: ["own.example.com", "stranger.example.com"]
          gateways: ["podinfo-gw"]
          http:
          - route:
            - destination: {host: podinfo}
        """;
    store.apply("v", Fixtures.parse("v", vs));
    PushContext ctx = PushContext.build(1, store.snapshot(), List.of());
    RouteConfiguration rc = only(new RouteGenerator().generate(ctx, Fixtures.gateway()));
    // "other/*" is for VirtualServices of namespace "other"; "./own.example.com" for the
    // Gateway's own namespace. Both demo VirtualServices land on own.example.com (the podinfo one
    // through its "*"), merged in order ("own" sorts first at equal age); stranger.example.com
    // matches no server.
    assertThat(rc.getVirtualHostsList())
        .extracting(VirtualHost::getName)
        .containsExactly("own.example.com:80");
    VirtualHost own = vhost(rc, "own.example.com:80");
    assertThat(own.getDomainsList()).containsExactly("own.example.com", "own.example.com:*");
    assertThat(own.getRoutesList()).hasSize(2);
    assertThat(own.getRoutes(0).getRoute().getCluster())
        .isEqualTo("outbound|80||podinfo.demo.svc.cluster.local");
    assertThat(own.getRoutes(1).getRoute().hasWeightedClusters()).isTrue();
  }

  @Test
  void gatewayGetsNoListenerWhenNoGatewaySelectsIt() throws Exception {
    PushContext ctx = context("podinfo.yaml");
    Proxy other =
        Proxy.fromNode(
            Fixtures.node(
                "router~127.0.0.9~egress.istio-system~istio-system.svc.cluster.local",
                java.util.Map.of("istio", "egressgateway"),
                "127.0.0.9",
                "",
                ""));
    assertThat(new ListenerGenerator().generate(ctx, other)).isEmpty();
    assertThat(new RouteGenerator().generate(ctx, other)).isEmpty();
  }

  @Test
  void sidecarOnlyGetsInboundForServicesSelectingIt() throws Exception {
    PushContext ctx = context("podinfo.yaml");
    Proxy stranger =
        Proxy.fromNode(
            Fixtures.node(
                "sidecar~127.0.1.9~curl.demo~demo.svc.cluster.local",
                java.util.Map.of("app", "curl"),
                "127.0.1.9",
                "",
                "127.0.2.9"));
    assertThat(new ListenerGenerator().generate(ctx, stranger))
        .extracting(m -> ((Listener) m).getName())
        .containsExactly("127.0.1.9_15001");
    assertThat(new ClusterGenerator().generate(ctx, stranger))
        .extracting(m -> ((Cluster) m).getName())
        .noneMatch(n -> n.startsWith("inbound|"));
  }

  @Test
  void tcpPortsGetTcpProxyListenersOnTheSidecar() throws Exception {
    PushContext ctx = context("podinfo.yaml", "tcp-echo.yaml");
    List<String> names =
        new ListenerGenerator()
            .generate(ctx, Fixtures.v1()).stream().map(m -> ((Listener) m).getName()).toList();
    // Inbound 9900 (tcp-echo's target port), outbound 9000 (tcp-echo) and 5432 (db, named "db", no
    // known protocol:
    // TCP); db's privileged port 23 gets none; the gateway's https 443 is not TCP.
    assertThat(names)
        .contains("127.0.1.2_9900", "127.0.1.2_9000", "127.0.1.2_5432")
        .doesNotContain("127.0.1.2_23", "127.0.1.2_443");
  }

  @Test
  void grpcAndHttp2PortsGetHttp2UpstreamsAndUnknownPortsTheDownstreamProtocol() throws Exception {
    PushContext ctx = context("podinfo.yaml", "grpc-echo.yaml");
    java.util.Map<String, Cluster> clusters = new java.util.HashMap<>();
    for (Message m : new ClusterGenerator().generate(ctx, Fixtures.v1())) {
      clusters.put(((Cluster) m).getName(), (Cluster) m);
    }
    var h2 = upstream(clusters.get("outbound|7070||grpc-echo.demo.svc.cluster.local"));
    assertThat(h2.getExplicitHttpConfig().hasHttp2ProtocolOptions()).isTrue();
    assertThat(
            upstream(clusters.get("outbound|8081||grpc-echo.demo.svc.cluster.local"))
                .getExplicitHttpConfig()
                .hasHttp2ProtocolOptions())
        .isTrue();
    // The sidecar's own inbound clusters for those target ports, as Istio's inbound clusters.
    assertThat(
            upstream(clusters.get("inbound|7071||"))
                .getExplicitHttpConfig()
                .hasHttp2ProtocolOptions())
        .isTrue();
    assertThat(
            clusters
                .get("outbound|8090||grpc-echo.demo.svc.cluster.local")
                .getTypedExtensionProtocolOptionsMap())
        .doesNotContainKey(UpstreamProtocols.EXTENSION);
    assertThat(clusters.get("inbound|8091||").getTypedExtensionProtocolOptionsMap())
        .doesNotContainKey(UpstreamProtocols.EXTENSION);
    assertThat(
            upstream(clusters.get("outbound|8095||grpc-echo.demo.svc.cluster.local"))
                .hasUseDownstreamProtocolConfig())
        .isTrue();
  }

  private static io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions upstream(
      Cluster c) throws Exception {
    assertThat(c).isNotNull();
    return c.getTypedExtensionProtocolOptionsOrThrow(UpstreamProtocols.EXTENSION)
        .unpack(io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions.class);
  }
}
