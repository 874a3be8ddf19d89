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

/** Istio's header operations become route-level header mutations, as Istio translates them. */
class RouteHeadersTest {
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
        .extracting(RouteHeadersTest::describe)
        .containsExactly(
            "x-b=1 " + HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD,
            "x-a=50%% " + HeaderAppendAction.APPEND_IF_EXISTS_OR_ADD);
    assertThat(first.getRequestHeadersToRemoveList()).containsExactly("x-c");
    assertThat(first.getResponseHeadersToAddList())
        .extracting(RouteHeadersTest::describe)
        .containsExactly("x-d=e " + HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD);
    assertThat(first.getResponseHeadersToRemoveList()).containsExactly("server");

    // A weighted route's per-destination operations are not translated (Enforcement warns).
    Route second = routes.get(1);
    assertThat(second.getRequestHeadersToAddList()).isEmpty();
    assertThat(second.getRoute().getWeightedClusters().getClustersList()).hasSize(2);
  }
}
