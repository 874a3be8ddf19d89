package dev.weft.proxy.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Any;
import dev.weft.proxy.http.filter.HttpConnectionManagerConfig;
import dev.weft.proxy.router.Router;
import dev.weft.proxy.stats.ProxyStats;
import dev.weft.proxy.testing.Xds;
import dev.weft.proxy.xds.resource.ConfigCompiler;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.route.v3.HeaderMatcher;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.type.matcher.v3.RegexMatcher;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ConfigCompilerTest {
  final ConfigCompiler compiler = new ConfigCompiler(new ProxyStats());

  @Test
  void compilesRdsAndInlineListeners() throws Exception {
    ListenerConfig rds = compiler.listener(Xds.rdsListener(15001, "http_proxy"));
    assertThat(rds.name()).isEqualTo("127.0.0.1_15001");
    assertThat(rds.address()).isEqualTo(new InetSocketAddress("127.0.0.1", 15001));
    assertThat(hcm(rds).rdsName()).isEqualTo("http_proxy");

    RouteConfiguration inline =
        Xds.routes(
            "inbound|9898||",
            Xds.vhost("inbound|http|9898", List.of("*"), Xds.prefixRoute("/", "inbound|9898||")));
    ListenerConfig in =
        compiler.listener(
            Xds.listener("127.0.1.2_9898", 9898, Xds.hcm().setRouteConfig(inline).build()));
    assertThat(hcm(in).rdsName()).isNull();
    assertThat(hcm(in).inlineRoutes().virtualHost("anything").name())
        .isEqualTo("inbound|http|9898");
  }

  @Test
  void connectionManagersGetDownstreamLimitsWithDefaults() throws Exception {
    ListenerConfig plain = compiler.listener(Xds.rdsListener(15001, "http_proxy"));
    assertThat(hcm(plain).limits()).isEqualTo(DownstreamLimits.DEFAULTS);
    assertThat(DownstreamLimits.DEFAULTS)
        .isEqualTo(new DownstreamLimits(10_000, 3_600_000, 300_000, 60, 100));
    assertThat(plain.filterChains().get(0).connectionLimit()).isNull();

    HttpConnectionManager configured =
        Xds.hcm()
            .setRds(
                io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.Rds
                    .newBuilder()
                    .setConfigSource(Xds.ADS)
                    .setRouteConfigName("r"))
            .setRequestHeadersTimeout(
                com.google.protobuf.Duration.newBuilder().setNanos(250_000_000))
            .setStreamIdleTimeout(com.google.protobuf.Duration.newBuilder().setSeconds(0))
            .setMaxRequestHeadersKb(com.google.protobuf.UInt32Value.of(8))
            .setCommonHttpProtocolOptions(
                io.envoyproxy.envoy.config.core.v3.HttpProtocolOptions.newBuilder()
                    .setIdleTimeout(com.google.protobuf.Duration.newBuilder().setSeconds(30))
                    .setMaxHeadersCount(com.google.protobuf.UInt32Value.of(20)))
            .build();
    ListenerConfig l = compiler.listener(Xds.limitedListener("l", 1, configured, "cl", 7));
    assertThat(hcm(l).limits()).isEqualTo(new DownstreamLimits(250, 30_000, 0, 8, 20));
    ConnectionLimitConfig limit = l.filterChains().get(0).connectionLimit();
    assertThat(limit.statPrefix()).isEqualTo("cl");
    assertThat(limit.maxConnections()).isEqualTo(7);
    assertThat(limit.delayMillis()).isZero();
  }

  @Test
  void badDownstreamLimitsAreRejected() {
    assertThatThrownBy(
            () ->
                compiler.listener(
                    Xds.listener(
                        "l",
                        1,
                        Xds.hcm()
                            .setRouteConfig(Xds.routes("r"))
                            .setMaxRequestHeadersKb(com.google.protobuf.UInt32Value.of(9000))
                            .build())))
        .hasMessageContaining("max_request_headers_kb must be between 1 and 8192");
    assertThatThrownBy(
            () ->
                compiler.listener(
                    Xds.listener(
                        "l",
                        1,
                        Xds.hcm()
                            .setRouteConfig(Xds.routes("r"))
                            .setRequestHeadersTimeout(
                                com.google.protobuf.Duration.newBuilder().setSeconds(-1))
                            .build())))
        .hasMessageContaining("request_headers_timeout must not be negative");
    assertThatThrownBy(
            () ->
                compiler.listener(
                    Xds.limitedListener(
                        "l", 1, Xds.hcm().setRouteConfig(Xds.routes("r")).build(), "cl", 0)))
        .hasMessageContaining("max_connections must be at least 1");
  }

  static HttpConnectionManagerConfig hcm(ListenerConfig l) {
    assertThat(l.filterChains()).hasSize(1);
    assertThat(l.filterChains().get(0).match()).isEqualTo(FilterChainMatch.ANY);
    return (HttpConnectionManagerConfig) l.filterChains().get(0).networkFilter();
  }

  @Test
  void compilesHttpFiltersThroughTheRegistry() throws Exception {
    String gateType = "type.googleapis.com/test.Gate";
    List<Any> configs = new java.util.ArrayList<>();
    dev.weft.proxy.http.filter.HttpFilterFactory gate = callbacks -> null;
    ConfigCompiler withGate =
        new ConfigCompiler(
            new ProxyStats(),
            dev.weft.proxy.http.filter.HttpFilterRegistry.builder()
                .add(
                    gateType,
                    "test.gate",
                    typed -> {
                      configs.add(typed);
                      return gate;
                    })
                .build());
    HttpConnectionManager h =
        HttpConnectionManager.newBuilder()
            .addHttpFilters(
                HttpFilter.newBuilder()
                    .setName("istio.metadata_exchange")
                    .setIsOptional(true)
                    .setTypedConfig(Any.newBuilder().setTypeUrl("type.googleapis.com/x.Unknown")))
            .addHttpFilters(
                HttpFilter.newBuilder()
                    .setName("gate")
                    .setTypedConfig(Any.newBuilder().setTypeUrl(gateType)))
            .addAllHttpFilters(Xds.hcm().getHttpFiltersList())
            .setRds(
                io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.Rds
                    .newBuilder()
                    .setRouteConfigName("r"))
            .build();
    var chain = hcm(withGate.listener(Xds.listener("l", 1, h))).httpFilters();
    assertThat(chain.size()).as("the optional unknown filter is skipped").isEqualTo(1);
    assertThat(chain.filter(0)).isSameAs(gate);
    assertThat(chain.terminal()).isSameAs(dev.weft.proxy.router.RouterFilterFactory.INSTANCE);
    assertThat(configs).extracting(Any::getTypeUrl).containsExactly(gateType);

    // The default registry does not know it: NACK.
    assertThatThrownBy(() -> compiler.listener(Xds.listener("l", 1, h)))
        .hasMessage("listener l: unsupported http filter 'gate'");
  }

  @Test
  void rejectsWhatItDoesNotSupport() {
    HttpConnectionManager h2 =
        Xds.hcm()
            .setCodecType(HttpConnectionManager.CodecType.HTTP3)
            .setRds(
                io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.Rds
                    .newBuilder()
                    .setRouteConfigName("r"))
            .build();
    assertThatThrownBy(() -> compiler.listener(Xds.listener("l", 1, h2)))
        .hasMessage("listener l: codec_type HTTP3 is not supported (HTTP/3)");

    HttpConnectionManager unknownFilter =
        HttpConnectionManager.newBuilder()
            .addHttpFilters(
                HttpFilter.newBuilder()
                    .setName("envoy.filters.http.lua")
                    .setTypedConfig(Any.getDefaultInstance()))
            .addAllHttpFilters(Xds.hcm().getHttpFiltersList())
            .setRds(
                io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.Rds
                    .newBuilder()
                    .setRouteConfigName("r"))
            .build();
    assertThatThrownBy(() -> compiler.listener(Xds.listener("l", 1, unknownFilter)))
        .hasMessageContaining("unsupported http filter 'envoy.filters.http.lua'");

    HttpConnectionManager noRouter =
        HttpConnectionManager.newBuilder()
            .setRds(
                io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.Rds
                    .newBuilder()
                    .setRouteConfigName("r"))
            .build();
    assertThatThrownBy(() -> compiler.listener(Xds.listener("l", 1, noRouter)))
        .hasMessageContaining("http_filters must end with envoy.filters.http.router");

    Cluster originalDst =
        Xds.edsCluster("c").toBuilder()
            .clearEdsClusterConfig()
            .setType(Cluster.DiscoveryType.ORIGINAL_DST)
            .build();
    assertThatThrownBy(() -> compiler.cluster(originalDst, null))
        .hasMessageContaining(
            "cluster c: an ORIGINAL_DST cluster needs lb_policy CLUSTER_PROVIDED");

    assertThatThrownBy(
            () ->
                compiler.routes(
                    Xds.routes(
                        "r", Xds.vhost("v", List.of("*"), Xds.weightedRoute("/", "a", 0, "b", 0)))))
        .hasMessageContaining("total weight is 0");
  }

  @Test
  void headerMatchersFollowEnvoy() throws Exception {
    RouteConfiguration rc =
        Xds.routes(
            "r",
            Xds.vhost(
                "v",
                List.of("*"),
                io.envoyproxy.envoy.config.route.v3.Route.newBuilder()
                    .setName("no-debug-get")
                    .setMatch(
                        RouteMatch.newBuilder()
                            .setPrefix("/")
                            .addHeaders(
                                HeaderMatcher.newBuilder()
                                    .setName("x-debug")
                                    .setPresentMatch(true)
                                    .setInvertMatch(true))
                            .addHeaders(
                                HeaderMatcher.newBuilder()
                                    .setName(":method")
                                    .setStringMatch(StringMatcher.newBuilder().setExact("GET")))
                            .addHeaders(
                                HeaderMatcher.newBuilder()
                                    .setName("user")
                                    .setInvertMatch(true)
                                    .setStringMatch(
                                        StringMatcher.newBuilder()
                                            .setSafeRegex(
                                                RegexMatcher.newBuilder().setRegex("adm.*")))))
                    .setRoute(RouteAction.newBuilder().setCluster("a"))
                    .build(),
                Xds.prefixRoute("/", "b")));
    VirtualHost vh = compiler.routes(rc).virtualHost("x");
    HttpHeaders h = new DefaultHttpHeaders();
    assertThat(Router.match(vh, "/p", "GET", "x", h).name()).isEqualTo("no-debug-get");
    assertThat(Router.match(vh, "/p", "POST", "x", h).name()).isEmpty();
    h.set("User", "jason");
    assertThat(Router.match(vh, "/p", "GET", "x", h).name()).isEqualTo("no-debug-get");
    h.set("user", "admin");
    assertThat(Router.match(vh, "/p", "GET", "x", h).name()).isEmpty();
    h.remove("user");
    h.set("x-debug", "1");
    assertThat(Router.match(vh, "/p", "GET", "x", h).name()).isEmpty();
  }

  @Test
  void weightedPickFollowsWeights() throws Exception {
    RouteConfiguration rc =
        Xds.routes("r", Xds.vhost("v", List.of("*"), Xds.weightedRoute("/", "v1", 90, "v2", 10)));
    Route route = compiler.routes(rc).virtualHost("x").routes()[0];
    Random seeded = new Random(42);
    int v2 = 0;
    for (int i = 0; i < 10_000; i++) {
      if (Router.cluster(route.action(), seeded::nextInt).equals("v2")) {
        v2++;
      }
    }
    assertThat(v2).isBetween(900, 1100);
    var weighted = (dev.weft.proxy.config.RouteAction.Weighted) route.action();
    assertThat(weighted.pick(0)).isEqualTo("v1");
    assertThat(weighted.pick(89)).isEqualTo("v1");
    assertThat(weighted.pick(90)).isEqualTo("v2");
    assertThat(weighted.pick(99)).isEqualTo("v2");
  }

  @Test
  void pathMatchers() throws Exception {
    PathMatch exact = new PathMatch(PathMatch.Kind.PATH, "/api", true);
    assertThat(exact.matches("/api", 4)).isTrue();
    assertThat(exact.matches("/api?x=1", 4)).isTrue();
    assertThat(exact.matches("/api/", 5)).isFalse();
    PathMatch ci = new PathMatch(PathMatch.Kind.PREFIX, "/API", false);
    assertThat(ci.matches("/api/x", 6)).isTrue();
    PathMatch re = new PathMatch(PathMatch.Kind.REGEX, "/v[0-9]+", true);
    assertThat(re.matches("/v12?a", 4)).isTrue();
    assertThat(re.matches("/v12/x", 6)).isFalse();
  }

  @Test
  void regexesAreRe2FullMatchesEverywhere() throws Exception {
    RegexMatcher digits = RegexMatcher.newBuilder().setRegex("[0-9]+").build();
    RouteConfiguration rc =
        Xds.routes(
            "r",
            Xds.vhost(
                "v",
                List.of("*"),
                io.envoyproxy.envoy.config.route.v3.Route.newBuilder()
                    .setName("all")
                    .setMatch(
                        RouteMatch.newBuilder()
                            .setSafeRegex(RegexMatcher.newBuilder().setRegex("/v[0-9]+"))
                            .addHeaders(
                                HeaderMatcher.newBuilder()
                                    .setName("x-id")
                                    .setStringMatch(
                                        StringMatcher.newBuilder().setSafeRegex(digits)))
                            .addHeaders(
                                HeaderMatcher.newBuilder()
                                    .setName(":authority")
                                    .setSafeRegexMatch(
                                        RegexMatcher.newBuilder().setRegex("api\\.example\\.com")))
                            .addQueryParameters(
                                io.envoyproxy.envoy.config.route.v3.QueryParameterMatcher
                                    .newBuilder()
                                    .setName("page")
                                    .setStringMatch(
                                        StringMatcher.newBuilder().setSafeRegex(digits))))
                    .setRoute(RouteAction.newBuilder().setCluster("a"))
                    .build(),
                Xds.prefixRoute("/", "b")));
    VirtualHost vh = compiler.routes(rc).virtualHost("x");
    HttpHeaders h = new DefaultHttpHeaders().set("x-id", "42");
    String host = "api.example.com";
    assertThat(Router.match(vh, "/v1?page=3", "GET", host, h).name()).isEqualTo("all");
    // Each regex must match its whole value, not a part of it.
    assertThat(Router.match(vh, "/v1/x?page=3", "GET", host, h).name()).isEmpty();
    assertThat(Router.match(vh, "/v1?page=3a", "GET", host, h).name()).isEmpty();
    assertThat(Router.match(vh, "/v1?page=3", "GET", "api.example.com.evil", h).name()).isEmpty();
    assertThat(Router.match(vh, "/v1?page=3", "GET", "apixexample.com", h).name()).isEmpty();
    h.set("x-id", "42 ");
    assertThat(Router.match(vh, "/v1?page=3", "GET", host, h).name()).isEmpty();
  }

  @Test
  void regexesRe2CannotExpressAreRejectedWithWhereTheyAre() {
    RouteMatch lookahead =
        RouteMatch.newBuilder()
            .setSafeRegex(RegexMatcher.newBuilder().setRegex("/(?=admin)[a-z]+"))
            .build();
    assertThatThrownBy(() -> compiler.routes(routeWith(lookahead)))
        .isInstanceOf(InvalidResourceException.class)
        .hasMessageStartingWith("route r: virtual host v: route 0: match.safe_regex: ")
        .hasMessageContaining("invalid regex '/(?=admin)[a-z]+'")
        .hasMessageContaining("invalid or unsupported Perl syntax");
    RouteMatch backref =
        RouteMatch.newBuilder()
            .setPrefix("/")
            .addHeaders(
                HeaderMatcher.newBuilder()
                    .setName("x-a")
                    .setStringMatch(
                        StringMatcher.newBuilder()
                            .setSafeRegex(RegexMatcher.newBuilder().setRegex("(a)\\1"))))
            .build();
    assertThatThrownBy(() -> compiler.routes(routeWith(backref)))
        .hasMessageStartingWith("route r: virtual host v: route 0: header x-a: ")
        .hasMessageContaining("invalid escape sequence: `\\1`");
    RouteMatch possessive =
        RouteMatch.newBuilder()
            .setPrefix("/")
            .addQueryParameters(
                io.envoyproxy.envoy.config.route.v3.QueryParameterMatcher.newBuilder()
                    .setName("q")
                    .setStringMatch(
                        StringMatcher.newBuilder()
                            .setSafeRegex(RegexMatcher.newBuilder().setRegex("a*+"))))
            .build();
    assertThatThrownBy(() -> compiler.routes(routeWith(possessive)))
        .hasMessageStartingWith("route r: virtual host v: route 0: query parameter q: ")
        .hasMessageContaining("invalid nested repetition operator");
    RouteMatch ignoreCase =
        RouteMatch.newBuilder()
            .setPrefix("/")
            .addHeaders(
                HeaderMatcher.newBuilder()
                    .setName("x-a")
                    .setStringMatch(
                        StringMatcher.newBuilder()
                            .setIgnoreCase(true)
                            .setSafeRegex(RegexMatcher.newBuilder().setRegex("a"))))
            .build();
    assertThatThrownBy(() -> compiler.routes(routeWith(ignoreCase)))
        .hasMessage(
            "route r: virtual host v: route 0: header x-a: ignore_case has no effect for"
                + " safe_regex.");
    RouteMatch huge =
        RouteMatch.newBuilder()
            .setSafeRegex(RegexMatcher.newBuilder().setRegex("(a{999}){999}"))
            .build();
    assertThatThrownBy(() -> compiler.routes(routeWith(huge)))
        .hasMessageContaining("match.safe_regex: ")
        .hasMessageContaining("> max program size of 32768");
  }

  @Test
  void connectMatcherRoutesMatchConnectOnlyAndMustTerminateIt() throws Exception {
    RouteMatch connect =
        RouteMatch.newBuilder()
            .setConnectMatcher(RouteMatch.ConnectMatcher.getDefaultInstance())
            .build();
    // Without connect_config Envoy forwards the CONNECT upstream, which Weft does not do.
    assertThatThrownBy(() -> compiler.routes(routeWith(connect)))
        .isInstanceOf(InvalidResourceException.class)
        .hasMessageStartingWith("route r: virtual host v: route 0: connect_matcher: ");
    RouteConfiguration rc =
        Xds.routes(
            "r",
            Xds.vhost(
                "v",
                List.of("*"),
                io.envoyproxy.envoy.config.route.v3.Route.newBuilder()
                    .setName("tunnel")
                    .setMatch(connect)
                    .setRoute(
                        RouteAction.newBuilder()
                            .setCluster("a")
                            .addUpgradeConfigs(
                                RouteAction.UpgradeConfig.newBuilder()
                                    .setUpgradeType("CONNECT")
                                    .setConnectConfig(
                                        RouteAction.UpgradeConfig.ConnectConfig
                                            .getDefaultInstance())))
                    .build(),
                io.envoyproxy.envoy.config.route.v3.Route.newBuilder()
                    .setName("http")
                    .setMatch(RouteMatch.newBuilder().setPrefix(""))
                    .setRoute(RouteAction.newBuilder().setCluster("a"))
                    .build()));
    VirtualHost vh = compiler.routes(rc).virtualHost("redis.demo:6379");
    HttpHeaders h = new DefaultHttpHeaders();
    assertThat(Router.match(vh, "", "CONNECT", "redis.demo:6379", h).name()).isEqualTo("tunnel");
    assertThat(Router.match(vh, "/", "GET", "redis.demo:6379", h).name()).isEqualTo("http");
  }

  static RouteConfiguration routeWith(RouteMatch match) {
    return Xds.routes(
        "r",
        Xds.vhost(
            "v",
            List.of("*"),
            io.envoyproxy.envoy.config.route.v3.Route.newBuilder()
                .setMatch(match)
                .setRoute(RouteAction.newBuilder().setCluster("a"))
                .build()));
  }

  @Test
  void queryParameterMatchers() throws Exception {
    RouteConfiguration rc =
        Xds.routes(
            "r",
            Xds.vhost(
                "v",
                List.of("*"),
                io.envoyproxy.envoy.config.route.v3.Route.newBuilder()
                    .setName("debug")
                    .setMatch(
                        RouteMatch.newBuilder()
                            .setPrefix("/")
                            .addQueryParameters(
                                io.envoyproxy.envoy.config.route.v3.QueryParameterMatcher
                                    .newBuilder()
                                    .setName("debug")
                                    .setStringMatch(StringMatcher.newBuilder().setExact("true"))))
                    .setRoute(RouteAction.newBuilder().setCluster("a"))
                    .build(),
                io.envoyproxy.envoy.config.route.v3.Route.newBuilder()
                    .setName("q")
                    .setMatch(
                        RouteMatch.newBuilder()
                            .setPrefix("/")
                            .addQueryParameters(
                                io.envoyproxy.envoy.config.route.v3.QueryParameterMatcher
                                    .newBuilder()
                                    .setName("q")
                                    .setPresentMatch(true)))
                    .setRoute(RouteAction.newBuilder().setCluster("b"))
                    .build(),
                Xds.prefixRoute("/", "c")));
    VirtualHost vh = compiler.routes(rc).virtualHost("x");
    HttpHeaders h = new DefaultHttpHeaders();
    assertThat(Router.match(vh, "/p?debug=true", "GET", "x", h).name()).isEqualTo("debug");
    assertThat(Router.match(vh, "/p?x=1&debug=true", "GET", "x", h).name()).isEqualTo("debug");
    assertThat(Router.match(vh, "/p?debug=false", "GET", "x", h).name()).isEmpty();
    assertThat(Router.match(vh, "/p?debugx=true", "GET", "x", h).name()).isEmpty();
    assertThat(Router.match(vh, "/p", "GET", "x", h).name()).isEmpty();
    assertThat(Router.match(vh, "/p?q", "GET", "x", h).name()).isEqualTo("q");
    assertThat(Router.match(vh, "/p?a=1&q=", "GET", "x", h).name()).isEqualTo("q");
    assertThat(Router.match(vh, "/p?qq=1", "GET", "x", h).name()).isEmpty();
    // a header named like the parameter does not count
    h.set("debug", "true");
    assertThat(Router.match(vh, "/p", "GET", "x", h).name()).isEmpty();
  }
}
