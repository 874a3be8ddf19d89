package dev.weft.proxy.testing;

import com.google.protobuf.Any;
import com.google.protobuf.UInt32Value;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.AggregatedConfigSource;
import io.envoyproxy.envoy.config.core.v3.ConfigSource;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.Endpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.config.route.v3.WeightedCluster;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.filters.network.connection_limit.v3.ConnectionLimit;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.Rds;
import java.net.InetSocketAddress;
import java.net.ServerSocket;

/** Builders for the xDS resources Weft's control plane generates, for tests. */
public final class Xds {
  private Xds() {}

  public static final ConfigSource ADS =
      ConfigSource.newBuilder().setAds(AggregatedConfigSource.getDefaultInstance()).build();

  /**
   * A loopback port free now, for a listener the proxy binds later. Drawn at random below the
   * kernel's ephemeral range (an ephemeral port can be taken by any outgoing connection on the
   * machine between this call and the bind), never the same twice in this JVM.
   */
  public static int freePort() {
    int high = 32767;
    try {
      String range =
          java.nio.file.Files.readAllLines(
                  java.nio.file.Path.of("/proc/sys/net/ipv4/ip_local_port_range"))
              .get(0)
              .trim();
      high = Integer.parseInt(range.split("\\s+")[0]) - 1;
    } catch (java.io.IOException | RuntimeException e) {
      // keep the default
    }
    int low = 21000;
    java.util.concurrent.ThreadLocalRandom random =
        java.util.concurrent.ThreadLocalRandom.current();
    for (int attempt = 0; high - low > 1000 && attempt < 200; attempt++) {
      int port = low + random.nextInt(high - low + 1);
      if (!PICKED.add(port)) {
        continue;
      }
      try (ServerSocket s = new ServerSocket()) {
        s.setReuseAddress(true);
        s.bind(new InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), port));
        return port;
      } catch (java.io.IOException e) {
        // taken: draw another
      }
    }
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static final java.util.Set<Integer> PICKED =
      java.util.concurrent.ConcurrentHashMap.newKeySet();

  public static Address address(String host, int port) {
    return Address.newBuilder()
        .setSocketAddress(SocketAddress.newBuilder().setAddress(host).setPortValue(port))
        .build();
  }

  public static HttpConnectionManager.Builder hcm() {
    return HttpConnectionManager.newBuilder()
        .setStatPrefix("test")
        .addHttpFilters(
            HttpFilter.newBuilder()
                .setName("envoy.filters.http.router")
                .setTypedConfig(Any.pack(Router.getDefaultInstance())));
  }

  public static Listener listener(String name, int port, HttpConnectionManager hcm) {
    return Listener.newBuilder()
        .setName(name)
        .setAddress(address("127.0.0.1", port))
        .addFilterChains(
            FilterChain.newBuilder()
                .addFilters(
                    Filter.newBuilder()
                        .setName("envoy.filters.network.http_connection_manager")
                        .setTypedConfig(Any.pack(hcm))))
        .build();
  }

  /**
   * A listener whose chain has an {@code envoy.filters.network.connection_limit} (at most {@code
   * max} connections, counted under {@code statPrefix}) before its connection manager.
   */
  public static Listener limitedListener(
      String name, int port, HttpConnectionManager hcm, String statPrefix, long max) {
    ConnectionLimit limit =
        ConnectionLimit.newBuilder()
            .setStatPrefix(statPrefix)
            .setMaxConnections(com.google.protobuf.UInt64Value.of(max))
            .build();
    return Listener.newBuilder()
        .setName(name)
        .setAddress(address("127.0.0.1", port))
        .addFilterChains(
            FilterChain.newBuilder()
                .addFilters(
                    Filter.newBuilder()
                        .setName("envoy.filters.network.connection_limit")
                        .setTypedConfig(Any.pack(limit)))
                .addFilters(
                    Filter.newBuilder()
                        .setName("envoy.filters.network.http_connection_manager")
                        .setTypedConfig(Any.pack(hcm))))
        .build();
  }

  /** A listener on 127.0.0.1:port using RDS route configuration {@code rds}. */
  public static Listener rdsListener(int port, String rds) {
    return listener(
        "127.0.0.1_" + port,
        port,
        hcm().setRds(Rds.newBuilder().setConfigSource(ADS).setRouteConfigName(rds)).build());
  }

  public static RouteConfiguration routes(String name, VirtualHost... vhosts) {
    RouteConfiguration.Builder b = RouteConfiguration.newBuilder().setName(name);
    for (VirtualHost v : vhosts) {
      b.addVirtualHosts(v);
    }
    return b.build();
  }

  public static VirtualHost vhost(String name, java.util.List<String> domains, Route... routes) {
    VirtualHost.Builder b = VirtualHost.newBuilder().setName(name).addAllDomains(domains);
    for (Route r : routes) {
      b.addRoutes(r);
    }
    return b.build();
  }

  public static Route prefixRoute(String prefix, String cluster) {
    return Route.newBuilder()
        .setMatch(RouteMatch.newBuilder().setPrefix(prefix))
        .setRoute(RouteAction.newBuilder().setCluster(cluster))
        .build();
  }

  public static Route weightedRoute(String prefix, String c1, int w1, String c2, int w2) {
    return Route.newBuilder()
        .setMatch(RouteMatch.newBuilder().setPrefix(prefix))
        .setRoute(
            RouteAction.newBuilder()
                .setWeightedClusters(
                    WeightedCluster.newBuilder()
                        .addClusters(
                            WeightedCluster.ClusterWeight.newBuilder()
                                .setName(c1)
                                .setWeight(UInt32Value.of(w1)))
                        .addClusters(
                            WeightedCluster.ClusterWeight.newBuilder()
                                .setName(c2)
                                .setWeight(UInt32Value.of(w2)))))
        .build();
  }

  public static Cluster edsCluster(String name) {
    return Cluster.newBuilder()
        .setName(name)
        .setType(Cluster.DiscoveryType.EDS)
        .setEdsClusterConfig(Cluster.EdsClusterConfig.newBuilder().setEdsConfig(ADS))
        .setConnectTimeout(com.google.protobuf.Duration.newBuilder().setSeconds(1))
        .build();
  }

  public static Cluster staticCluster(String name, InetSocketAddress... endpoints) {
    return Cluster.newBuilder()
        .setName(name)
        .setType(Cluster.DiscoveryType.STATIC)
        .setConnectTimeout(com.google.protobuf.Duration.newBuilder().setSeconds(1))
        .setLoadAssignment(assignment(name, endpoints))
        .build();
  }

  /**
   * {@code c} with Envoy's upstream HTTP/2 ({@code typed_extension_protocol_options
   * envoy.extensions.upstreams.http.v3.HttpProtocolOptions explicit_http_config
   * http2_protocol_options}, as Istio writes it for {@code grpc}/{@code http2} ports).
   */
  public static Cluster http2(Cluster c) {
    var options =
        io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions.newBuilder()
            .setExplicitHttpConfig(
                io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions
                    .ExplicitHttpConfig.newBuilder()
                    .setHttp2ProtocolOptions(
                        io.envoyproxy.envoy.config.core.v3.Http2ProtocolOptions
                            .getDefaultInstance()))
            .build();
    return c.toBuilder()
        .putTypedExtensionProtocolOptions(
            "envoy.extensions.upstreams.http.v3.HttpProtocolOptions", Any.pack(options))
        .build();
  }

  public static ClusterLoadAssignment assignment(String name, InetSocketAddress... endpoints) {
    LocalityLbEndpoints.Builder l = LocalityLbEndpoints.newBuilder();
    for (InetSocketAddress a : endpoints) {
      l.addLbEndpoints(
          LbEndpoint.newBuilder()
              .setEndpoint(
                  Endpoint.newBuilder().setAddress(address(a.getHostString(), a.getPort()))));
    }
    return ClusterLoadAssignment.newBuilder().setClusterName(name).addEndpoints(l).build();
  }
}
