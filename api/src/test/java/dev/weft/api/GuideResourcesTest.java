package dev.weft.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.api.core.Namespace;
import dev.weft.api.core.Service;
import dev.weft.api.networking.Destination;
import dev.weft.api.networking.DestinationRule;
import dev.weft.api.networking.Gateway;
import dev.weft.api.networking.HttpRoute;
import dev.weft.api.networking.HttpRouteDestination;
import dev.weft.api.networking.Port;
import dev.weft.api.networking.StringMatch;
import dev.weft.api.networking.Subset;
import dev.weft.api.networking.VirtualService;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The resources of the user guide (seeds/003, the podinfo canary), reconstructed with their
 * indentation, parse into the expected records.
 */
class GuideResourcesTest {
  static final String SERVICE =
      """
      apiVersion: v1
      kind: Service
      metadata:
        name: podinfo
        namespace: demo
        labels: {app: podinfo}
      spec:
        selector: {app: podinfo} # selects BOTH v1 and v2 pods
        ports:
        - {name: http, port: 80, targetPort: 9898}
      """;

  static final String GATEWAY =
      """
      apiVersion: networking.istio.io/v1
      kind: Gateway
      metadata:
        name: podinfo-gw
        namespace: demo
      spec:
        selector:
          istio: ingressgateway
        servers:
        - port: {number: 80, name: http, protocol: HTTP}
          hosts: ["*"]
      """;

  static final String DESTINATION_RULE =
      """
      apiVersion: networking.istio.io/v1
      kind: DestinationRule
      metadata:
        name: podinfo
        namespace: demo
      spec:
        host: podinfo.demo.svc.cluster.local
        subsets:
        - {name: v1, labels: {version: v1}}
        - {name: v2, labels: {version: v2}}
      """;

  static final String CANARY =
      """
      apiVersion: networking.istio.io/v1
      kind: VirtualService
      metadata:
        name: podinfo
        namespace: demo
      spec:
        hosts: ["*"]
        gateways: ["podinfo-gw"]
        http:
        - route:
          - destination: {host: podinfo.demo.svc.cluster.local, subset: v1}
            weight: 90
          - destination: {host: podinfo.demo.svc.cluster.local, subset: v2}
            weight: 10
      """;

  static final String HEADER_CANARY =
      """
      apiVersion: networking.istio.io/v1
      kind: VirtualService
      metadata:
        name: podinfo
        namespace: demo
      spec:
        hosts: ["*"]
        gateways: ["podinfo-gw"]
        http:
        - match:
          - headers:
              x-canary:
                exact: "true"
          route:
          - destination: {host: podinfo.demo.svc.cluster.local, subset: v2}
        - route:
          - destination: {host: podinfo.demo.svc.cluster.local, subset: v1}
          timeout: 5s
      """;

  static final String PEER_AUTHENTICATION =
      """
      apiVersion: security.istio.io/v1
      kind: PeerAuthentication
      metadata:
        name: default
        namespace: demo
      spec:
        mtls:
          mode: STRICT
      """;

  static Resource only(String yaml) {
    ParseResult r = ResourceParser.parse("guide.yaml", yaml);
    assertThat(r.errors()).isEmpty();
    assertThat(r.resources()).hasSize(1);
    return r.resources().get(0);
  }

  @Test
  void service() {
    Resource r = only(SERVICE);
    assertThat(r.kind()).isEqualTo(ResourceKind.SERVICE);
    assertThat(r.apiVersion()).isEqualTo("v1");
    assertThat(r.key()).isEqualTo(new ResourceKey(ResourceKind.SERVICE, "demo", "podinfo"));
    assertThat(r.metadata().labels()).isEqualTo(Map.of("app", "podinfo"));
    Service s = r.spec(Service.class);
    assertThat(s.selector()).isEqualTo(Map.of("app", "podinfo"));
    assertThat(s.type()).isEqualTo("ClusterIP");
    assertThat(s.ports())
        .containsExactly(
            new Service.ServicePort("http", 80, new Service.TargetPort(9898, ""), "TCP", ""));
  }

  @Test
  void gateway() {
    Gateway g = only(GATEWAY).spec(Gateway.class);
    assertThat(g.selector()).isEqualTo(Map.of("istio", "ingressgateway"));
    assertThat(g.servers()).hasSize(1);
    assertThat(g.servers().get(0).port()).isEqualTo(new Port(80, "HTTP", "http", 0));
    assertThat(g.servers().get(0).hosts()).containsExactly("*");
    assertThat(g.servers().get(0).tls()).isNull();
  }

  @Test
  void destinationRule() {
    DestinationRule dr = only(DESTINATION_RULE).spec(DestinationRule.class);
    assertThat(dr.host()).isEqualTo("podinfo.demo.svc.cluster.local");
    assertThat(dr.trafficPolicy()).isNull();
    assertThat(dr.subsets())
        .containsExactly(
            new Subset("v1", Map.of("version", "v1"), null),
            new Subset("v2", Map.of("version", "v2"), null));
    assertThat(dr.exportTo()).isEmpty();
  }

  @Test
  void canary9010() {
    Resource r = only(CANARY);
    VirtualService vs = r.spec(VirtualService.class);
    assertThat(vs.hosts()).containsExactly("*");
    assertThat(vs.gateways()).containsExactly("podinfo-gw");
    assertThat(vs.tls()).isEmpty();
    assertThat(vs.tcp()).isEmpty();
    assertThat(vs.http()).hasSize(1);
    HttpRoute route = vs.http().get(0);
    assertThat(route.match()).isEmpty();
    assertThat(route.route())
        .containsExactly(
            new HttpRouteDestination(
                new Destination("podinfo.demo.svc.cluster.local", "v1", null), 90, null),
            new HttpRouteDestination(
                new Destination("podinfo.demo.svc.cluster.local", "v2", null), 10, null));
    assertThat(route.timeout()).isNull();
    assertThat(route.redirect()).isNull();
  }

  @Test
  void headerCanary() {
    VirtualService vs = only(HEADER_CANARY).spec(VirtualService.class);
    assertThat(vs.http()).hasSize(2);
    HttpRoute first = vs.http().get(0);
    assertThat(first.match()).hasSize(1);
    assertThat(first.match().get(0).headers())
        .containsExactly(Map.entry("x-canary", new StringMatch(StringMatch.Type.EXACT, "true")));
    assertThat(first.route()).hasSize(1);
    assertThat(first.route().get(0).weight()).isZero();
    assertThat(first.route().get(0).destination().subset()).isEqualTo("v2");
    assertThat(vs.http().get(1).timeout()).isEqualTo(java.time.Duration.ofSeconds(5));
  }

  @Test
  void peerAuthentication() {
    Resource r = only(PEER_AUTHENTICATION);
    assertThat(r.key())
        .isEqualTo(new ResourceKey(ResourceKind.PEER_AUTHENTICATION, "demo", "default"));
    assertThat(r.spec(dev.weft.api.security.PeerAuthentication.class).mtlsMode())
        .isEqualTo("STRICT");
  }

  @Test
  void allTogetherWithNamespaceDefaulting() {
    String namespace =
        """
        apiVersion: v1
        kind: Namespace
        metadata:
          name: demo
          labels: {istio-injection: enabled}
        """;
    String noNamespace = CANARY.replace("  namespace: demo\n", "");
    ParseResult r =
        ResourceParser.parse(
            "all.yaml",
            String.join(
                "---\n", List.of(namespace, SERVICE, GATEWAY, DESTINATION_RULE, noNamespace)));
    assertThat(r.errors()).isEmpty();
    assertThat(r.resources())
        .extracting(Resource::kind)
        .containsExactly(
            ResourceKind.NAMESPACE,
            ResourceKind.SERVICE,
            ResourceKind.GATEWAY,
            ResourceKind.DESTINATION_RULE,
            ResourceKind.VIRTUAL_SERVICE);
    Resource ns = r.resources().get(0);
    assertThat(ns.spec()).isInstanceOf(Namespace.class);
    assertThat(ns.key()).isEqualTo(new ResourceKey(ResourceKind.NAMESPACE, "", "demo"));
    Resource vs = r.resources().get(4);
    assertThat(vs.metadata().namespace()).isEqualTo("default");
    @SuppressWarnings("unchecked")
    Map<String, Object> meta = (Map<String, Object>) vs.document().get("metadata");
    assertThat(meta).containsEntry("namespace", "default");
    assertThat(List.copyOf(meta.keySet())).containsExactly("name", "namespace");
  }
}
