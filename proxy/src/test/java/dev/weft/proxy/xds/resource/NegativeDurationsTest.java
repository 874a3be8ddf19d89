package dev.weft.proxy.xds.resource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Duration;
import dev.weft.proxy.config.InvalidResourceException;
import dev.weft.proxy.stats.ProxyStats;
import dev.weft.proxy.testing.Xds;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * Envoy rejects a negative Duration (its PGV rules {@code duration: {gte: {}}}, {@code gt: {}} for
 * a cluster's {@code connect_timeout}, and its check of every Duration in a resource): such a
 * resource is NACKed with an error naming the resource and the field, never read as "no timeout" or
 * as a timeout that fires at once.
 */
class NegativeDurationsTest {
  final ParseContext ctx = ParseContext.builder(new ProxyStats()).build();

  static final Duration MINUS_ONE_SECOND = Duration.newBuilder().setSeconds(-1).build();
  static final Duration MINUS_HALF_SECOND = Duration.newBuilder().setNanos(-500_000_000).build();

  private static RouteConfiguration routes(UnaryOperator<Route.Builder> change) {
    Route r = change.apply(Xds.prefixRoute("/", "c").toBuilder()).build();
    return Xds.routes("r", Xds.vhost("vh", List.of("*"), r));
  }

  @Test
  void aNegativeRouteTimeoutIsNackedNamingTheRouteAndField() {
    for (Duration d : List.of(MINUS_ONE_SECOND, MINUS_HALF_SECOND)) {
      RouteConfiguration rc = routes(b -> b.setRoute(b.getRoute().toBuilder().setTimeout(d)));
      assertThatThrownBy(() -> RouteConfigurationParser.parse(rc, ctx))
          .isInstanceOf(InvalidResourceException.class)
          .hasMessageStartingWith("route r: virtual host vh: route 0: ")
          .hasMessageContaining("route.timeout must not be negative");
    }
  }

  @Test
  void aNegativeIdleTimeoutIsNacked() {
    RouteConfiguration rc =
        routes(b -> b.setRoute(b.getRoute().toBuilder().setIdleTimeout(MINUS_ONE_SECOND)));
    assertThatThrownBy(() -> RouteConfigurationParser.parse(rc, ctx))
        .isInstanceOf(InvalidResourceException.class)
        .hasMessageStartingWith("route r: virtual host vh: route 0: ")
        .hasMessageContaining("route.idle_timeout must not be negative");
  }

  @Test
  void aNegativePerTryTimeoutIsNackedOnARouteAndOnAVirtualHost() {
    var retry =
        io.envoyproxy.envoy.config.route.v3.RetryPolicy.newBuilder()
            .setRetryOn("5xx")
            .setPerTryTimeout(MINUS_HALF_SECOND)
            .build();
    RouteConfiguration onRoute =
        routes(b -> b.setRoute(b.getRoute().toBuilder().setRetryPolicy(retry)));
    assertThatThrownBy(() -> RouteConfigurationParser.parse(onRoute, ctx))
        .isInstanceOf(InvalidResourceException.class)
        .hasMessageStartingWith("route r: virtual host vh: route 0: ")
        .hasMessageContaining("retry_policy.per_try_timeout must not be negative");
    VirtualHost vh =
        Xds.vhost("vh", List.of("*"), Xds.prefixRoute("/", "c")).toBuilder()
            .setRetryPolicy(retry)
            .build();
    assertThatThrownBy(() -> RouteConfigurationParser.parse(Xds.routes("r", vh), ctx))
        .isInstanceOf(InvalidResourceException.class)
        .hasMessageStartingWith("route r: virtual host vh: ")
        .hasMessageContaining("retry_policy.per_try_timeout must not be negative");
  }

  @Test
  void zeroAndPositiveDurationsStillParse() throws Exception {
    Duration zero = Duration.getDefaultInstance();
    var retry =
        io.envoyproxy.envoy.config.route.v3.RetryPolicy.newBuilder()
            .setRetryOn("5xx")
            .setPerTryTimeout(Duration.newBuilder().setNanos(250_000_000))
            .build();
    RouteConfiguration rc =
        routes(
            b ->
                b.setRoute(
                    b.getRoute().toBuilder()
                        .setTimeout(zero)
                        .setIdleTimeout(Duration.newBuilder().setSeconds(30))
                        .setRetryPolicy(retry)));
    assertThat(RouteConfigurationParser.parse(rc, ctx)).isNotNull();
  }

  @Test
  void aNegativeOrZeroConnectTimeoutIsNackedNamingTheClusterAndField() {
    for (Duration d : List.of(MINUS_ONE_SECOND, MINUS_HALF_SECOND)) {
      Cluster c = Xds.edsCluster("outbound|80||a.demo").toBuilder().setConnectTimeout(d).build();
      assertThatThrownBy(() -> ClusterParser.parse(c, null, ctx))
          .isInstanceOf(InvalidResourceException.class)
          .hasMessageStartingWith("cluster outbound|80||a.demo: ")
          .hasMessageContaining("connect_timeout must not be negative");
    }
    Cluster zero =
        Xds.edsCluster("outbound|80||a.demo").toBuilder()
            .setConnectTimeout(Duration.getDefaultInstance())
            .build();
    assertThatThrownBy(() -> ClusterParser.parse(zero, null, ctx))
        .isInstanceOf(InvalidResourceException.class)
        .hasMessageContaining("cluster outbound|80||a.demo: connect_timeout must be positive");
  }
}
