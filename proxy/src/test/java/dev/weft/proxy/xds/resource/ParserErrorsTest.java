package dev.weft.proxy.xds.resource;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Any;
import dev.weft.proxy.config.InvalidResourceException;
import dev.weft.proxy.http.filter.HttpFilterRegistry;
import dev.weft.proxy.stats.ProxyStats;
import dev.weft.proxy.testing.Xds;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.Rds;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import org.junit.jupiter.api.Test;

/**
 * Each parser's {@code parse} returns a value or an {@link InvalidResourceException} naming the
 * resource and the field; nothing else escapes to become an anonymous NACK.
 */
class ParserErrorsTest {
  final ParseContext ctx = ParseContext.builder(new ProxyStats()).build();

  @Test
  void tcpProxyWeightsThatOverflowAreAnErrorNamingTheField() {
    TcpProxy t =
        TcpProxy.newBuilder()
            .setStatPrefix("tcp")
            .setWeightedClusters(
                TcpProxy.WeightedCluster.newBuilder()
                    .addClusters(
                        TcpProxy.WeightedCluster.ClusterWeight.newBuilder()
                            .setName("a")
                            .setWeight(Integer.MAX_VALUE))
                    .addClusters(
                        TcpProxy.WeightedCluster.ClusterWeight.newBuilder()
                            .setName("b")
                            .setWeight(Integer.MAX_VALUE)))
            .build();
    Listener l =
        Xds.rdsListener(15001, "r").toBuilder()
            .clearFilterChains()
            .addFilterChains(
                FilterChain.newBuilder()
                    .addFilters(
                        Filter.newBuilder()
                            .setName("envoy.filters.network.tcp_proxy")
                            .setTypedConfig(Any.pack(t))))
            .build();
    assertThatThrownBy(() -> ListenerParser.parse(l, ctx))
        .isInstanceOf(InvalidResourceException.class)
        .hasMessageStartingWith("listener 127.0.0.1_15001: ")
        .hasMessageContaining(
            "envoy.filters.network.tcp_proxy: weighted_clusters: the weights sum");
  }

  @Test
  void anUnexpectedFailureIsAnErrorNamingTheResource() {
    String type = "type.googleapis.com/test.Broken";
    ParseContext broken =
        ParseContext.builder(new ProxyStats())
            .httpFilters(
                HttpFilterRegistry.builder()
                    .add(
                        type,
                        "test.broken",
                        typed -> {
                          throw new IllegalStateException("a bug in a filter factory");
                        })
                    .build())
            .build();
    HttpConnectionManager h =
        HttpConnectionManager.newBuilder()
            .addHttpFilters(
                HttpFilter.newBuilder()
                    .setName("broken")
                    .setTypedConfig(Any.newBuilder().setTypeUrl(type)))
            .addAllHttpFilters(Xds.hcm().getHttpFiltersList())
            .setRds(Rds.newBuilder().setRouteConfigName("r"))
            .build();
    assertThatThrownBy(() -> ListenerParser.parse(Xds.listener("l", 1, h), broken))
        .isInstanceOf(InvalidResourceException.class)
        .hasMessageStartingWith("listener l: cannot be parsed: ")
        .hasMessageContaining("a bug in a filter factory");
  }
}
