package dev.weft.proxy.config;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.weft.proxy.filters.rbac.NetworkRbac;
import dev.weft.proxy.filters.rbac.RbacEngine;
import dev.weft.proxy.http.filter.HttpFilterChain;
import dev.weft.proxy.http.filter.HttpFilterFactory;
import dev.weft.proxy.http.filter.HttpFilterRegistry;
import dev.weft.proxy.stats.ProxyStats;
import dev.weft.proxy.tls.SecretStore;
import dev.weft.proxy.tls.TlsConfigException;
import dev.weft.proxy.tls.TlsContext;
import dev.weft.xds.TypeUrls;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.HealthStatus;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.HeaderMatcher;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.config.route.v3.WeightedCluster;
import io.envoyproxy.envoy.extensions.filters.network.connection_limit.v3.ConnectionLimit;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Validates xDS resources and compiles them into the data plane's tables. Supports exactly the
 * subset of Envoy's API that Weft's control plane generates (see docs/architecture.md); anything
 * else is rejected with a message that names the resource and the field, so that the update is
 * NACKed instead of being half understood.
 */
public final class ConfigCompiler {
  static final String HCM_FILTER = "envoy.filters.network.http_connection_manager";
  static final String TCP_PROXY_FILTER = "envoy.filters.network.tcp_proxy";
  static final String ROUTER_FILTER = "envoy.filters.http.router";
  static final String CONNECTION_LIMIT_FILTER = "envoy.filters.network.connection_limit";
  static final String NETWORK_RBAC_FILTER = "envoy.filters.network.rbac";
  static final String NETWORK_RBAC_TYPE =
      "type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC";
  static final String CONNECTION_LIMIT_TYPE =
      "type.googleapis.com/envoy.extensions.filters.network.connection_limit.v3.ConnectionLimit";
  static final int DEFAULT_CONNECT_TIMEOUT_MS = 5_000;

  /** Envoy's default route timeout. */
  static final long DEFAULT_ROUTE_TIMEOUT_MS = 15_000;

  static final String TLS_INSPECTOR = "envoy.filters.listener.tls_inspector";
  static final String TLS_INSPECTOR_TYPE =
      "type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector";
  static final String TLS_SOCKET = "envoy.transport_sockets.tls";
  static final String RAW_BUFFER_SOCKET = "envoy.transport_sockets.raw_buffer";
  static final String DOWNSTREAM_TLS_TYPE =
      "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext";
  static final String UPSTREAM_TLS_TYPE =
      "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext";
  static final String RAW_BUFFER_TYPE =
      "type.googleapis.com/envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer";

  private final ProxyStats stats;
  private final HttpFilterRegistry httpFilterRegistry;
  private final SecretStore secrets;
  private final dev.weft.proxy.upstream.Scheduler scheduler;

  /** The cluster states of the last {@link #build}: those missing from the next one retire. */
  private java.util.Set<dev.weft.proxy.upstream.ClusterState> published = java.util.Set.of();

  /**
   * The TLS contexts compiled lately, by what they were compiled from: a listener or cluster pushed
   * again unchanged keeps its {@code TlsContext}, hence its {@code SslContext}, session cache and
   * ticket keys (resumption survives config pushes). Cleared when it grows past {@link
   * #MAX_TLS_CONTEXTS}; touched only on the xDS executor.
   */
  private final Map<TlsKey, TlsContext> tlsContexts = new HashMap<>();

  private static final int MAX_TLS_CONTEXTS = 1024;

  private record TlsKey(com.google.protobuf.Message context, String statPrefix) {}

  public ConfigCompiler(ProxyStats stats) {
    this(stats, HttpFilterRegistry.defaults());
  }

  /** A compiler that knows the HTTP filters of {@code httpFilterRegistry}. */
  public ConfigCompiler(ProxyStats stats, HttpFilterRegistry httpFilterRegistry) {
    this(stats, httpFilterRegistry, new SecretStore());
  }

  /**
   * A compiler whose TLS contexts take their SDS secrets from {@code secrets}.
   *
   * @param secrets the proxy's secrets (in process and from ADS)
   */
  public ConfigCompiler(
      ProxyStats stats, HttpFilterRegistry httpFilterRegistry, SecretStore secrets) {
    this(stats, httpFilterRegistry, secrets, dev.weft.proxy.upstream.SystemScheduler.shared());
  }

  /** A compiler whose clusters' outlier detection runs on {@code scheduler}'s clock and thread. */
  public ConfigCompiler(
      ProxyStats stats,
      HttpFilterRegistry httpFilterRegistry,
      SecretStore secrets,
      dev.weft.proxy.upstream.Scheduler scheduler) {
    this.stats = stats;
    this.httpFilterRegistry = httpFilterRegistry;
    this.secrets = secrets;
    this.scheduler = scheduler;
  }

  private boolean router;
  private dev.weft.proxy.accesslog.AccessLogSinks accessLogSinks;

  /**
   * Where connection managers' {@code access_log} entries write; without sinks they are ignored.
   * Returns this compiler.
   */
  public ConfigCompiler accessLogSinks(dev.weft.proxy.accesslog.AccessLogSinks sinks) {
    this.accessLogSinks = sinks;
    return this;
  }

  /**
   * Tells the compiler the proxy is a router (gateway): its connection managers' spans are SERVER
   * spans whatever the listener's direction. Returns this compiler.
   */
  public ConfigCompiler router(boolean router) {
    this.router = router;
    return this;
  }

  /** The secret store TLS contexts read. */
  public SecretStore secrets() {
    return secrets;
  }

  // ---------------------------------------------------------------- LDS

  /** Compiles a listener; the route configuration named by its RDS reference is resolved later. */
  public ListenerConfig listener(Listener l) throws InvalidResourceException {
    String name = l.getName();
    if (name.isEmpty()) {
      throw new InvalidResourceException("listener without a name");
    }
    String where = "listener " + name + ": ";
    if (!l.getAddress().hasSocketAddress()) {
      throw new InvalidResourceException(where + "address.socket_address is required");
    }
    InetSocketAddress address = socketAddress(where, l.getAddress().getSocketAddress());
    boolean inspector = false;
    for (io.envoyproxy.envoy.config.listener.v3.ListenerFilter lf : l.getListenerFiltersList()) {
      if (lf.getName().equals(TLS_INSPECTOR)
          || lf.getTypedConfig().getTypeUrl().equals(TLS_INSPECTOR_TYPE)) {
        inspector = true;
      } else {
        throw new InvalidResourceException(
            where
                + "listener filter '"
                + lf.getName()
                + "' is not supported (only "
                + TLS_INSPECTOR
                + ")");
      }
    }
    if (l.hasDefaultFilterChain()) {
      throw new InvalidResourceException(where + "default_filter_chain is not supported");
    }
    if (l.getFilterChainsCount() < 1) {
      throw new InvalidResourceException(where + "at least one filter chain is required");
    }
    List<FilterChainConfig> chains = new ArrayList<>(l.getFilterChainsCount());
    // Envoy's tracing operation: egress (CLIENT spans) on an OUTBOUND listener of a sidecar.
    boolean clientSpans =
        !router
            && l.getTrafficDirection()
                == io.envoyproxy.envoy.config.core.v3.TrafficDirection.OUTBOUND;
    for (FilterChain chain : l.getFilterChainsList()) {
      FilterChainConfig c = filterChain(where, name, chain, clientSpans);
      for (FilterChainConfig other : chains) {
        if (other.match().equals(c.match())) {
          // Envoy: "multiple filter chains with the same matching rules are defined".
          throw new InvalidResourceException(
              where + "multiple filter chains with the same filter_chain_match");
        }
      }
      // Envoy inserts the TLS inspector itself when a chain matches on what only it can see.
      FilterChainMatch m = c.match();
      if (!m.serverNames().isEmpty()
          || m.transportProtocol().equals("tls")
          || !m.applicationProtocols().isEmpty()) {
        inspector = true;
      }
      chains.add(c);
    }
    return new ListenerConfig(
        name,
        address,
        chains,
        stats.listener(name),
        inspector,
        l.getTrafficDirection() == io.envoyproxy.envoy.config.core.v3.TrafficDirection.INBOUND);
  }

  /**
   * Envoy's {@code filter_chain_match}: the fields Weft selects on; others are rejected. A {@code
   * prefix_ranges} entry without {@code prefix_len} is {@code /0} (Envoy's {@code CidrRange}
   * default).
   */
  private static FilterChainMatch chainMatch(
      String where, io.envoyproxy.envoy.config.listener.v3.FilterChainMatch m)
      throws InvalidResourceException {
    if (m.getSourcePrefixRangesCount() > 0
        || m.getDirectSourcePrefixRangesCount() > 0
        || m.getSourcePortsCount() > 0
        || m.getSourceType()
            != io.envoyproxy.envoy.config.listener.v3.FilterChainMatch.ConnectionSourceType.ANY
        || !m.getAddressSuffix().isEmpty()
        || m.hasSuffixLen()) {
      throw new InvalidResourceException(
          where
              + "filter_chain_match: only destination_port, prefix_ranges, server_names,"
              + " transport_protocol and application_protocols are supported");
    }
    String tp = m.getTransportProtocol();
    if (!tp.isEmpty() && !tp.equals("tls") && !tp.equals("raw_buffer")) {
      throw new InvalidResourceException(
          where + "filter_chain_match: unknown transport_protocol '" + tp + "'");
    }
    int port = m.hasDestinationPort() ? m.getDestinationPort().getValue() : 0;
    if (port < 0 || port > 65535) {
      throw new InvalidResourceException(where + "filter_chain_match: invalid destination_port");
    }
    List<String> names = new ArrayList<>();
    for (String n : m.getServerNamesList()) {
      names.add(n.toLowerCase(java.util.Locale.ROOT));
    }
    List<CidrRange> ranges = new ArrayList<>();
    for (io.envoyproxy.envoy.config.core.v3.CidrRange r : m.getPrefixRangesList()) {
      try {
        ranges.add(
            CidrRange.of(r.getAddressPrefix(), r.hasPrefixLen() ? r.getPrefixLen().getValue() : 0));
      } catch (IllegalArgumentException e) {
        throw new InvalidResourceException(
            where + "filter_chain_match: prefix_ranges: " + e.getMessage());
      }
    }
    return new FilterChainMatch(port, names, tp, m.getApplicationProtocolsList(), ranges);
  }

  /**
   * A chain's {@code transport_socket}: null for none or {@code raw_buffer}, else the compiled
   * {@code DownstreamTlsContext}.
   */
  private TlsContext downstreamTls(
      String where, String listenerName, io.envoyproxy.envoy.config.core.v3.TransportSocket ts)
      throws InvalidResourceException {
    String type = ts.getTypedConfig().getTypeUrl();
    if (ts.getName().equals(RAW_BUFFER_SOCKET) || type.equals(RAW_BUFFER_TYPE)) {
      return null;
    }
    if (!type.equals(DOWNSTREAM_TLS_TYPE)) {
      throw new InvalidResourceException(
          where
              + "transport_socket '"
              + ts.getName()
              + "' is not supported (envoy.transport_sockets.tls with a DownstreamTlsContext, or"
              + " raw_buffer)");
    }
    DownstreamTlsContext d = unpack(where, ts.getTypedConfig(), DownstreamTlsContext.class);
    try {
      var tlsStats = stats.listenerTls(listenerName);
      TlsKey key = new TlsKey(d, tlsStats.prefix());
      TlsContext t = tlsContexts.get(key);
      if (t == null) {
        t = TlsContext.downstream(d, secrets, tlsStats);
        remember(key, t);
      }
      t.warm();
      return t;
    } catch (TlsConfigException e) {
      throw new InvalidResourceException(where + "transport_socket: " + e.getMessage());
    }
  }

  /**
   * A cluster's {@code transport_socket} (or a match's): null for {@code raw_buffer}, else the
   * compiled {@code UpstreamTlsContext}.
   */
  private TlsContext upstreamTls(
      String where, String cluster, io.envoyproxy.envoy.config.core.v3.TransportSocket ts)
      throws InvalidResourceException {
    String type = ts.getTypedConfig().getTypeUrl();
    if (ts.getName().equals(RAW_BUFFER_SOCKET) || type.equals(RAW_BUFFER_TYPE)) {
      return null;
    }
    if (!type.equals(UPSTREAM_TLS_TYPE)) {
      throw new InvalidResourceException(
          where
              + "transport_socket '"
              + ts.getName()
              + "' is not supported (envoy.transport_sockets.tls with an UpstreamTlsContext, or"
              + " raw_buffer)");
    }
    UpstreamTlsContext u = unpack(where, ts.getTypedConfig(), UpstreamTlsContext.class);
    try {
      var tlsStats = stats.clusterTls(cluster);
      TlsKey key = new TlsKey(u, tlsStats.prefix());
      TlsContext t = tlsContexts.get(key);
      if (t == null) {
        t = TlsContext.upstream(u, secrets, tlsStats);
        remember(key, t);
      }
      t.warm();
      return t;
    } catch (TlsConfigException e) {
      throw new InvalidResourceException(where + "transport_socket: " + e.getMessage());
    }
  }

  private void remember(TlsKey key, TlsContext t) {
    if (tlsContexts.size() >= MAX_TLS_CONTEXTS) {
      tlsContexts.clear();
    }
    tlsContexts.put(key, t);
  }

  private ClusterTransport clusterTransport(String where, Cluster c)
      throws InvalidResourceException {
    if (!c.hasTransportSocket() && c.getTransportSocketMatchesCount() == 0) {
      return ClusterTransport.PLAINTEXT;
    }
    TlsContext def =
        c.hasTransportSocket() ? upstreamTls(where, c.getName(), c.getTransportSocket()) : null;
    List<ClusterTransport.Match> matches = new ArrayList<>();
    for (Cluster.TransportSocketMatch m : c.getTransportSocketMatchesList()) {
      String w = where + "transport_socket_matches " + m.getName() + ": ";
      if (!m.hasTransportSocket()) {
        throw new InvalidResourceException(w + "transport_socket is required");
      }
      matches.add(
          new ClusterTransport.Match(
              m.getName(),
              m.getMatch().getFieldsMap(),
              upstreamTls(w, c.getName(), m.getTransportSocket())));
    }
    return new ClusterTransport(def, matches);
  }

  private FilterChainConfig filterChain(
      String where, String listenerName, FilterChain chain, boolean clientSpans)
      throws InvalidResourceException {
    FilterChainMatch match =
        chain.hasFilterChainMatch()
            ? chainMatch(where, chain.getFilterChainMatch())
            : FilterChainMatch.ANY;
    TlsContext tls =
        chain.hasTransportSocket()
            ? downstreamTls(where, listenerName, chain.getTransportSocket())
            : null;
    int n = chain.getFiltersCount();
    if (n < 1) {
      throw new InvalidResourceException(
          where
              + "the filter chain must have the filter "
              + HCM_FILTER
              + " or "
              + TCP_PROXY_FILTER
              + ", optionally after "
              + CONNECTION_LIMIT_FILTER
              + " and "
              + NETWORK_RBAC_FILTER);
    }
    ConnectionLimitConfig limit = null;
    List<NetworkRbac> rbac = new ArrayList<>();
    for (int i = 0; i < n - 1; i++) {
      Filter f = chain.getFilters(i);
      if (f.getName().equals(NETWORK_RBAC_FILTER)
          || f.getTypedConfig().getTypeUrl().equals(NETWORK_RBAC_TYPE)) {
        rbac.add(networkRbac(where, f));
      } else if (limit == null) {
        limit = connectionLimit(where, f);
      } else {
        throw new InvalidResourceException(
            where + "unsupported network filter '" + f.getName() + "' before the last one");
      }
    }
    Filter filter = chain.getFilters(n - 1);
    if (filter.getTypedConfig().getTypeUrl().equals(TypeUrls.TCP_PROXY)) {
      return new FilterChainConfig(
          chain.getName(),
          match,
          tcpProxy(where, unpack(where, filter.getTypedConfig(), TcpProxy.class)),
          limit,
          tls,
          rbac);
    }
    if (!filter.getName().equals(HCM_FILTER)
        && !filter.getTypedConfig().getTypeUrl().equals(TypeUrls.HTTP_CONNECTION_MANAGER)) {
      throw new InvalidResourceException(
          where + "unsupported network filter '" + filter.getName() + "'");
    }
    if (!rbac.isEmpty()) {
      // Weft evaluates network RBAC only in front of a TCP proxy; before a connection manager the
      // HTTP RBAC filter is the one Istio generates.
      throw new InvalidResourceException(
          where + NETWORK_RBAC_FILTER + " is supported only before " + TCP_PROXY_FILTER);
    }
    HttpConnectionManager hcm = unpack(where, filter.getTypedConfig(), HttpConnectionManager.class);
    return new FilterChainConfig(
        chain.getName(),
        match,
        connectionManager(where, listenerName, hcm, clientSpans),
        limit,
        tls);
  }

  /**
   * Compiles {@code envoy.filters.network.tcp_proxy}: {@code stat_prefix}, {@code cluster} or
   * {@code weighted_clusters} and {@code idle_timeout} (default 1 h, 0 disables). Fields whose
   * behaviour Weft does not implement (tunnelling, on-demand, access logs, hash policies, metadata
   * match, max_connect_attempts other than 1, downstream data limits) are rejected, so a proxy
   * never silently ignores what it was told.
   */
  private TcpProxyConfig tcpProxy(String where, TcpProxy t) throws InvalidResourceException {
    String w = where + TCP_PROXY_FILTER + ": ";
    if (t.getStatPrefix().isEmpty()) {
      throw new InvalidResourceException(w + "stat_prefix is required");
    }
    if (t.hasTunnelingConfig()
        || t.hasOnDemand()
        || t.getAccessLogCount() > 0
        || t.getHashPolicyCount() > 0
        || t.hasMetadataMatch()
        || t.hasMaxDownstreamConnectionDuration()
        || t.hasDownstreamIdleTimeout()
        || t.hasUpstreamIdleTimeout()
        || (t.hasMaxConnectAttempts() && t.getMaxConnectAttempts().getValue() != 1)) {
      throw new InvalidResourceException(
          w + "only stat_prefix, cluster, weighted_clusters and idle_timeout are supported");
    }
    List<TcpProxyConfig.WeightedCluster> clusters = new ArrayList<>();
    int total = 0;
    switch (t.getClusterSpecifierCase()) {
      case CLUSTER -> {
        if (t.getCluster().isEmpty()) {
          throw new InvalidResourceException(w + "cluster is empty");
        }
        clusters.add(new TcpProxyConfig.WeightedCluster(t.getCluster(), 1));
        total = 1;
      }
      case WEIGHTED_CLUSTERS -> {
        for (TcpProxy.WeightedCluster.ClusterWeight cw :
            t.getWeightedClusters().getClustersList()) {
          if (cw.getName().isEmpty()) {
            throw new InvalidResourceException(w + "weighted_clusters: a cluster name is empty");
          }
          if (cw.hasMetadataMatch()) {
            throw new InvalidResourceException(
                w + "weighted_clusters: metadata_match is not supported");
          }
          if (cw.getWeight() < 1) {
            throw new InvalidResourceException(
                w + "weighted_clusters: weight of " + cw.getName() + " must be at least 1");
          }
          total = Math.addExact(total, cw.getWeight());
          clusters.add(new TcpProxyConfig.WeightedCluster(cw.getName(), cw.getWeight()));
        }
        if (clusters.isEmpty()) {
          throw new InvalidResourceException(w + "weighted_clusters is empty");
        }
      }
      default -> throw new InvalidResourceException(w + "cluster or weighted_clusters is required");
    }
    long idle =
        t.hasIdleTimeout()
            ? durationMillis(w + "idle_timeout", t.getIdleTimeout())
            : TcpProxyConfig.DEFAULT_IDLE_TIMEOUT_MILLIS;
    return new TcpProxyConfig(
        t.getStatPrefix(), clusters, total, idle, stats.tcpProxy(t.getStatPrefix()));
  }

  /**
   * Compiles {@code envoy.filters.network.rbac}: {@code stat_prefix}, {@code rules} (absent: no
   * enforcement) and {@code shadow_rules}; a matcher Weft cannot evaluate is a NACK.
   */
  private NetworkRbac networkRbac(String where, Filter filter) throws InvalidResourceException {
    io.envoyproxy.envoy.extensions.filters.network.rbac.v3.RBAC r =
        unpack(
            where,
            filter.getTypedConfig(),
            io.envoyproxy.envoy.extensions.filters.network.rbac.v3.RBAC.class);
    String w = where + NETWORK_RBAC_FILTER + ": ";
    if (r.hasMatcher() || r.hasShadowMatcher()) {
      throw new InvalidResourceException(w + "matcher and shadow_matcher are not supported");
    }
    try {
      RbacEngine rules = r.hasRules() ? RbacEngine.compile(r.getRules()) : null;
      RbacEngine shadow = r.hasShadowRules() ? RbacEngine.compile(r.getShadowRules()) : null;
      return new NetworkRbac(
          r.getStatPrefix(), rules, shadow, stats.networkRbac(r.getStatPrefix()));
    } catch (InvalidResourceException e) {
      throw new InvalidResourceException(w + e.getMessage());
    }
  }

  /**
   * Compiles {@code envoy.filters.network.connection_limit}; a limit its {@code runtime_enabled}
   * turns off by default is no limit (Weft has no runtime to turn it on).
   */
  private ConnectionLimitConfig connectionLimit(String where, Filter filter)
      throws InvalidResourceException {
    if (!filter.getName().equals(CONNECTION_LIMIT_FILTER)
        && !filter.getTypedConfig().getTypeUrl().equals(CONNECTION_LIMIT_TYPE)) {
      throw new InvalidResourceException(
          where
              + "unsupported network filter '"
              + filter.getName()
              + "' (only "
              + CONNECTION_LIMIT_FILTER
              + " may precede the connection manager)");
    }
    ConnectionLimit cl = unpack(where, filter.getTypedConfig(), ConnectionLimit.class);
    String w = where + CONNECTION_LIMIT_FILTER + ": ";
    if (cl.getStatPrefix().isEmpty()) {
      throw new InvalidResourceException(w + "stat_prefix is required");
    }
    if (!cl.hasMaxConnections() || cl.getMaxConnections().getValue() < 1) {
      throw new InvalidResourceException(w + "max_connections must be at least 1");
    }
    if (cl.hasRuntimeEnabled() && !cl.getRuntimeEnabled().getDefaultValue().getValue()) {
      return null;
    }
    long delay = cl.hasDelay() ? durationMillis(w + "delay", cl.getDelay()) : 0;
    return new ConnectionLimitConfig(
        cl.getStatPrefix(),
        cl.getMaxConnections().getValue(),
        delay,
        stats.connectionLimit(cl.getStatPrefix()));
  }

  /**
   * The downstream protections of a connection manager (Envoy's fields and defaults; Weft's request
   * headers timeout when none is configured, see {@link DownstreamLimits}).
   */
  private static DownstreamLimits downstreamLimits(String where, HttpConnectionManager hcm)
      throws InvalidResourceException {
    long headers =
        hcm.hasRequestHeadersTimeout()
            ? durationMillis(where + "request_headers_timeout", hcm.getRequestHeadersTimeout())
            : DownstreamLimits.DEFAULT_REQUEST_HEADERS_TIMEOUT_MILLIS;
    long streamIdle =
        hcm.hasStreamIdleTimeout()
            ? durationMillis(where + "stream_idle_timeout", hcm.getStreamIdleTimeout())
            : DownstreamLimits.DEFAULT_STREAM_IDLE_TIMEOUT_MILLIS;
    long idle = DownstreamLimits.DEFAULT_IDLE_TIMEOUT_MILLIS;
    int count = DownstreamLimits.DEFAULT_MAX_HEADERS_COUNT;
    if (hcm.hasCommonHttpProtocolOptions()) {
      var o = hcm.getCommonHttpProtocolOptions();
      if (o.hasIdleTimeout()) {
        idle =
            durationMillis(where + "common_http_protocol_options.idle_timeout", o.getIdleTimeout());
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

  /** A non-negative protobuf duration in milliseconds. */
  private static long durationMillis(String field, com.google.protobuf.Duration d)
      throws InvalidResourceException {
    if (d.getSeconds() < 0 || d.getNanos() < 0) {
      throw new InvalidResourceException(field + " must not be negative");
    }
    try {
      return Math.addExact(Math.multiplyExact(d.getSeconds(), 1000L), d.getNanos() / 1_000_000);
    } catch (ArithmeticException e) {
      throw new InvalidResourceException(field + " is too large");
    }
  }

  private HttpConnectionManagerConfig connectionManager(
      String where, String listenerName, HttpConnectionManager hcm, boolean clientSpans)
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
        AccessLogs.compile(where, hcm.getAccessLogList(), accessLogSinks);
    dev.weft.proxy.stats.MetricOverrides metrics = IstioStats.compile(where, hcm);
    HttpFilterChain httpFilters = httpFilters(where, hcm);
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
        RouteTable inline = routes(hcm.getRouteConfig(), where + "inline route_config: ");
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
  private HttpFilterChain httpFilters(String where, HttpConnectionManager hcm)
      throws InvalidResourceException {
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
          httpFilterRegistry.provider(f.getTypedConfig().getTypeUrl(), f.getName());
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

  // ---------------------------------------------------------------- RDS

  public RouteTable routes(RouteConfiguration rc) throws InvalidResourceException {
    if (rc.getName().isEmpty()) {
      throw new InvalidResourceException("route configuration without a name");
    }
    return routes(rc, "route " + rc.getName() + ": ");
  }

  private RouteTable routes(RouteConfiguration rc, String where) throws InvalidResourceException {
    HeaderMutation globalRequest =
        mutation(where, rc.getRequestHeadersToRemoveList(), rc.getRequestHeadersToAddList());
    HeaderMutation globalResponse =
        mutation(where, rc.getResponseHeadersToRemoveList(), rc.getResponseHeadersToAddList());
    List<VirtualHost> vhosts = new ArrayList<>();
    for (io.envoyproxy.envoy.config.route.v3.VirtualHost vh : rc.getVirtualHostsList()) {
      String vwhere = where + "virtual host " + vh.getName() + ": ";
      if (vh.getDomainsCount() == 0) {
        throw new InvalidResourceException(vwhere + "no domains");
      }
      HeaderMutation vhRequest =
          mutation(vwhere, vh.getRequestHeadersToRemoveList(), vh.getRequestHeadersToAddList())
              .then(globalRequest);
      HeaderMutation vhResponse =
          mutation(vwhere, vh.getResponseHeadersToRemoveList(), vh.getResponseHeadersToAddList())
              .then(globalResponse);
      RetryPolicy vhRetry =
          vh.hasRetryPolicy() ? RetryPolicy.compile(vwhere, vh.getRetryPolicy()) : null;
      Route[] routes = new Route[vh.getRoutesCount()];
      for (int i = 0; i < routes.length; i++) {
        routes[i] =
            route(vwhere + "route " + i + ": ", vh.getRoutes(i))
                .withOuterHeaders(vhRequest, vhResponse, vhRetry);
      }
      String requireTls =
          switch (vh.getRequireTls()) {
            case NONE -> "NONE";
            case ALL -> "ALL";
            case EXTERNAL_ONLY -> "EXTERNAL_ONLY";
            default ->
                throw new InvalidResourceException(
                    vwhere + "unsupported require_tls " + vh.getRequireTls());
          };
      vhosts.add(
          new VirtualHost(vh.getName(), List.copyOf(vh.getDomainsList()), routes, requireTls));
    }
    try {
      return new RouteTable(rc.getName(), vhosts);
    } catch (InvalidResourceException e) {
      throw new InvalidResourceException(where + e.getMessage());
    }
  }

  private Route route(String where, io.envoyproxy.envoy.config.route.v3.Route r)
      throws InvalidResourceException {
    Route compiled = routeCore(where, r);
    if (r.getTypedPerFilterConfigCount() == 0
        && r.getRoute().getRequestMirrorPoliciesCount() == 0) {
      return compiled;
    }
    return compiled.withFilterConfigAndMirrors(
        perFilterConfig(where, r.getTypedPerFilterConfigMap()),
        mirrors(where, r.getRoute().getRequestMirrorPoliciesList()));
  }

  private static final String FILTER_CONFIG_TYPE =
      "type.googleapis.com/envoy.config.route.v3.FilterConfig";

  /**
   * Envoy's route {@code typed_per_filter_config}: each value is compiled by the filter registered
   * for its type URL ({@link HttpFilterRegistry#perRouteProvider}); a {@code FilterConfig} wrapper
   * is unwrapped, and one that is {@code is_optional} with an unknown config is skipped, as Envoy
   * does. Anything else unknown is NACKed (Envoy rejects it too).
   */
  private Map<String, Object> perFilterConfig(String where, Map<String, Any> configs)
      throws InvalidResourceException {
    if (configs.isEmpty()) {
      return Map.of();
    }
    Map<String, Object> out = new java.util.HashMap<>();
    for (Map.Entry<String, Any> e : new java.util.TreeMap<>(configs).entrySet()) {
      Any any = e.getValue();
      boolean optional = false;
      if (any.getTypeUrl().equals(FILTER_CONFIG_TYPE)) {
        io.envoyproxy.envoy.config.route.v3.FilterConfig fc;
        try {
          fc = any.unpack(io.envoyproxy.envoy.config.route.v3.FilterConfig.class);
        } catch (com.google.protobuf.InvalidProtocolBufferException ex) {
          throw new InvalidResourceException(
              where + "typed_per_filter_config " + e.getKey() + ": " + ex.getMessage());
        }
        if (fc.getDisabled()) {
          throw new InvalidResourceException(
              where + "typed_per_filter_config " + e.getKey() + ": disabled is not supported");
        }
        optional = fc.getIsOptional();
        any = fc.getConfig();
      }
      HttpFilterFactory.PerRouteProvider p = httpFilterRegistry.perRouteProvider(any.getTypeUrl());
      if (p == null) {
        if (optional) {
          continue;
        }
        throw new InvalidResourceException(
            where
                + "typed_per_filter_config "
                + e.getKey()
                + ": unsupported config "
                + any.getTypeUrl());
      }
      try {
        out.put(e.getKey(), p.create(any));
      } catch (InvalidResourceException ex) {
        throw new InvalidResourceException(
            where + "typed_per_filter_config " + e.getKey() + ": " + ex.getMessage());
      }
    }
    return Map.copyOf(out);
  }

  /**
   * Envoy's {@code request_mirror_policies}: {@code cluster} (not {@code cluster_header}) and
   * {@code runtime_fraction.default_value} (no runtime: the default is the value; 100 % when
   * absent); {@code trace_sampled} has nothing to act on.
   */
  private static RouteMirror[] mirrors(
      String where,
      List<io.envoyproxy.envoy.config.route.v3.RouteAction.RequestMirrorPolicy> policies)
      throws InvalidResourceException {
    RouteMirror[] out = new RouteMirror[policies.size()];
    for (int i = 0; i < out.length; i++) {
      var p = policies.get(i);
      String w = where + "request_mirror_policies " + i + ": ";
      if (p.getCluster().isEmpty()) {
        throw new InvalidResourceException(w + "cluster is required (cluster_header unsupported)");
      }
      int perMillion =
          p.hasRuntimeFraction()
              ? perMillion(w + "runtime_fraction: ", p.getRuntimeFraction().getDefaultValue())
              : RouteMirror.ALL;
      out[i] = new RouteMirror(p.getCluster(), perMillion, !p.getDisableShadowHostSuffixAppend());
    }
    return out;
  }

  /** An Envoy {@code FractionalPercent} in millionths, capped at 100 % as Envoy does. */
  public static int perMillion(String where, io.envoyproxy.envoy.type.v3.FractionalPercent f)
      throws InvalidResourceException {
    long scale =
        switch (f.getDenominator()) {
          case HUNDRED -> 10_000;
          case TEN_THOUSAND -> 100;
          case MILLION -> 1;
          default ->
              throw new InvalidResourceException(
                  where + "unsupported denominator " + f.getDenominator());
        };
    return (int) Math.min(RouteMirror.ALL, (f.getNumerator() & 0xffffffffL) * scale);
  }

  /** Whether {@code a} has an enabled CONNECT upgrade with a connect_config (Envoy terminates). */
  private static boolean terminatesConnect(io.envoyproxy.envoy.config.route.v3.RouteAction a) {
    for (io.envoyproxy.envoy.config.route.v3.RouteAction.UpgradeConfig u :
        a.getUpgradeConfigsList()) {
      if (u.getUpgradeType().equalsIgnoreCase("CONNECT")
          && u.hasConnectConfig()
          && (!u.hasEnabled() || u.getEnabled().getValue())) {
        return true;
      }
    }
    return false;
  }

  private Route routeCore(String where, io.envoyproxy.envoy.config.route.v3.Route r)
      throws InvalidResourceException {
    RouteMatch m = r.getMatch();
    boolean caseSensitive = !m.hasCaseSensitive() || m.getCaseSensitive().getValue();
    PathMatch path =
        switch (m.getPathSpecifierCase()) {
          case PREFIX -> new PathMatch(PathMatch.Kind.PREFIX, m.getPrefix(), caseSensitive);
          case PATH -> new PathMatch(PathMatch.Kind.PATH, m.getPath(), caseSensitive);
          case CONNECT_MATCHER -> {
            // Weft terminates CONNECT (Envoy's route upgrade_configs CONNECT with a
            // connect_config); forwarding the CONNECT request itself upstream is not supported.
            if (!terminatesConnect(r.getRoute())) {
              throw new InvalidResourceException(
                  where
                      + "connect_matcher: the route needs upgrade_configs CONNECT with"
                      + " connect_config (forwarding CONNECT upstream is not supported)");
            }
            yield new PathMatch(PathMatch.Kind.CONNECT, "", true);
          }
          case SAFE_REGEX -> {
            try {
              yield PathMatch.regex(SafeRegex.compile(m.getSafeRegex()));
            } catch (InvalidResourceException e) {
              throw new InvalidResourceException(where + "match.safe_regex: " + e.getMessage());
            }
          }
          default ->
              throw new InvalidResourceException(
                  where + "unsupported path specifier " + m.getPathSpecifierCase());
        };
    if (m.hasRuntimeFraction() || m.hasTlsContext() || m.getDynamicMetadataCount() > 0) {
      throw new InvalidResourceException(where + "unsupported match criteria");
    }
    int extra = m.hasGrpc() ? 1 : 0;
    HeaderMatch[] headers =
        new HeaderMatch[m.getHeadersCount() + extra + m.getQueryParametersCount()];
    for (int i = 0; i < m.getQueryParametersCount(); i++) {
      headers[m.getHeadersCount() + extra + i] =
          query(
              where + "query parameter " + m.getQueryParameters(i).getName() + ": ",
              m.getQueryParameters(i));
    }
    if (m.hasGrpc()) {
      // Envoy's grpc match: content-type application/grpc (or application/grpc+proto, ...).
      headers[0] =
          new HeaderMatch(
              "content-type",
              new StringMatch(StringMatch.Kind.PREFIX, "application/grpc", false),
              false,
              false);
    }
    for (int i = 0; i < m.getHeadersCount(); i++) {
      headers[i + extra] =
          header(where + "header " + m.getHeaders(i).getName() + ": ", m.getHeaders(i));
    }
    switch (r.getActionCase()) {
      case ROUTE -> {
        io.envoyproxy.envoy.config.route.v3.RouteAction ra = r.getRoute();
        RouteAction action =
            switch (ra.getClusterSpecifierCase()) {
              case CLUSTER -> {
                if (ra.getCluster().isEmpty()) {
                  throw new InvalidResourceException(where + "route.cluster is empty");
                }
                yield new RouteAction.ToCluster(ra.getCluster());
              }
              case WEIGHTED_CLUSTERS -> weighted(where, ra.getWeightedClusters());
              default ->
                  throw new InvalidResourceException(
                      where + "unsupported cluster specifier " + ra.getClusterSpecifierCase());
            };
        if (ra.hasPathRewritePolicy()) {
          throw new InvalidResourceException(
              where + "path_rewrite_policy is not supported (prefix_rewrite or regex_rewrite)");
        }
        RegexRewrite regexRewrite = null;
        if (ra.hasRegexRewrite()) {
          if (!ra.getPrefixRewrite().isEmpty()) {
            throw new InvalidResourceException(
                where + "only one of prefix_rewrite and regex_rewrite may be set");
          }
          try {
            regexRewrite =
                RegexRewrite.compile(
                    ra.getRegexRewrite().getPattern().getRegex(),
                    ra.getRegexRewrite().getSubstitution());
          } catch (InvalidResourceException e) {
            throw new InvalidResourceException(where + "regex_rewrite: " + e.getMessage());
          }
        }
        if (ra.getHostRewriteSpecifierCase()
                != io.envoyproxy.envoy.config.route.v3.RouteAction.HostRewriteSpecifierCase
                    .HOST_REWRITE_LITERAL
            && ra.getHostRewriteSpecifierCase()
                != io.envoyproxy.envoy.config.route.v3.RouteAction.HostRewriteSpecifierCase
                    .HOSTREWRITESPECIFIER_NOT_SET) {
          throw new InvalidResourceException(where + "only host_rewrite_literal is supported");
        }
        String prefixRewrite = ra.getPrefixRewrite().isEmpty() ? null : ra.getPrefixRewrite();
        if (prefixRewrite != null && path.kind() == PathMatch.Kind.REGEX) {
          throw new InvalidResourceException(where + "prefix_rewrite needs a prefix or path match");
        }
        String hostRewrite =
            ra.getHostRewriteLiteral().isEmpty() ? null : ra.getHostRewriteLiteral();
        long timeout =
            ra.hasTimeout()
                ? ra.getTimeout().getSeconds() * 1000 + ra.getTimeout().getNanos() / 1_000_000
                : DEFAULT_ROUTE_TIMEOUT_MS;
        return new Route(
                r.getName(),
                path,
                headers,
                action,
                prefixRewrite,
                hostRewrite,
                timeout,
                mutation(where, r.getRequestHeadersToRemoveList(), r.getRequestHeadersToAddList()),
                mutation(
                    where, r.getResponseHeadersToRemoveList(), r.getResponseHeadersToAddList()),
                ra.hasRetryPolicy() ? RetryPolicy.compile(where, ra.getRetryPolicy()) : null,
                regexRewrite)
            .withMaxGrpcTimeout(maxGrpcTimeout(ra))
            .withHashPolicies(hashPolicies(where, ra.getHashPolicyList()));
      }
      case DIRECT_RESPONSE -> {
        int status = r.getDirectResponse().getStatus();
        if (status < 200 || status > 599) {
          throw new InvalidResourceException(
              where + "direct_response.status must be in [200, 600), got " + status);
        }
        var body = r.getDirectResponse().getBody();
        String text =
            body.hasInlineString()
                ? body.getInlineString()
                : body.hasInlineBytes() ? body.getInlineBytes().toStringUtf8() : "";
        if (body.hasFilename() || body.hasEnvironmentVariable()) {
          throw new InvalidResourceException(where + "direct_response.body must be inline");
        }
        return new Route(
            r.getName(),
            path,
            headers,
            new RouteAction.DirectResponse(status, text),
            null,
            null,
            0,
            HeaderMutation.NONE,
            mutation(where, r.getResponseHeadersToRemoveList(), r.getResponseHeadersToAddList()),
            null);
      }
      case REDIRECT -> {
        io.envoyproxy.envoy.config.route.v3.RedirectAction ra = r.getRedirect();
        if (ra.hasRegexRewrite()) {
          throw new InvalidResourceException(where + "redirect.regex_rewrite is not supported");
        }
        int status =
            switch (ra.getResponseCode()) {
              case MOVED_PERMANENTLY -> 301;
              case FOUND -> 302;
              case SEE_OTHER -> 303;
              case TEMPORARY_REDIRECT -> 307;
              case PERMANENT_REDIRECT -> 308;
              default ->
                  throw new InvalidResourceException(
                      where + "unsupported redirect response_code " + ra.getResponseCode());
            };
        String scheme =
            ra.hasHttpsRedirect() && ra.getHttpsRedirect()
                ? "https"
                : ra.getSchemeRedirect().isEmpty() ? null : ra.getSchemeRedirect().toLowerCase();
        String prefix = ra.getPrefixRewrite().isEmpty() ? null : ra.getPrefixRewrite();
        if (prefix != null && path.kind() == PathMatch.Kind.REGEX) {
          throw new InvalidResourceException(
              where + "redirect.prefix_rewrite needs a prefix or path match");
        }
        RouteAction.Redirect redirect =
            new RouteAction.Redirect(
                scheme,
                ra.getHostRedirect().isEmpty() ? null : ra.getHostRedirect(),
                ra.getPortRedirect(),
                ra.getPathRedirect().isEmpty() ? null : ra.getPathRedirect(),
                prefix,
                ra.getStripQuery(),
                status);
        return new Route(
            r.getName(),
            path,
            headers,
            redirect,
            null,
            null,
            0,
            HeaderMutation.NONE,
            mutation(where, r.getResponseHeadersToRemoveList(), r.getResponseHeadersToAddList()),
            null);
      }
      default ->
          throw new InvalidResourceException(
              where + "unsupported route action " + r.getActionCase());
    }
  }

  /**
   * Envoy's route {@code hash_policy}: header, cookie, source IP (connection properties) and query
   * parameter entries; filter state entries are rejected.
   */
  static HashPolicy[] hashPolicies(
      String where, List<io.envoyproxy.envoy.config.route.v3.RouteAction.HashPolicy> in)
      throws InvalidResourceException {
    HashPolicy[] out = new HashPolicy[in.size()];
    for (int i = 0; i < out.length; i++) {
      var h = in.get(i);
      boolean terminal = h.getTerminal();
      out[i] =
          switch (h.getPolicySpecifierCase()) {
            case HEADER -> {
              if (h.getHeader().hasRegexRewrite()) {
                throw new InvalidResourceException(
                    where + "hash_policy.header.regex_rewrite is not supported");
              }
              String name = h.getHeader().getHeaderName().toLowerCase(java.util.Locale.ROOT);
              if (name.isEmpty()) {
                throw new InvalidResourceException(where + "hash_policy.header needs header_name");
              }
              yield new HashPolicy.Header(name, terminal);
            }
            case COOKIE -> {
              var c = h.getCookie();
              if (c.getName().isEmpty()) {
                throw new InvalidResourceException(where + "hash_policy.cookie needs a name");
              }
              long ttl = -1;
              if (c.hasTtl()) {
                ttl = durationMillis(where + "hash_policy.cookie.ttl", c.getTtl()) / 1000;
              }
              yield new HashPolicy.Cookie(c.getName(), ttl, c.getPath(), terminal);
            }
            case CONNECTION_PROPERTIES -> new HashPolicy.SourceIp(terminal);
            case QUERY_PARAMETER -> {
              if (h.getQueryParameter().getName().isEmpty()) {
                throw new InvalidResourceException(
                    where + "hash_policy.query_parameter needs a name");
              }
              yield new HashPolicy.QueryParameter(h.getQueryParameter().getName(), terminal);
            }
            default ->
                throw new InvalidResourceException(
                    where + "hash_policy " + h.getPolicySpecifierCase() + " is not supported");
          };
    }
    return out;
  }

  private static HeaderMutation mutation(
      String where,
      List<String> remove,
      List<io.envoyproxy.envoy.config.core.v3.HeaderValueOption> add)
      throws InvalidResourceException {
    if (remove.isEmpty() && add.isEmpty()) {
      return HeaderMutation.NONE;
    }
    List<HeaderMutation.Op> ops = new ArrayList<>();
    for (String name : remove) {
      ops.add(new HeaderMutation.Op(HeaderMutation.Kind.REMOVE, name, null));
    }
    for (io.envoyproxy.envoy.config.core.v3.HeaderValueOption o : add) {
      String name = o.getHeader().getKey();
      String value = o.getHeader().getValue();
      if (name.isEmpty() || name.startsWith(":")) {
        throw new InvalidResourceException(where + "invalid header to add '" + name + "'");
      }
      if (value.replace("%%", "").indexOf('%') >= 0) {
        throw new InvalidResourceException(
            where + "header " + name + ": %FORMATTER% values are not supported");
      }
      value = value.replace("%%", "%");
      HeaderMutation.Kind kind;
      if (o.hasAppend()) {
        kind =
            o.getAppend().getValue() ? HeaderMutation.Kind.APPEND : HeaderMutation.Kind.OVERWRITE;
      } else {
        kind =
            switch (o.getAppendAction()) {
              case APPEND_IF_EXISTS_OR_ADD -> HeaderMutation.Kind.APPEND;
              case ADD_IF_ABSENT -> HeaderMutation.Kind.ADD_IF_ABSENT;
              case OVERWRITE_IF_EXISTS_OR_ADD -> HeaderMutation.Kind.OVERWRITE;
              case OVERWRITE_IF_EXISTS -> HeaderMutation.Kind.OVERWRITE_IF_EXISTS;
              default ->
                  throw new InvalidResourceException(
                      where + "header " + name + ": unsupported append_action");
            };
      }
      ops.add(new HeaderMutation.Op(kind, name, value));
    }
    return new HeaderMutation(ops);
  }

  private static RouteAction weighted(String where, WeightedCluster wc)
      throws InvalidResourceException {
    if (wc.getClustersCount() == 0) {
      throw new InvalidResourceException(where + "weighted_clusters has no clusters");
    }
    String[] names = new String[wc.getClustersCount()];
    int[] cumulative = new int[names.length];
    long sum = 0;
    for (int i = 0; i < names.length; i++) {
      WeightedCluster.ClusterWeight cw = wc.getClusters(i);
      if (cw.getName().isEmpty()) {
        throw new InvalidResourceException(where + "weighted cluster " + i + " has no name");
      }
      names[i] = cw.getName();
      sum += cw.getWeight().getValue();
      if (sum > Integer.MAX_VALUE) {
        throw new InvalidResourceException(where + "weights overflow");
      }
      cumulative[i] = (int) sum;
    }
    if (sum == 0) {
      throw new InvalidResourceException(where + "weighted_clusters: total weight is 0");
    }
    if (wc.hasTotalWeight() && wc.getTotalWeight().getValue() != sum) {
      throw new InvalidResourceException(
          where
              + "weighted_clusters: weights sum to "
              + sum
              + " but total_weight is "
              + wc.getTotalWeight().getValue());
    }
    return new RouteAction.Weighted(names, cumulative);
  }

  /**
   * Compiles an Envoy {@code HeaderMatcher} (routes, and filters such as RBAC that match headers
   * the same way); {@code where} prefixes error messages.
   */
  public static HeaderMatch header(String where, HeaderMatcher h) throws InvalidResourceException {
    String name = h.getName().toLowerCase(java.util.Locale.ROOT);
    if (name.isEmpty()) {
      throw new InvalidResourceException(where + "header matcher without a name");
    }
    boolean invert = h.getInvertMatch();
    try {
      return switch (h.getHeaderMatchSpecifierCase()) {
        case STRING_MATCH -> new HeaderMatch(name, string(h.getStringMatch()), false, invert);
        case EXACT_MATCH ->
            new HeaderMatch(
                name,
                new StringMatch(StringMatch.Kind.EXACT, h.getExactMatch(), false),
                false,
                invert);
        case PREFIX_MATCH ->
            new HeaderMatch(
                name,
                new StringMatch(StringMatch.Kind.PREFIX, h.getPrefixMatch(), false),
                false,
                invert);
        case SUFFIX_MATCH ->
            new HeaderMatch(
                name,
                new StringMatch(StringMatch.Kind.SUFFIX, h.getSuffixMatch(), false),
                false,
                invert);
        case CONTAINS_MATCH ->
            new HeaderMatch(
                name,
                new StringMatch(StringMatch.Kind.CONTAINS, h.getContainsMatch(), false),
                false,
                invert);
        case SAFE_REGEX_MATCH ->
            new HeaderMatch(
                name, StringMatch.regex(SafeRegex.compile(h.getSafeRegexMatch())), false, invert);
        case PRESENT_MATCH -> new HeaderMatch(name, null, h.getPresentMatch(), invert);
        // Envoy: with no specifier, the matcher checks that the header is present.
        case HEADERMATCHSPECIFIER_NOT_SET -> new HeaderMatch(name, null, true, invert);
        default ->
            throw new InvalidResourceException(
                where + "unsupported header matcher " + h.getHeaderMatchSpecifierCase());
      };
    } catch (InvalidResourceException e) {
      throw new InvalidResourceException(
          e.getMessage().startsWith(where) ? e.getMessage() : where + e.getMessage());
    }
  }

  /**
   * Envoy's {@code query_parameters} matcher, compiled as a {@link HeaderMatch} on the pseudo name
   * {@code ?name} (the router reads it from the raw, undecoded query string, as Envoy does).
   */
  private static HeaderMatch query(
      String where, io.envoyproxy.envoy.config.route.v3.QueryParameterMatcher q)
      throws InvalidResourceException {
    if (q.getName().isEmpty()) {
      throw new InvalidResourceException(where + "query parameter matcher without a name");
    }
    String name = "?" + q.getName();
    try {
      return switch (q.getQueryParameterMatchSpecifierCase()) {
        case STRING_MATCH -> new HeaderMatch(name, string(q.getStringMatch()), false, false);
        case PRESENT_MATCH -> new HeaderMatch(name, null, q.getPresentMatch(), false);
        default -> new HeaderMatch(name, null, true, false);
      };
    } catch (InvalidResourceException e) {
      throw new InvalidResourceException(where + e.getMessage());
    }
  }

  /**
   * Compiles an Envoy {@code StringMatcher} (regexes on RE2/J, as {@link SafeRegex}); also for
   * filters' configs, e.g. CORS origins.
   */
  public static StringMatch string(StringMatcher s) throws InvalidResourceException {
    boolean ic = s.getIgnoreCase();
    return switch (s.getMatchPatternCase()) {
      case EXACT -> new StringMatch(StringMatch.Kind.EXACT, s.getExact(), ic);
      case PREFIX -> new StringMatch(StringMatch.Kind.PREFIX, s.getPrefix(), ic);
      case SUFFIX -> new StringMatch(StringMatch.Kind.SUFFIX, s.getSuffix(), ic);
      case CONTAINS -> new StringMatch(StringMatch.Kind.CONTAINS, s.getContains(), ic);
      case SAFE_REGEX -> {
        if (ic) {
          // Envoy's StringMatcherImpl rejects this combination.
          throw new InvalidResourceException("ignore_case has no effect for safe_regex.");
        }
        yield StringMatch.regex(SafeRegex.compile(s.getSafeRegex()));
      }
      default ->
          throw new InvalidResourceException(
              "unsupported string matcher " + s.getMatchPatternCase());
    };
  }

  // ---------------------------------------------------------------- CDS / EDS

  /**
   * Compiles a cluster. STATIC clusters get their endpoints now; EDS clusters start empty and get
   * theirs from {@link #endpoints}. {@code previous} (the same-named cluster of the current
   * configuration, or null) lends its round-robin cursor.
   */
  public ClusterConfig cluster(Cluster c, ClusterConfig previous) throws InvalidResourceException {
    String name = c.getName();
    if (name.isEmpty()) {
      throw new InvalidResourceException("cluster without a name");
    }
    String where = "cluster " + name + ": ";
    if (c.getClusterDiscoveryTypeCase() != Cluster.ClusterDiscoveryTypeCase.TYPE) {
      throw new InvalidResourceException(where + "custom cluster_type is not supported");
    }
    ClusterPolicy policy = ClusterPolicies.compile(where, c);
    ClusterTransport transport = clusterTransport(where, c);
    UpstreamProtocol protocol = UpstreamProtocol.of(where, c);
    int timeout = DEFAULT_CONNECT_TIMEOUT_MS;
    if (c.hasConnectTimeout()) {
      long ms =
          c.getConnectTimeout().getSeconds() * 1000 + c.getConnectTimeout().getNanos() / 1_000_000;
      if (ms <= 0 || ms > Integer.MAX_VALUE) {
        throw new InvalidResourceException(where + "connect_timeout must be positive");
      }
      timeout = (int) ms;
    }
    dev.weft.proxy.upstream.ClusterState state =
        previous != null
            ? previous.state()
            : new dev.weft.proxy.upstream.ClusterState(name, scheduler, stats.cluster(name));
    switch (c.getType()) {
      case EDS -> {
        var eds = c.getEdsClusterConfig();
        if (eds.hasEdsConfig() && !eds.getEdsConfig().hasAds()) {
          throw new InvalidResourceException(where + "eds_config must be ads");
        }
        String service = eds.getServiceName().isEmpty() ? name : eds.getServiceName();
        return new ClusterConfig(
            name,
            "EDS",
            service,
            timeout,
            policy,
            List.of(),
            state,
            stats.cluster(name),
            transport,
            protocol);
      }
      case STATIC -> {
        // Envoy: a STATIC cluster without load_assignment has no hosts (Istio's BlackHoleCluster).
        List<Endpoint> endpoints =
            c.hasLoadAssignment()
                ? endpoints(name, where, c.getLoadAssignment(), transport, state)
                : List.of();
        return new ClusterConfig(
            name,
            "STATIC",
            null,
            timeout,
            policy,
            endpoints,
            state,
            stats.cluster(name),
            transport,
            protocol);
      }
      case STRICT_DNS, LOGICAL_DNS -> {
        // Host names stay unresolved: each connect resolves them off the event loop
        // (upstream.OffLoopResolver), so a slow or failing DNS never stalls the xDS client or an
        // event loop, and an unknown name fails that connection only (503 UF), as in Envoy.
        List<Endpoint> endpoints =
            c.hasLoadAssignment()
                ? dnsEndpoints(name, where, c.getLoadAssignment(), transport, state)
                : List.of();
        if (c.getType() == Cluster.DiscoveryType.LOGICAL_DNS && endpoints.size() > 1) {
          throw new InvalidResourceException(
              where
                  + "LOGICAL_DNS clusters must have a single locality_lb_endpoint and a single"
                  + " lb_endpoint");
        }
        String type = c.getType().name();
        return new ClusterConfig(
            name,
            type,
            null,
            timeout,
            policy,
            endpoints,
            state,
            stats.cluster(name),
            transport,
            protocol);
      }
      case ORIGINAL_DST -> {
        if (c.hasLoadAssignment()) {
          throw new InvalidResourceException(
              where + "ORIGINAL_DST clusters must have no load assignment configured");
        }
        String header = null;
        if (c.hasOriginalDstLbConfig() && c.getOriginalDstLbConfig().getUseHttpHeader()) {
          header = c.getOriginalDstLbConfig().getHttpHeaderName();
          if (header.isEmpty()) {
            header = "x-envoy-original-dst-host";
          }
          header = header.toLowerCase(java.util.Locale.ROOT);
        }
        var hosts =
            new OriginalDestinations(
                name,
                stats.host(name, java.net.InetSocketAddress.createUnresolved("original_dst", 0)),
                header);
        return new ClusterConfig(
            name,
            "ORIGINAL_DST",
            null,
            timeout,
            policy,
            List.of(),
            state,
            stats.cluster(name),
            transport,
            protocol,
            hosts);
      }
      default ->
          throw new InvalidResourceException(
              where
                  + "cluster type "
                  + c.getType()
                  + " is not supported (EDS, STATIC, STRICT_DNS, LOGICAL_DNS or ORIGINAL_DST)");
    }
  }

  /** The endpoints of a DNS cluster's load assignment: host names kept unresolved. */
  private List<Endpoint> dnsEndpoints(
      String cluster,
      String where,
      ClusterLoadAssignment cla,
      ClusterTransport transport,
      dev.weft.proxy.upstream.ClusterState state)
      throws InvalidResourceException {
    List<Endpoint> out = new ArrayList<>();
    for (LocalityLbEndpoints lle : cla.getEndpointsList()) {
      for (LbEndpoint le : lle.getLbEndpointsList()) {
        if (!le.hasEndpoint() || !le.getEndpoint().getAddress().hasSocketAddress()) {
          throw new InvalidResourceException(where + "endpoint without socket_address");
        }
        SocketAddress sa = le.getEndpoint().getAddress().getSocketAddress();
        if (sa.getPortSpecifierCase() != SocketAddress.PortSpecifierCase.PORT_VALUE
            || sa.getPortValue() <= 0
            || sa.getPortValue() > 65535) {
          throw new InvalidResourceException(where + "socket_address needs a valid port_value");
        }
        if (sa.getAddress().isEmpty()) {
          throw new InvalidResourceException(where + "socket_address.address is empty");
        }
        InetSocketAddress a = OriginalDestinations.parse(sa.getAddress() + ":" + sa.getPortValue());
        if (a == null) {
          a = InetSocketAddress.createUnresolved(sa.getAddress(), sa.getPortValue());
        }
        var md = le.getMetadata().getFilterMetadataMap().get(ClusterTransport.METADATA_KEY);
        TlsContext tls = transport.forEndpoint(md);
        out.add(
            new Endpoint(
                cluster,
                a,
                stats.host(cluster, a),
                tls,
                state.host(Endpoint.healthKey(cluster, a, tls)),
                lle.getPriority()));
      }
    }
    return List.copyOf(out);
  }

  /**
   * Envoy's {@code max_grpc_timeout} (deprecated, and what Istio sets) or its replacement {@code
   * max_stream_duration.grpc_timeout_header_max}, in milliseconds; -1 when neither is set.
   */
  @SuppressWarnings("deprecation")
  private static long maxGrpcTimeout(io.envoyproxy.envoy.config.route.v3.RouteAction ra) {
    com.google.protobuf.Duration d = null;
    if (ra.hasMaxStreamDuration() && ra.getMaxStreamDuration().hasGrpcTimeoutHeaderMax()) {
      d = ra.getMaxStreamDuration().getGrpcTimeoutHeaderMax();
    } else if (ra.hasMaxGrpcTimeout()) {
      d = ra.getMaxGrpcTimeout();
    }
    return d == null ? -1 : Math.max(0, d.getSeconds() * 1000 + d.getNanos() / 1_000_000);
  }

  /** Validates an SDS secret received over ADS (its PEM must load). */
  public io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret secret(
      io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret s)
      throws InvalidResourceException {
    try {
      dev.weft.proxy.tls.Secrets.validate(s);
    } catch (TlsConfigException e) {
      throw new InvalidResourceException(e.getMessage());
    }
    return s;
  }

  /** Validates a ClusterLoadAssignment; the endpoints are bound to clusters by {@link #build}. */
  public void validate(ClusterLoadAssignment cla) throws InvalidResourceException {
    if (cla.getClusterName().isEmpty()) {
      throw new InvalidResourceException("cluster load assignment without cluster_name");
    }
    endpoints(
        cla.getClusterName(),
        "endpoints " + cla.getClusterName() + ": ",
        cla,
        ClusterTransport.PLAINTEXT,
        null);
  }

  /**
   * The healthy endpoints of a load assignment, for cluster {@code cluster}, each with the
   * transport socket {@code transport} chooses by its {@code envoy.transport_socket_match}
   * metadata.
   */
  public List<Endpoint> endpoints(
      String cluster, String where, ClusterLoadAssignment cla, ClusterTransport transport)
      throws InvalidResourceException {
    return endpoints(cluster, where, cla, transport, null);
  }

  /** The same, each endpoint with its host state in {@code state} (null: a state of its own). */
  public List<Endpoint> endpoints(
      String cluster,
      String where,
      ClusterLoadAssignment cla,
      ClusterTransport transport,
      dev.weft.proxy.upstream.ClusterState state)
      throws InvalidResourceException {
    List<Endpoint> out = new ArrayList<>();
    for (LocalityLbEndpoints lle : cla.getEndpointsList()) {
      // Envoy's bound on priorities; contiguity is not required here (empty levels are skipped).
      if (lle.getPriority() > 127) {
        throw new InvalidResourceException(where + "priority " + lle.getPriority() + " > 127");
      }
      for (LbEndpoint le : lle.getLbEndpointsList()) {
        if (!le.hasEndpoint() || !le.getEndpoint().getAddress().hasSocketAddress()) {
          throw new InvalidResourceException(where + "endpoint without socket_address");
        }
        HealthStatus hs = le.getHealthStatus();
        if (hs == HealthStatus.UNHEALTHY
            || hs == HealthStatus.DRAINING
            || hs == HealthStatus.TIMEOUT) {
          continue;
        }
        InetSocketAddress a =
            socketAddress(where, le.getEndpoint().getAddress().getSocketAddress());
        var md = le.getMetadata().getFilterMetadataMap().get(ClusterTransport.METADATA_KEY);
        TlsContext tls = transport.forEndpoint(md);
        out.add(
            new Endpoint(
                cluster,
                a,
                stats.host(cluster, a),
                tls,
                state == null
                    ? new dev.weft.proxy.upstream.HostHealth()
                    : state.host(Endpoint.healthKey(cluster, a, tls)),
                lle.getPriority()));
      }
    }
    return List.copyOf(out);
  }

  /**
   * Builds the runtime configuration from validated pieces: EDS clusters get the endpoints of their
   * load assignment (none yet if EDS has not delivered it: such a cluster answers UH).
   */
  public RuntimeConfig build(
      Map<String, ListenerConfig> listeners,
      Map<String, RouteTable> routes,
      Map<String, ClusterConfig> clusters,
      Map<String, ClusterLoadAssignment> assignments) {
    Map<String, ClusterConfig> out = new HashMap<>();
    for (ClusterConfig c : clusters.values()) {
      if (c.type().equals("EDS")) {
        ClusterLoadAssignment cla = assignments.get(c.edsServiceName());
        List<Endpoint> eps = List.of();
        if (cla != null) {
          try {
            eps =
                endpoints(
                    c.name(),
                    "endpoints " + c.edsServiceName() + ": ",
                    cla,
                    c.transport(),
                    c.state());
          } catch (InvalidResourceException e) {
            // validated on arrival; cannot happen
          }
        }
        out.put(c.name(), c.withEndpoints(eps));
      } else {
        out.put(c.name(), c);
      }
    }
    // Each cluster's state learns its new version (host set, outlier sweeps) before event loops
    // can see it; the states of clusters that left stop their sweeps.
    java.util.Set<dev.weft.proxy.upstream.ClusterState> live = new java.util.HashSet<>();
    for (ClusterConfig c : out.values()) {
      c.state().publish(c);
      live.add(c.state());
    }
    for (dev.weft.proxy.upstream.ClusterState old : published) {
      if (!live.contains(old)) {
        old.retire();
      }
    }
    published = live;
    return new RuntimeConfig(listeners, routes, out);
  }

  private static InetSocketAddress socketAddress(String where, SocketAddress sa)
      throws InvalidResourceException {
    if (sa.getProtocol() != SocketAddress.Protocol.TCP) {
      throw new InvalidResourceException(where + "only TCP socket addresses are supported");
    }
    if (sa.getPortSpecifierCase() != SocketAddress.PortSpecifierCase.PORT_VALUE) {
      throw new InvalidResourceException(where + "socket_address needs port_value");
    }
    int port = sa.getPortValue();
    if (port < 0 || port > 65535) {
      throw new InvalidResourceException(where + "invalid port " + port);
    }
    if (sa.getAddress().isEmpty()) {
      throw new InvalidResourceException(where + "socket_address.address is empty");
    }
    try {
      return new InetSocketAddress(InetAddress.getByName(sa.getAddress()), port);
    } catch (UnknownHostException e) {
      throw new InvalidResourceException(where + "cannot resolve address " + sa.getAddress());
    }
  }

  private static <T extends com.google.protobuf.Message> T unpack(
      String where, Any any, Class<T> type) throws InvalidResourceException {
    try {
      return any.unpack(type);
    } catch (InvalidProtocolBufferException e) {
      throw new InvalidResourceException(
          where + "typed_config is not a " + type.getSimpleName() + ": " + any.getTypeUrl());
    }
  }
}
