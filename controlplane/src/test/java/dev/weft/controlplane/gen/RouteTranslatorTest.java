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

/**
 * Route translation details the golden files do not cover: headers, direct responses, retries,
 * rewrites.
 */
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

  private static final String VS =
      """
      apiVersion: networking.istio.io/v1
      kind: VirtualService
      metadata: {name: podinfo, namespace: demo}
      spec:
        hosts: [podinfo]
        http:
      """;

  @Test
  void retriesAreIstiosConvertPolicy() {
    List<Route> routes =
        translate(
            VS
                + """
                - match: [{uri: {prefix: /none}}]
                  route: [{destination: {host: podinfo}}]
                - match: [{uri: {prefix: /off}}]
                  retries: {attempts: 0}
                  route: [{destination: {host: podinfo}}]
                - match: [{uri: {prefix: /codes}}]
                  retries: {attempts: 3, retryOn: "503,connect-failure,504"}
                  route: [{destination: {host: podinfo}}]
                - match: [{uri: {prefix: /all}}]
                  retries:
                    attempts: 4
                    retryOn: "retriable-status-codes,5xx,409"
                    perTryTimeout: 2s
                    backoff: 50ms
                  route: [{destination: {host: podinfo}}]
                - match: [{uri: {prefix: /plain}}]
                  retries: {attempts: 5}
                  route: [{destination: {host: podinfo}}]
                """
                    .indent(2));
    // No retries: Istio's default policy, 2 retries, and 503 is not among the retried codes.
    var none = routes.get(0).getRoute().getRetryPolicy();
    assertThat(none.getNumRetries().getValue()).isEqualTo(2);
    assertThat(none.getRetryOn())
        .isEqualTo("connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes");
    assertThat(none.getRetriableStatusCodesList()).isEmpty();
    // attempts: 0 disables retries.
    assertThat(routes.get(1).getRoute().hasRetryPolicy()).isFalse();
    // Plain status codes become retriable_status_codes, and retry_on gets the condition.
    var codes = routes.get(2).getRoute().getRetryPolicy();
    assertThat(codes.getNumRetries().getValue()).isEqualTo(3);
    assertThat(codes.getRetryOn()).isEqualTo("connect-failure,retriable-status-codes");
    assertThat(codes.getRetriableStatusCodesList()).containsExactly(503, 504);
    var all = routes.get(3).getRoute().getRetryPolicy();
    assertThat(all.getRetryOn()).isEqualTo("retriable-status-codes,5xx");
    assertThat(all.getRetriableStatusCodesList()).containsExactly(409);
    assertThat(all.getPerTryTimeout().getSeconds()).isEqualTo(2);
    assertThat(all.getRetryBackOff().getBaseInterval().getNanos()).isEqualTo(50_000_000);
    // attempts without retryOn keep Istio's default conditions.
    var plain = routes.get(4).getRoute().getRetryPolicy();
    assertThat(plain.getNumRetries().getValue()).isEqualTo(5);
    assertThat(plain.getRetryOn()).isEqualTo(RouteTranslator.DEFAULT_RETRY_ON);
  }

  @Test
  void uriRewriteFollowsTheMatchKind() {
    List<Route> routes =
        translate(
            VS
                + """
                - match:
                  - uri: {prefix: /api}
                  - uri: {exact: /v1/ping}
                  - uri: {regex: "/v[0-9]+/.*"}
                  - headers: {x-a: {exact: "1"}}
                  rewrite: {uri: /new}
                  route: [{destination: {host: podinfo}}]
                - match: [{uri: {prefix: /re}}]
                  rewrite: {uriRegexRewrite: {match: "^/re/(.*)$", rewrite: "/\\\\1"}}
                  route: [{destination: {host: podinfo}}]
                """
                    .indent(2));
    assertThat(routes.get(0).getRoute().getPrefixRewrite()).isEqualTo("/new");
    assertThat(routes.get(1).getRoute().getPrefixRewrite()).isEqualTo("/new");
    // Envoy rejects prefix_rewrite on a regex route: the whole path is replaced instead.
    var regex = routes.get(2).getRoute();
    assertThat(regex.getPrefixRewrite()).isEmpty();
    assertThat(regex.getRegexRewrite().getPattern().getRegex()).isEqualTo("^/.*$");
    assertThat(regex.getRegexRewrite().getSubstitution()).isEqualTo("/new");
    // No uri match: prefix "/".
    assertThat(routes.get(3).getRoute().getPrefixRewrite()).isEqualTo("/new");
    var rr = routes.get(4).getRoute().getRegexRewrite();
    assertThat(rr.getPattern().getRegex()).isEqualTo("^/re/(.*)$");
    assertThat(rr.getSubstitution()).isEqualTo("/\\1");
  }

  @Test
  void aRegexRewriteEnvoyWouldRejectIsLeftOutAndWarned() {
    String yaml =
        VS
            + """
            - rewrite: {uriRegexRewrite: {match: "^/a/.*$", rewrite: "/\\\\2"}}
              route: [{destination: {host: podinfo}}]
            """
                .indent(2);
    assertThat(translate(yaml).get(0).getRoute().hasRegexRewrite()).isFalse();
    assertThat(Enforcement.unenforced(Fixtures.parse("vs.yaml", yaml).get(0)))
        .extracting(Enforcement.Warning::field)
        .containsExactly("spec.http[0].rewrite.uriRegexRewrite");
  }

  @Test
  void redirectPrefixRewrite() {
    List<Route> routes =
        translate(
            VS
                + """
                - match: [{uri: {prefix: /old}}]
                  redirect: {prefixRewrite: /new, redirectCode: 308}
                """
                    .indent(2));
    assertThat(routes.get(0).getRedirect().getPrefixRewrite()).isEqualTo("/new");
    assertThat(routes.get(0).getRedirect().getResponseCode().getNumber()).isEqualTo(4);
  }
}
