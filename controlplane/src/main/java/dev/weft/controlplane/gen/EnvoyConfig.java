package dev.weft.controlplane.gen;

import com.google.protobuf.Any;
import com.google.protobuf.Duration;
import com.google.protobuf.UInt32Value;
import dev.weft.xds.IstioMtls;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.AggregatedConfigSource;
import io.envoyproxy.envoy.config.core.v3.ApiVersion;
import io.envoyproxy.envoy.config.core.v3.ConfigSource;
import io.envoyproxy.envoy.config.core.v3.HttpProtocolOptions;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import java.util.List;

/** Small pieces of Envoy configuration that several generators share. */
final class EnvoyConfig {
  /** Envoy's name of the HTTP connection manager network filter. */
  static final String HTTP_CONNECTION_MANAGER = "envoy.filters.network.http_connection_manager";

  /** The TCP proxy network filter, for TCP ports. */
  static final String TCP_PROXY = "envoy.filters.network.tcp_proxy";

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

  /**
   * The downstream protections of every HTTP connection manager Weft generates, written out so that
   * config dumps show them and the proxy's behaviour follows xDS. Envoy's defaults, except {@code
   * request_headers_timeout}, which Envoy (and Istio) leave off: Weft closes a connection whose
   * request head has not fully arrived 10 s after its first byte (slowloris).
   *
   * <ul>
   *   <li>{@code request_headers_timeout: 10s} (408, then close)
   *   <li>{@code common_http_protocol_options.idle_timeout: 3600s} (no request in progress: close)
   *   <li>{@code common_http_protocol_options.max_headers_count: 100} (more: 431)
   *   <li>{@code max_request_headers_kb: 60} (more: 431)
   *   <li>{@code stream_idle_timeout: 300s} (no activity on a request: 408/504)
   * </ul>
   */
  static HttpConnectionManager.Builder downstreamProtections(HttpConnectionManager.Builder hcm) {
    return hcm.setRequestHeadersTimeout(Duration.newBuilder().setSeconds(10))
        .setCommonHttpProtocolOptions(
            HttpProtocolOptions.newBuilder()
                .setIdleTimeout(Duration.newBuilder().setSeconds(3600))
                .setMaxHeadersCount(UInt32Value.of(100)))
        .setMaxRequestHeadersKb(UInt32Value.of(60))
        .setStreamIdleTimeout(Duration.newBuilder().setSeconds(300));
  }

  /** The router filter, last in every HTTP filter chain. */
  static HttpFilter routerFilter() {
    return HttpFilter.newBuilder()
        .setName(ROUTER)
        .setTypedConfig(Any.pack(Router.getDefaultInstance()))
        .build();
  }

  /**
   * Istio's {@code istio.alpn} filter ({@code alpn.v2alpha1.FilterConfig}, Istio's {@code
   * xdsfilters.Alpn}): an mTLS upstream connection offers {@code istio-http/1.0}, {@code
   * istio-http/1.1} or {@code istio-h2} (then {@code istio}) by its HTTP protocol, which the peer's
   * sniffed inbound listener matches to pick its HTTP chain. The config goes as a {@code
   * TypedStruct} (its proto JSON), as {@code istio.stats}' does: the project has no generated class
   * for Istio's proto, and config dumps print a TypedStruct.
   */
  static HttpFilter alpnFilter() {
    com.google.protobuf.ListValue.Builder overrides = com.google.protobuf.ListValue.newBuilder();
    List<List<String>> lists =
        List.of(IstioMtls.ALPN_MTLS_HTTP10, IstioMtls.ALPN_MTLS_HTTP11, IstioMtls.ALPN_MTLS_HTTP2);
    List<String> protocols = List.of("HTTP10", "HTTP11", "HTTP2");
    for (int p = 0; p < lists.size(); p++) {
      com.google.protobuf.ListValue.Builder alpn = com.google.protobuf.ListValue.newBuilder();
      for (String a : lists.get(p)) {
        alpn.addValues(com.google.protobuf.Value.newBuilder().setStringValue(a));
      }
      overrides.addValues(
          com.google.protobuf.Value.newBuilder()
              .setStructValue(
                  com.google.protobuf.Struct.newBuilder()
                      .putFields(
                          "upstream_protocol",
                          com.google.protobuf.Value.newBuilder()
                              .setStringValue(protocols.get(p))
                              .build())
                      .putFields(
                          "alpn_override",
                          com.google.protobuf.Value.newBuilder().setListValue(alpn).build())));
    }
    return HttpFilter.newBuilder()
        .setName(IstioMtls.ALPN_FILTER)
        .setTypedConfig(
            Any.pack(
                com.github.xds.type.v3.TypedStruct.newBuilder()
                    .setTypeUrl(IstioMtls.ALPN_FILTER_TYPE)
                    .setValue(
                        com.google.protobuf.Struct.newBuilder()
                            .putFields(
                                "alpn_override",
                                com.google.protobuf.Value.newBuilder()
                                    .setListValue(overrides)
                                    .build()))
                    .build()))
        .build();
  }
}
