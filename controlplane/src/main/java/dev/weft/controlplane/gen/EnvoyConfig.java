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
   * sniffed inbound listener matches to pick its HTTP chain. Encoded by hand: the project has no
   * generated class for Istio's proto ({@code alpn_override = 1}: {@code upstream_protocol = 1}
   * HTTP10 0, HTTP11 1, HTTP2 2; {@code alpn_override = 2}).
   */
  static HttpFilter alpnFilter() {
    com.google.protobuf.ByteString.Output bytes = com.google.protobuf.ByteString.newOutput();
    try {
      com.google.protobuf.CodedOutputStream out =
          com.google.protobuf.CodedOutputStream.newInstance(bytes);
      List<List<String>> lists =
          List.of(
              IstioMtls.ALPN_MTLS_HTTP10, IstioMtls.ALPN_MTLS_HTTP11, IstioMtls.ALPN_MTLS_HTTP2);
      for (int protocol = 0; protocol < lists.size(); protocol++) {
        com.google.protobuf.ByteString.Output one = com.google.protobuf.ByteString.newOutput();
        com.google.protobuf.CodedOutputStream o =
            com.google.protobuf.CodedOutputStream.newInstance(one);
        if (protocol != 0) {
          o.writeEnum(1, protocol);
        }
        for (String a : lists.get(protocol)) {
          o.writeString(2, a);
        }
        o.flush();
        out.writeBytes(1, one.toByteString());
      }
      out.flush();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e); // in-memory: cannot happen
    }
    return HttpFilter.newBuilder()
        .setName(IstioMtls.ALPN_FILTER)
        .setTypedConfig(
            Any.newBuilder().setTypeUrl(IstioMtls.ALPN_FILTER_TYPE).setValue(bytes.toByteString()))
        .build();
  }
}
