package dev.weft.proxy.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Duration;
import com.google.protobuf.UInt32Value;
import dev.weft.proxy.stats.ProxyStats;
import dev.weft.proxy.testing.Xds;
import dev.weft.proxy.xds.resource.ConfigCompiler;
import io.envoyproxy.envoy.config.route.v3.RetryPolicy.RetryBackOff;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.type.matcher.v3.RegexMatchAndSubstitute;
import io.envoyproxy.envoy.type.matcher.v3.RegexMatcher;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Envoy's regex_rewrite and retry_back_off, as the control plane emits them for Istio. */
class RegexRewriteTest {
  @Test
  void substitutesEveryMatchInThePathAndKeepsTheQuery() throws Exception {
    assertThat(RegexRewrite.compile("^/api/(.*)$", "/\\1").apply("/api/x/y?q=1"))
        .isEqualTo("/x/y?q=1");
    // Istio's rewrite.uri on a regex match: the whole path.
    assertThat(RegexRewrite.compile("^/.*$", "/new").apply("/a/b?c")).isEqualTo("/new?c");
    // RE2's GlobalReplace: every non-overlapping match.
    assertThat(RegexRewrite.compile("a", "b").apply("/a/xa?a")).isEqualTo("/b/xb?a");
    // $ is literal, \\ is a backslash.
    assertThat(RegexRewrite.compile("^/p$", "/$1\\\\x").apply("/p")).isEqualTo("/$1\\x");
    // Empty matches, as RE2's GlobalReplace: at every position.
    assertThat(RegexRewrite.compile("x*", "-").apply("/ab")).isEqualTo("-/-a-b-");
    // RE2 syntax (RE2/J, as every safe_regex of the proxy): named groups count.
    assertThat(RegexRewrite.compile("^/(?P<v>v[0-9]+)/(.*)$", "/\\2/\\1").apply("/v2/x"))
        .isEqualTo("/x/v2");
    String unchanged = "/nothing";
    assertThat(RegexRewrite.compile("zzz", "y").apply(unchanged)).isSameAs(unchanged);
  }

  @Test
  void rejectsWhatEnvoyRejects() {
    assertThatThrownBy(() -> RegexRewrite.compile("^/a/(.*)$", "/\\2"))
        .isInstanceOf(InvalidResourceException.class)
        .hasMessageContaining("group \\2");
    assertThatThrownBy(() -> RegexRewrite.compile("^/a$", "/x\\"))
        .isInstanceOf(InvalidResourceException.class);
    assertThatThrownBy(() -> RegexRewrite.compile("^/a$", "/\\q"))
        .isInstanceOf(InvalidResourceException.class);
    assertThatThrownBy(() -> RegexRewrite.compile("(", "/"))
        .isInstanceOf(InvalidResourceException.class);
  }

  private static Route route(RouteAction.Builder action) {
    return Route.newBuilder()
        .setMatch(RouteMatch.newBuilder().setSafeRegex(RegexMatcher.newBuilder().setRegex("/r/.*")))
        .setRoute(action.setCluster("c"))
        .build();
  }

  private static RegexMatchAndSubstitute rewrite(String regex, String substitution) {
    return RegexMatchAndSubstitute.newBuilder()
        .setPattern(RegexMatcher.newBuilder().setRegex(regex))
        .setSubstitution(substitution)
        .build();
  }

  @Test
  void theCompilerAcceptsRegexRewriteOnRegexRoutesAndRejectsBadOnes() throws Exception {
    ConfigCompiler compiler = new ConfigCompiler(new ProxyStats());
    RouteTable table =
        compiler.routes(
            Xds.routes(
                "r",
                Xds.vhost(
                    "v",
                    List.of("*"),
                    route(RouteAction.newBuilder().setRegexRewrite(rewrite("^/.*$", "/new"))))));
    var compiled = table.virtualHost("x").routes()[0];
    assertThat(compiled.upstreamPath("/r/1?x=2")).isEqualTo("/new?x=2");

    assertThatThrownBy(
            () ->
                compiler.routes(
                    Xds.routes(
                        "r",
                        Xds.vhost(
                            "v",
                            List.of("*"),
                            route(
                                RouteAction.newBuilder()
                                    .setRegexRewrite(rewrite("^/(.*)$", "/\\2")))))))
        .isInstanceOf(InvalidResourceException.class)
        .hasMessageContaining("regex_rewrite");
  }

  @Test
  void retryBackOffBoundsTheJitteredDelay() throws Exception {
    var withBackOff =
        io.envoyproxy.envoy.config.route.v3.RetryPolicy.newBuilder()
            .setRetryOn("connect-failure,retriable-status-codes")
            .addRetriableStatusCodes(503)
            .setNumRetries(UInt32Value.of(3))
            .setRetryBackOff(
                RetryBackOff.newBuilder()
                    .setBaseInterval(Duration.newBuilder().setNanos(50_000_000)))
            .build();
    RetryPolicy p = RetryPolicy.compile("", withBackOff);
    assertThat(p.onStatus(503)).isTrue();
    assertThat(p.onStatus(500)).isFalse();
    assertThat(p.backoffCeilingMillis(1)).isEqualTo(50);
    assertThat(p.backoffCeilingMillis(2)).isEqualTo(100);
    // Envoy's max_interval defaults to 10 times the base.
    assertThat(p.backoffCeilingMillis(10)).isEqualTo(500);
    // retriable-4xx: Envoy retries 409 only.
    RetryPolicy conflicts =
        RetryPolicy.compile(
            "",
            io.envoyproxy.envoy.config.route.v3.RetryPolicy.newBuilder()
                .setRetryOn("retriable-4xx")
                .build());
    assertThat(conflicts.onStatus(409)).isTrue();
    assertThat(conflicts.onStatus(404)).isFalse();
    RetryPolicy defaults =
        RetryPolicy.compile(
            "", io.envoyproxy.envoy.config.route.v3.RetryPolicy.newBuilder().build());
    assertThat(defaults.backoffCeilingMillis(1)).isEqualTo(25);
    assertThat(defaults.backoffCeilingMillis(30)).isEqualTo(250);
    assertThatThrownBy(
            () ->
                RetryPolicy.compile(
                    "",
                    withBackOff.toBuilder()
                        .setRetryBackOff(
                            RetryBackOff.newBuilder()
                                .setBaseInterval(Duration.newBuilder().setSeconds(2))
                                .setMaxInterval(Duration.newBuilder().setSeconds(1)))
                        .build()))
        .isInstanceOf(InvalidResourceException.class);
  }
}
