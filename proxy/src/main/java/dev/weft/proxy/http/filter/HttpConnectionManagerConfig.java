package dev.weft.proxy.http.filter;

import dev.weft.proxy.config.DownstreamLimits;
import dev.weft.proxy.config.NetworkFilterConfig;
import dev.weft.proxy.config.RouteTable;
import dev.weft.proxy.config.RuntimeConfig;
import dev.weft.proxy.net.HeaderNames;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;

/**
 * A compiled {@code envoy.filters.network.http_connection_manager}: where it gets routes from, its
 * HTTP filter chain, its {@code server} header handling, and its downstream limits. Exactly one of
 * {@code rdsName} and {@code inlineRoutes} is set.
 *
 * @param statPrefix the connection manager's {@code stat_prefix}
 * @param rdsName the route configuration to fetch over RDS, or null
 * @param inlineRoutes the connection manager's inline {@code route_config}, or null
 * @param serverName the {@code server} response header value, or null to pass the upstream's
 *     through (Envoy's {@code server_name}, default "envoy", and {@code
 *     server_header_transformation})
 * @param serverOnlyIfAbsent {@code APPEND_IF_ABSENT}: set {@code server} only when the upstream did
 *     not
 * @param httpFilters the compiled {@code http_filters}, ending with the router
 * @param limits the timeouts and header limits of its downstream connections
 * @param upgradeTypes Envoy's {@code upgrade_configs}: the enabled {@code upgrade_type}s, lower
 *     case ({@code websocket}); a request asking for another upgrade is refused with 403
 * @param codec Envoy's {@code codec_type}: {@code AUTO} (HTTP/2 when the connection starts with its
 *     preface, else HTTP/1.1), {@code HTTP1} or {@code HTTP2} (prior knowledge only)
 * @param inbound whether this is a sidecar's inbound connection manager (Istio's stat prefix {@code
 *     inbound_...}): its streams read the client proxy's metadata before the HTTP filters and are
 *     counted under the inbound cluster when answered before a route picked one; computed once
 *     here, never per request
 */
public record HttpConnectionManagerConfig(
    String statPrefix,
    String rdsName,
    RouteTable inlineRoutes,
    String serverName,
    boolean serverOnlyIfAbsent,
    HttpFilterChain httpFilters,
    DownstreamLimits limits,
    java.util.Set<String> upgradeTypes,
    String codec,
    dev.weft.proxy.tracing.TracingConfig tracing,
    dev.weft.proxy.accesslog.AccessLogConfig accessLog,
    dev.weft.proxy.stats.MetricOverrides metrics,
    boolean inbound)
    implements NetworkFilterConfig {

  public static final String AUTO = "AUTO";
  public static final String HTTP1 = "HTTP1";
  public static final String HTTP2 = "HTTP2";

  public HttpConnectionManagerConfig {
    upgradeTypes = java.util.Set.copyOf(upgradeTypes);
  }

  /** A connection manager that is a sidecar's inbound one when its stat prefix says so. */
  public HttpConnectionManagerConfig(
      String statPrefix,
      String rdsName,
      RouteTable inlineRoutes,
      String serverName,
      boolean serverOnlyIfAbsent,
      HttpFilterChain httpFilters,
      DownstreamLimits limits,
      java.util.Set<String> upgradeTypes,
      String codec,
      dev.weft.proxy.tracing.TracingConfig tracing,
      dev.weft.proxy.accesslog.AccessLogConfig accessLog,
      dev.weft.proxy.stats.MetricOverrides metrics) {
    this(
        statPrefix,
        rdsName,
        inlineRoutes,
        serverName,
        serverOnlyIfAbsent,
        httpFilters,
        limits,
        upgradeTypes,
        codec,
        tracing,
        accessLog,
        metrics,
        isInboundStatPrefix(statPrefix));
  }

  /**
   * Whether {@code statPrefix} is a sidecar's inbound connection manager's: Istio names them {@code
   * inbound_<address>_<port>} (pilot's inbound listener builder).
   */
  public static boolean isInboundStatPrefix(String statPrefix) {
    return statPrefix != null && statPrefix.startsWith("inbound_");
  }

  /** A connection manager with {@code codec_type: AUTO}, without tracing. */
  public HttpConnectionManagerConfig(
      String statPrefix,
      String rdsName,
      RouteTable inlineRoutes,
      String serverName,
      boolean serverOnlyIfAbsent,
      HttpFilterChain httpFilters,
      DownstreamLimits limits,
      java.util.Set<String> upgradeTypes) {
    this(
        statPrefix,
        rdsName,
        inlineRoutes,
        serverName,
        serverOnlyIfAbsent,
        httpFilters,
        limits,
        upgradeTypes,
        AUTO,
        null,
        null,
        null);
  }

  /** A connection manager without upgrades. */
  public HttpConnectionManagerConfig(
      String statPrefix,
      String rdsName,
      RouteTable inlineRoutes,
      String serverName,
      boolean serverOnlyIfAbsent,
      HttpFilterChain httpFilters,
      DownstreamLimits limits) {
    this(
        statPrefix,
        rdsName,
        inlineRoutes,
        serverName,
        serverOnlyIfAbsent,
        httpFilters,
        limits,
        java.util.Set.of());
  }

  /** A connection manager with the default {@link DownstreamLimits}. */
  public HttpConnectionManagerConfig(
      String statPrefix,
      String rdsName,
      RouteTable inlineRoutes,
      String serverName,
      boolean serverOnlyIfAbsent,
      HttpFilterChain httpFilters) {
    this(
        statPrefix,
        rdsName,
        inlineRoutes,
        serverName,
        serverOnlyIfAbsent,
        httpFilters,
        DownstreamLimits.DEFAULTS);
  }

  /** The routes this connection manager uses in {@code config}, or null before RDS delivered. */
  public RouteTable routes(RuntimeConfig config) {
    return inlineRoutes != null ? inlineRoutes : config.routes().get(rdsName);
  }

  /** Envoy's {@code server} header handling (OVERWRITE with "envoy" unless configured). */
  public void applyServerHeader(HttpHeaders h) {
    if (serverName != null && !(serverOnlyIfAbsent && h.contains(HttpHeaderNames.SERVER))) {
      h.set(HeaderNames.SERVER, serverName);
    }
  }
}
