package dev.weft.controlplane.gen;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.api.Resource;
import dev.weft.controlplane.Fixtures;
import dev.weft.controlplane.push.PushContext;
import dev.weft.controlplane.store.ConfigSnapshot;
import io.envoyproxy.envoy.config.core.v3.HeaderValueOption;
import io.envoyproxy.envoy.config.core.v3.HeaderValueOption.HeaderAppendAction;
import io.envoyproxy.envoy.config.route.v3.Route;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Route translation details the golden files do not cover: headers, direct responses. */
class RouteTranslatorTest {
  private static List<Route> translate(String yaml) {
    Resource vs = Fixtures.parse("vs.yaml", yaml).get(0);
    PushContext ctx = PushContext.build(1, ConfigSnapshot.EMPTY, List.of());
    return RouteTranslator.translate(ctx, vs, new RouteTranslator.Scope(Set.of("mesh"), 80, true));
  }

  private static String describe(HeaderValueOption o) {
    return o.getHeader().getKey() + "=" + o.getHeader().getValue() + " " + o.getAppendAction();
  }

  @Test
  void setAddRemoveOfTheRouteAndOfItsOnlyDestination() {
    List<Route> routes =
        translate(
            """
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: podinfo, namespace: demo}
            spec:
              hosts: [podinfo]
              http:
              - headers:
                  request:
                    set: {x-b: "1", host: other, x-f: "%START_TIME%"}
                    add: {x-a: "50%%"}
                    remove: [x-c, host]
                  response:
                    set: {x-d: e}
                route:
                - destination: {host: podinfo, subset: v1}
                  headers:
                    response: {remove: [server]}
              - route:
                - destination: {host: podinfo, subset: v1}
                  weight: 50
                  headers:
                    request: {set: {x-w: "1"}}
                - destination: {host: podinfo, subset: v2}
                  weight: 50
            """);
    Route first = routes.get(0);
    assertThat(first.getRequestHeadersToAddList())
        .extracting(RouteTranslatorTest::describe)
        .containsExactly(
            "x-b=1 " + HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD,
            "x-a=50%% " + HeaderAppendAction.APPEND_IF_EXISTS_OR_ADD);
    assertThat(first.getRequestHeadersToRemoveList()).containsExactly("x-c");
    assertThat(first.getResponseHeadersToAddList())
        .extracting(RouteTranslatorTest::describe)
        .containsExactly("x-d=e " + HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD);
    assertThat(first.getResponseHeadersToRemoveList()).containsExactly("server");

    // A weighted route's per-destination operations are not translated (Enforcement warns).
    Route second = routes.get(1);
    assertThat(second.getRequestHeadersToAddList()).isEmpty();
    assertThat(second.getRoute().getWeightedClusters().getClustersList()).hasSize(2);
  }

  @Test
  void directResponseBecomesEnvoysDirectResponse() {
    List<Route> routes =
        translate(
            """
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: podinfo, namespace: demo}
            spec:
              hosts: [podinfo]
              http:
              - match:
                - uri: {exact: /down}
                directResponse:
                  status: 503
                  body: {string: "maintenance"}
              - match:
                - uri: {exact: /bytes}
                directResponse:
                  status: 200
                  body: {bytes: "aGVsbG8="}
              - directResponse: {status: 404}
            """);
    assertThat(routes).hasSize(3);
    assertThat(routes.get(0).getDirectResponse().getStatus()).isEqualTo(503);
    assertThat(routes.get(0).getDirectResponse().getBody().getInlineString())
        .isEqualTo("maintenance");
    assertThat(routes.get(1).getDirectResponse().getBody().getInlineBytes().toStringUtf8())
        .isEqualTo("hello");
    assertThat(routes.get(2).getDirectResponse().getStatus()).isEqualTo(404);
    assertThat(routes.get(2).getDirectResponse().hasBody()).isFalse();
    assertThat(
            Enforcement.unenforced(
                Fixtures.parse(
                        "vs.yaml",
                        """
                        apiVersion: networking.istio.io/v1
                        kind: VirtualService
                        metadata: {name: podinfo, namespace: demo}
                        spec:
                          hosts: [podinfo]
                          http:
                          - directResponse: {status: 404}
                        """)
                    .get(0)))
        .isEmpty();
  }
}
