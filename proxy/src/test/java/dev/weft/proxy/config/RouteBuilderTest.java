package dev.weft.proxy.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RouteBuilderTest {

  @Test
  void unsetFieldsAreTheDefaultsOfARouteWithoutThem() throws Exception {
    PathMatch root = new PathMatch(PathMatch.Kind.PREFIX, "/", true);
    Route r = Route.builder("r", root, new RouteAction.ToCluster("c")).build();
    assertThat(r.headers()).isEmpty();
    assertThat(r.timeoutMillis()).isZero();
    assertThat(r.maxGrpcTimeoutMillis()).as("max_grpc_timeout unset").isEqualTo(-1);
    assertThat(r.requestHeaders()).isSameAs(HeaderMutation.NONE);
    assertThat(r.responseHeaders()).isSameAs(HeaderMutation.NONE);
    assertThat(r.retry()).isNull();
    assertThat(r.perFilterConfig()).isEmpty();
    assertThat(r.mirrors()).isEmpty();
    assertThat(r.hashPolicies()).isEmpty();
  }

  @Test
  void toBuilderKeepsEveryFieldAndOuterHeadersComeAfterTheRoutes() throws Exception {
    PathMatch root = new PathMatch(PathMatch.Kind.PREFIX, "/", true);
    HeaderMutation own =
        new HeaderMutation(List.of(new HeaderMutation.Op(HeaderMutation.Kind.REMOVE, "a", null)));
    HeaderMutation outer =
        new HeaderMutation(List.of(new HeaderMutation.Op(HeaderMutation.Kind.REMOVE, "b", null)));
    Route r =
        Route.builder("r", root, new RouteAction.ToCluster("c"))
            .timeoutMillis(5000)
            .maxGrpcTimeoutMillis(3000)
            .prefixRewrite("/v2/")
            .hostRewrite("h")
            .requestHeaders(own)
            .perFilterConfig(Map.of("f", "config"))
            .mirrors(new RouteMirror[] {new RouteMirror("m", RouteMirror.ALL, true)})
            .hashPolicies(new HashPolicy[] {new HashPolicy.SourceIp(false)})
            .build();
    Route copy = r.toBuilder().build();
    assertThat(copy).usingRecursiveComparison().isEqualTo(r);
    Route merged = r.withOuterHeaders(outer, HeaderMutation.NONE, null);
    assertThat(merged.requestHeaders()).usingRecursiveComparison().isEqualTo(own.then(outer));
    assertThat(merged.timeoutMillis()).isEqualTo(5000);
    assertThat(merged.maxGrpcTimeoutMillis()).isEqualTo(3000);
    assertThat(merged.perFilterConfig("f")).isEqualTo("config");
    assertThat(merged.mirrors()).hasSize(1);
    assertThat(merged.hashPolicies()).hasSize(1);
  }
}
