package dev.weft.controlplane.gen;

import com.google.protobuf.Any;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.AggregatedConfigSource;
import io.envoyproxy.envoy.config.core.v3.ApiVersion;
import io.envoyproxy.envoy.config.core.v3.ConfigSource;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;

/** Small pieces of Envoy configuration that several generators share. */
final class EnvoyConfig {
  /** Envoy's name of the HTTP connection manager network filter. */
  static final String HTTP_CONNECTION_MANAGER = "envoy.filters.network.http_connection_manager";

  /** Envoy's name of the router HTTP filter. */
  static final String ROUTER = "envoy.filters.http.router";

  private EnvoyConfig() {}

  /** {@code ads: {}, resource_api_version: V3}: fetch over the same ADS stream. */
  /**
   * A route timeout of zero: Istio sets {@code timeout: 0s} on every route without a VirtualService
   * timeout, which turns off Envoy's 15 s default (a slow or streaming response is not cut off).
   */
  static final com.google.protobuf.Duration NO_TIMEOUT =
      com.google.protobuf.Duration.getDefaultInstance();

  static ConfigSource ads() {
    return ConfigSource.newBuilder()
        .setAds(AggregatedConfigSource.getDefaultInstance())
        .setResourceApiVersion(ApiVersion.V3)
        .build();
  }

  /** A TCP socket address. */
  static Address address(String ip, int port) {
    return Address.newBuilder()
        .setSocketAddress(SocketAddress.newBuilder().setAddress(ip).setPortValue(port))
        .build();
  }

  /** The router filter, last in every HTTP filter chain. */
  static HttpFilter routerFilter() {
    return HttpFilter.newBuilder()
        .setName(ROUTER)
        .setTypedConfig(Any.pack(Router.getDefaultInstance()))
        .build();
  }
}
