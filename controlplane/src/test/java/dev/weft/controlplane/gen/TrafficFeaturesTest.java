package dev.weft.controlplane.gen;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.api.Resource;
import dev.weft.controlplane.Fixtures;
import dev.weft.controlplane.push.PushContext;
import dev.weft.controlplane.store.ConfigSnapshot;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.extensions.filters.http.cors.v3.CorsPolicy;
import io.envoyproxy.envoy.extensions.filters.http.fault.v3.HTTPFault;
import io.envoyproxy.envoy.type.v3.FractionalPercent;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * {@code fault}, {@code corsPolicy} and {@code mirror}/{@code mirrors} become what Istio's
 * TranslateFault, TranslateCORSPolicy and mirror policies make of them.
 */
class TrafficFeaturesTest {
  private static List<Route> translate(String http) {
    Resource vs =
        Fixtures.parse(
                "vs.yaml",
                """
                apiVersion: networking.istio.io/v1
                kind: VirtualService
                metadata: {name: podinfo, namespace: demo}
                spec:
                  hosts: [podinfo]
                  http:
                """
                    + http.indent(2))
            .get(0);
    PushContext ctx = PushContext.build(1, ConfigSnapshot.EMPTY, List.of());
    return RouteTranslator.translate(ctx, vs, new RouteTranslator.Scope(Set.of("mesh"), 80, true));
  }

  @Test
  void faultBecomesTheRoutesHttpFaultPerFilterConfig() throws Exception {
    Route r =
        translate(
                """
                - fault:
                    delay: {fixedDelay: 7s, percentage: {value: 12.5}}
                    abort: {httpStatus: 503, percentage: {value: 50}}
                  route: [{destination: {host: podinfo}}]
                """)
            .get(0);
    HTTPFault f =
        r.getTypedPerFilterConfigOrThrow("envoy.filters.http.fault").unpack(HTTPFault.class);
    assertThat(f.getDelay().getFixedDelay().getSeconds()).isEqualTo(7);
    assertThat(f.getDelay().getPercentage().getNumerator()).isEqualTo(125_000);
    assertThat(f.getDelay().getPercentage().getDenominator())
        .isEqualTo(FractionalPercent.DenominatorType.MILLION);
    assertThat(f.getAbort().getHttpStatus()).isEqualTo(503);
    assertThat(f.getAbort().getPercentage().getNumerator()).isEqualTo(500_000);
  }

  @Test
  void grpcAbortAndIstiosDroppedFaults() throws Exception {
    List<Route> routes =
        translate(
            """
            - match: [{uri: {prefix: /g}}]
              fault:
                abort: {grpcStatus: UNAVAILABLE}
              route: [{destination: {host: podinfo}}]
            - match: [{uri: {prefix: /e}}]
              fault:
                delay: {exponentialDelay: 1s, percentage: {value: 100}}
              route: [{destination: {host: podinfo}}]
            """);
    HTTPFault g =
        routes
            .get(0)
            .getTypedPerFilterConfigOrThrow("envoy.filters.http.fault")
            .unpack(HTTPFault.class);
    assertThat(g.getAbort().getGrpcStatus()).isEqualTo(14);
    // Istio: no percentage, no request aborted.
    assertThat(g.getAbort().getPercentage().getNumerator()).isZero();
    // Istio drops an exponential delay, and then the whole fault.
    assertThat(routes.get(1).getTypedPerFilterConfigMap()).isEmpty();
  }

  @Test
  void corsPolicyBecomesTheRoutesCorsPolicy() throws Exception {
    Route r =
        translate(
                """
                - corsPolicy:
                    allowOrigins: [{exact: "https://a.example"}, {prefix: "https://b"}, {regex: ".*\\\\.c\\\\.example"}]
                    allowMethods: [GET, POST]
                    allowHeaders: [x-a, x-b]
                    exposeHeaders: [x-c]
                    maxAge: 24h
                    allowCredentials: false
                    unmatchedPreflights: IGNORE
                  route: [{destination: {host: podinfo}}]
                """)
            .get(0);
    CorsPolicy c =
        r.getTypedPerFilterConfigOrThrow("envoy.filters.http.cors").unpack(CorsPolicy.class);
    assertThat(c.getAllowOriginStringMatch(0).getExact()).isEqualTo("https://a.example");
    assertThat(c.getAllowOriginStringMatch(1).getPrefix()).isEqualTo("https://b");
    assertThat(c.getAllowOriginStringMatch(2).getSafeRegex().getRegex())
        .isEqualTo(".*\\.c\\.example");
    assertThat(c.getAllowMethods()).isEqualTo("GET,POST");
    assertThat(c.getAllowHeaders()).isEqualTo("x-a,x-b");
    assertThat(c.getExposeHeaders()).isEqualTo("x-c");
    assertThat(c.getMaxAge()).isEqualTo("86400");
    assertThat(c.hasAllowCredentials()).isTrue();
    assertThat(c.getAllowCredentials().getValue()).isFalse();
    assertThat(c.getForwardNotMatchingPreflights().getValue()).isFalse();
    assertThat(c.getFilterEnabled().getDefaultValue().getNumerator()).isEqualTo(100);
    // Without unmatchedPreflights, preflights from other origins are forwarded (Istio's default).
    Route plain =
        translate(
                """
                - corsPolicy: {allowOrigin: ["https://old.example"]}
                  route: [{destination: {host: podinfo}}]
                """)
            .get(0);
    CorsPolicy p =
        plain.getTypedPerFilterConfigOrThrow("envoy.filters.http.cors").unpack(CorsPolicy.class);
    assertThat(p.getForwardNotMatchingPreflights().getValue()).isTrue();
    assertThat(p.getAllowOriginStringMatch(0).getExact()).isEqualTo("https://old.example");
    assertThat(p.hasAllowCredentials()).isFalse();
  }

  @Test
  void mirrorsBecomeRequestMirrorPolicies() {
    List<Route> routes =
        translate(
            """
            - match: [{uri: {prefix: /a}}]
              mirror: {host: shadow, subset: v2}
              route: [{destination: {host: podinfo}}]
            - match: [{uri: {prefix: /b}}]
              mirror: {host: shadow}
              mirrorPercentage: {value: 25}
              route: [{destination: {host: podinfo}}]
            - match: [{uri: {prefix: /c}}]
              mirror: {host: shadow}
              mirrorPercentage: {value: 0}
              route: [{destination: {host: podinfo}}]
            - match: [{uri: {prefix: /d}}]
              mirrors:
              - destination: {host: shadow}
                percentage: {value: 10}
              - destination: {host: other}
              route: [{destination: {host: podinfo}}]
            """);
    var a = routes.get(0).getRoute().getRequestMirrorPolicies(0);
    assertThat(a.getCluster()).isEqualTo("outbound|80|v2|shadow.demo.svc.cluster.local");
    assertThat(a.getRuntimeFraction().getDefaultValue().getNumerator()).isEqualTo(100);
    assertThat(a.getRuntimeFraction().getDefaultValue().getDenominator())
        .isEqualTo(FractionalPercent.DenominatorType.HUNDRED);
    assertThat(a.getTraceSampled().getValue()).isFalse();
    assertThat(
            routes
                .get(1)
                .getRoute()
                .getRequestMirrorPolicies(0)
                .getRuntimeFraction()
                .getDefaultValue()
                .getNumerator())
        .isEqualTo(250_000);
    assertThat(routes.get(2).getRoute().getRequestMirrorPoliciesList()).isEmpty();
    assertThat(routes.get(3).getRoute().getRequestMirrorPoliciesList())
        .extracting(m -> m.getCluster())
        .containsExactly(
            "outbound|80||shadow.demo.svc.cluster.local",
            "outbound|80||other.demo.svc.cluster.local");
  }
}
