package dev.weft.proxy.xds.resource;

import dev.weft.proxy.config.AccessLogs;
import dev.weft.proxy.config.DownstreamLimits;
import dev.weft.proxy.config.InvalidResourceException;
import dev.weft.proxy.config.IstioStats;
import dev.weft.proxy.config.RouteTable;
import dev.weft.proxy.config.Tracing;
import dev.weft.proxy.http.filter.HttpConnectionManagerConfig;
import dev.weft.proxy.http.filter.HttpFilterChain;
import dev.weft.proxy.http.filter.HttpFilterFactory;
import dev.weft.proxy.http.filter.HttpFilterRegistry;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import java.util.ArrayList;
import java.util.List;

/**
 * Parses a listener's {@code envoy.filters.network.http_connection_manager} into an {@link
 * HttpConnectionManagerConfig}: codec, route source (RDS name or inline routes), HTTP filters
 * through the {@link HttpFilterRegistry}, downstream limits, upgrades, tracing, access logs and
 * Istio's stats. Part of {@link ListenerParser}, as in grpc-java's {@code XdsListenerResource}.
 */
final class HttpConnectionManagerParser {
  static final String ROUTER_FILTER = "envoy.filters.http.router";

  private HttpConnectionManagerParser() {}

  /**
   * Parses an {@code envoy.filters.network.http_connection_manager}; {@code where} names the
   * listener and chain for errors; {@code clientSpans}: its spans are CLIENT spans (egress).
   */
  static HttpConnectionManagerConfig parse(
      String where,
      String listenerName,
      HttpConnectionManager hcm,
      boolean clientSpans,
      ParseContext ctx)
      throws InvalidResourceException {
    String codec =
        switch (hcm.getCodecType()) {
          case AUTO -> HttpConnectionManagerConfig.AUTO;
          case HTTP1 -> HttpConnectionManagerConfig.HTTP1;
          case HTTP2 -> HttpConnectionManagerConfig.HTTP2;
          default ->
              throw new InvalidResourceException(
                  where + "codec_type " + hcm.getCodecType() + " is not supported (HTTP/3)");
        };
    dev.weft.proxy.tracing.TracingConfig tracing =
        hcm.hasTracing() ? Tracing.compile(where, hcm.getTracing(), clientSpans) : null;
    dev.weft.proxy.accesslog.AccessLogConfig accessLog =
        AccessLogs.compile(where, hcm.getAccessLogList(), ctx.accessLogSinks());
    dev.weft.proxy.stats.MetricOverrides metrics = IstioStats.compile(where, hcm);
    HttpFilterChain httpFilters = httpFilters(where, hcm, ctx);
    DownstreamLimits limits = downstreamLimits(where, hcm);
    java.util.Set<String> upgrades = upgrades(where, hcm);
    String statPrefix = hcm.getStatPrefix().isEmpty() ? listenerName : hcm.getStatPrefix();
    String server = hcm.getServerName().isEmpty() ? "envoy" : hcm.getServerName();
    boolean ifAbsent = false;
    switch (hcm.getServerHeaderTransformation()) {
      case OVERWRITE -> {}
      case APPEND_IF_ABSENT -> ifAbsent = true;
      case PASS_THROUGH -> server = null;
      default ->
          throw new InvalidResourceException(
              where
                  + "unsupported server_header_transformation "
                  + hcm.getServerHeaderTransformation());
    }
    switch (hcm.getRouteSpecifierCase()) {
      case RDS -> {
        String rds = hcm.getRds().getRouteConfigName();
        if (rds.isEmpty()) {
          throw new InvalidResourceException(where + "rds.route_config_name is empty");
        }
        return new HttpConnectionManagerConfig(
            statPrefix,
            rds,
            null,
            server,
            ifAbsent,
            httpFilters,
            limits,
            upgrades,
            codec,
            tracing,
            accessLog,
            metrics);
      }
      case ROUTE_CONFIG -> {
        RouteTable inline =
            RouteConfigurationParser.parse(
                hcm.getRouteConfig(), where + "inline route_config: ", ctx);
        return new HttpConnectionManagerConfig(
            statPrefix,
            null,
            inline,
            server,
            ifAbsent,
            httpFilters,
            limits,
            upgrades,
            codec,
            tracing,
            accessLog,
            metrics);
      }
      default ->
          throw new InvalidResourceException(
              where
                  + "the connection manager needs rds or route_config, got "
                  + hcm.getRouteSpecifierCase());
    }
  }

  /**
   * The downstream protections of a connection manager (Envoy's fields and defaults; Weft's request
   * headers timeout when none is configured, see {@link DownstreamLimits}).
   */
  private static DownstreamLimits downstreamLimits(String where, HttpConnectionManager hcm)
      throws InvalidResourceException {
    long headers =
        hcm.hasRequestHeadersTimeout()
            ? ProtoValues.durationMillis(
                where + "request_headers_timeout", hcm.getRequestHeadersTimeout())
            : DownstreamLimits.DEFAULT_REQUEST_HEADERS_TIMEOUT_MILLIS;
    long streamIdle =
        hcm.hasStreamIdleTimeout()
            ? ProtoValues.durationMillis(where + "stream_idle_timeout", hcm.getStreamIdleTimeout())
            : DownstreamLimits.DEFAULT_STREAM_IDLE_TIMEOUT_MILLIS;
    long idle = DownstreamLimits.DEFAULT_IDLE_TIMEOUT_MILLIS;
    int count = DownstreamLimits.DEFAULT_MAX_HEADERS_COUNT;
    if (hcm.hasCommonHttpProtocolOptions()) {
      var o = hcm.getCommonHttpProtocolOptions();
      if (o.hasIdleTimeout()) {
        idle =
            ProtoValues.durationMillis(
                where + "common_http_protocol_options.idle_timeout", o.getIdleTimeout());
      }
      if (o.hasMaxHeadersCount()) {
        count = o.getMaxHeadersCount().getValue();
        if (count < 1) {
          throw new InvalidResourceException(
              where + "common_http_protocol_options.max_headers_count must be at least 1");
        }
      }
    }
    int kb = DownstreamLimits.DEFAULT_MAX_REQUEST_HEADERS_KB;
    if (hcm.hasMaxRequestHeadersKb()) {
      kb = hcm.getMaxRequestHeadersKb().getValue();
      if (kb < 1 || kb > 8192) {
        throw new InvalidResourceException(
            where + "max_request_headers_kb must be between 1 and 8192, got " + kb);
      }
    }
    return new DownstreamLimits(headers, idle, streamIdle, kb, count);
  }

  /**
   * Envoy's {@code upgrade_configs}: the enabled upgrade types (matched case-insensitively, as
   * Envoy does); per-upgrade filter chains are not supported.
   */
  private static java.util.Set<String> upgrades(String where, HttpConnectionManager hcm)
      throws InvalidResourceException {
    java.util.Set<String> out = new java.util.HashSet<>();
    for (HttpConnectionManager.UpgradeConfig u : hcm.getUpgradeConfigsList()) {
      if (u.getUpgradeType().isEmpty()) {
        throw new InvalidResourceException(where + "upgrade_configs: upgrade_type is empty");
      }
      if (u.getFiltersCount() > 0) {
        throw new InvalidResourceException(
            where + "upgrade_configs: filters of an upgrade are not supported");
      }
      if (!u.hasEnabled() || u.getEnabled().getValue()) {
        out.add(u.getUpgradeType().toLowerCase(java.util.Locale.ROOT));
      }
    }
    return out;
  }

  /**
   * Compiles {@code http_filters} through the registry: each entry becomes a factory built from its
   * typed config; an unknown filter is an error unless {@code is_optional} (then it is skipped, as
   * Envoy does); the last entry, and only it, must be terminal (the router).
   */
  private static HttpFilterChain httpFilters(
      String where, HttpConnectionManager hcm, ParseContext ctx) throws InvalidResourceException {
    int n = hcm.getHttpFiltersCount();
    if (n == 0) {
      throw new InvalidResourceException(where + "http_filters must end with " + ROUTER_FILTER);
    }
    List<HttpFilterFactory> filters = new ArrayList<>();
    HttpFilterFactory terminal = null;
    for (int i = 0; i < n; i++) {
      HttpFilter f = hcm.getHttpFilters(i);
      if (IstioStats.is(f) && i < n - 1) {
        continue; // Istio's stats filter configures the proxy's metrics (IstioStats)
      }
      HttpFilterFactory.Provider provider =
          ctx.httpFilters().provider(f.getTypedConfig().getTypeUrl(), f.getName());
      boolean last = i == n - 1;
      if (provider == null) {
        if (last) {
          throw new InvalidResourceException(
              where
                  + "http_filters must end with "
                  + ROUTER_FILTER
                  + " (found '"
                  + f.getName()
                  + "')");
        }
        if (!f.getIsOptional()) {
          throw new InvalidResourceException(
              where + "unsupported http filter '" + f.getName() + "'");
        }
        continue;
      }
      HttpFilterFactory factory = provider.create(f.getTypedConfig());
      if (factory.terminal() != last) {
        throw new InvalidResourceException(
            where
                + "http_filters must end with "
                + ROUTER_FILTER
                + " (found '"
                + f.getName()
                + "')");
      }
      if (last) {
        terminal = factory;
      } else {
        filters.add(factory);
      }
    }
    return new HttpFilterChain(filters, terminal);
  }
}
