package dev.weft.proxy.xds.resource;

import dev.weft.proxy.config.AnyType;
import dev.weft.proxy.config.CidrRange;
import dev.weft.proxy.config.ConnectionLimitConfig;
import dev.weft.proxy.config.FilterChainConfig;
import dev.weft.proxy.config.FilterChainMatch;
import dev.weft.proxy.config.InvalidResourceException;
import dev.weft.proxy.config.ListenerConfig;
import dev.weft.proxy.config.ListenerFilters;
import dev.weft.proxy.config.TcpProxyConfig;
import dev.weft.proxy.filters.rbac.NetworkRbac;
import dev.weft.proxy.filters.rbac.RbacEngine;
import dev.weft.proxy.tls.TlsContext;
import dev.weft.xds.TypeUrls;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.filters.network.connection_limit.v3.ConnectionLimit;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * Parses an xDS {@code Listener} (LDS) into a {@link ListenerConfig}: its address, listener filters
 * (the TLS and HTTP inspectors, their timeout), filter chains and the default chain with their
 * {@code filter_chain_match}, downstream TLS and network filters (connection limit, network RBAC,
 * then an HTTP connection manager, parsed by {@link HttpConnectionManagerParser}, or a TCP proxy).
 * As grpc-java's {@code XdsListenerResource}: one class per resource type. Supports exactly the
 * subset of Envoy's API that Weft's control plane generates; anything else is an {@link
 * InvalidResourceException} naming the listener and the field, so that the update is NACKed instead
 * of being half understood.
 */
public final class ListenerParser {
  private static final AnyType<TcpProxy> TCP_PROXY =
      AnyType.of(TcpProxy::getDescriptor, TcpProxy.parser());
  private static final AnyType<HttpConnectionManager> HTTP_CONNECTION_MANAGER =
      AnyType.of(HttpConnectionManager::getDescriptor, HttpConnectionManager.parser());
  private static final AnyType<io.envoyproxy.envoy.extensions.filters.network.rbac.v3.RBAC>
      NETWORK_RBAC =
          AnyType.of(
              io.envoyproxy.envoy.extensions.filters.network.rbac.v3.RBAC::getDescriptor,
              io.envoyproxy.envoy.extensions.filters.network.rbac.v3.RBAC.parser());
  private static final AnyType<ConnectionLimit> CONNECTION_LIMIT =
      AnyType.of(ConnectionLimit::getDescriptor, ConnectionLimit.parser());

  static final String HCM_FILTER = "envoy.filters.network.http_connection_manager";
  static final String TCP_PROXY_FILTER = "envoy.filters.network.tcp_proxy";
  static final String CONNECTION_LIMIT_FILTER = "envoy.filters.network.connection_limit";
  static final String NETWORK_RBAC_FILTER = "envoy.filters.network.rbac";
  static final String NETWORK_RBAC_TYPE =
      "type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC";
  static final String CONNECTION_LIMIT_TYPE =
      "type.googleapis.com/envoy.extensions.filters.network.connection_limit.v3.ConnectionLimit";
  static final String TLS_INSPECTOR = "envoy.filters.listener.tls_inspector";
  static final String TLS_INSPECTOR_TYPE =
      "type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector";
  static final String HTTP_INSPECTOR = "envoy.filters.listener.http_inspector";
  static final String HTTP_INSPECTOR_TYPE =
      "type.googleapis.com/envoy.extensions.filters.listener.http_inspector.v3.HttpInspector";

  private ListenerParser() {}

  /**
   * Parses a listener into its complete, immutable {@link ListenerConfig}; the route configuration
   * named by an RDS reference is resolved later. Errors name the listener and the field; an
   * unexpected failure is an error naming the listener too (never an exception of another kind).
   */
  public static ListenerConfig parse(Listener l, ParseContext ctx) throws InvalidResourceException {
    return ProtoValues.guarded("listener " + l.getName() + ": ", () -> parseListener(l, ctx));
  }

  /** {@link #parse} without the guard. */
  private static ListenerConfig parseListener(Listener l, ParseContext ctx)
      throws InvalidResourceException {
    String name = l.getName();
    if (name.isEmpty()) {
      throw new InvalidResourceException("listener without a name");
    }
    String where = "listener " + name + ": ";
    if (!l.getAddress().hasSocketAddress()) {
      throw new InvalidResourceException(where + "address.socket_address is required");
    }
    InetSocketAddress address = ProtoValues.socketAddress(where, l.getAddress().getSocketAddress());
    boolean inspector = false;
    boolean httpInspector = false;
    for (io.envoyproxy.envoy.config.listener.v3.ListenerFilter lf : l.getListenerFiltersList()) {
      if (lf.getName().equals(TLS_INSPECTOR)
          || lf.getTypedConfig().getTypeUrl().equals(TLS_INSPECTOR_TYPE)) {
        inspector = true;
      } else if (lf.getName().equals(HTTP_INSPECTOR)
          || lf.getTypedConfig().getTypeUrl().equals(HTTP_INSPECTOR_TYPE)) {
        httpInspector = true;
      } else {
        throw new InvalidResourceException(
            where
                + "listener filter '"
                + lf.getName()
                + "' is not supported (only "
                + TLS_INSPECTOR
                + " and "
                + HTTP_INSPECTOR
                + ")");
      }
    }
    long filtersTimeout =
        l.hasListenerFiltersTimeout()
            ? ProtoValues.durationMillis(
                where + "listener_filters_timeout", l.getListenerFiltersTimeout())
            : ListenerFilters.DEFAULT_TIMEOUT_MILLIS;
    // Envoy's tracing operation: egress (CLIENT spans) on an OUTBOUND listener of a sidecar.
    boolean clientSpans =
        !ctx.router()
            && l.getTrafficDirection()
                == io.envoyproxy.envoy.config.core.v3.TrafficDirection.OUTBOUND;
    FilterChainConfig defaultChain = null;
    if (l.hasDefaultFilterChain()) {
      if (l.getDefaultFilterChain().hasFilterChainMatch()) {
        throw new InvalidResourceException(
            where + "default_filter_chain: filter_chain_match is not allowed");
      }
      defaultChain =
          filterChain(
              where + "default_filter_chain: ", name, l.getDefaultFilterChain(), clientSpans, ctx);
    }
    if (l.getFilterChainsCount() < 1 && defaultChain == null) {
      throw new InvalidResourceException(where + "at least one filter chain is required");
    }
    List<FilterChainConfig> chains = new ArrayList<>(l.getFilterChainsCount());
    for (FilterChain chain : l.getFilterChainsList()) {
      FilterChainConfig c = filterChain(where, name, chain, clientSpans, ctx);
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
        ctx.stats().listener(name),
        inspector,
        l.getTrafficDirection() == io.envoyproxy.envoy.config.core.v3.TrafficDirection.INBOUND,
        new ListenerFilters(httpInspector, filtersTimeout, l.getContinueOnListenerFiltersTimeout()),
        defaultChain);
  }

  /**
   * Envoy's {@code filter_chain_match} (every field but the unimplemented {@code address_suffix}
   * and {@code suffix_len}, which Envoy ignores too). A CIDR range without {@code prefix_len} is
   * {@code /0} (Envoy's {@code CidrRange} default).
   */
  private static FilterChainMatch chainMatch(
      String where, io.envoyproxy.envoy.config.listener.v3.FilterChainMatch m)
      throws InvalidResourceException {
    String w = where + "filter_chain_match: ";
    if (!m.getAddressSuffix().isEmpty() || m.hasSuffixLen()) {
      throw new InvalidResourceException(w + "address_suffix and suffix_len are not supported");
    }
    String tp = m.getTransportProtocol();
    if (!tp.isEmpty() && !tp.equals("tls") && !tp.equals("raw_buffer")) {
      throw new InvalidResourceException(w + "unknown transport_protocol '" + tp + "'");
    }
    int port = m.hasDestinationPort() ? m.getDestinationPort().getValue() : 0;
    if (port < 0 || port > 65535) {
      throw new InvalidResourceException(w + "invalid destination_port");
    }
    List<String> names = new ArrayList<>();
    for (String n : m.getServerNamesList()) {
      names.add(n.toLowerCase(java.util.Locale.ROOT));
    }
    List<Integer> sourcePorts = new ArrayList<>();
    for (int p : m.getSourcePortsList()) {
      if (p < 1 || p > 65535) {
        throw new InvalidResourceException(w + "source_ports: invalid port " + (p & 0xffffffffL));
      }
      sourcePorts.add(p);
    }
    FilterChainMatch.SourceType sourceType =
        switch (m.getSourceType()) {
          case ANY -> FilterChainMatch.SourceType.ANY;
          case SAME_IP_OR_LOOPBACK -> FilterChainMatch.SourceType.SAME_IP_OR_LOOPBACK;
          case EXTERNAL -> FilterChainMatch.SourceType.EXTERNAL;
          default ->
              throw new InvalidResourceException(w + "unknown source_type " + m.getSourceType());
        };
    return FilterChainMatch.builder()
        .destinationPort(port)
        .prefixRanges(ranges(w + "prefix_ranges: ", m.getPrefixRangesList()))
        .serverNames(names)
        .transportProtocol(tp)
        .applicationProtocols(m.getApplicationProtocolsList())
        .directSourcePrefixRanges(
            ranges(w + "direct_source_prefix_ranges: ", m.getDirectSourcePrefixRangesList()))
        .sourceType(sourceType)
        .sourcePrefixRanges(ranges(w + "source_prefix_ranges: ", m.getSourcePrefixRangesList()))
        .sourcePorts(sourcePorts)
        .build();
  }

  private static List<CidrRange> ranges(
      String where, List<io.envoyproxy.envoy.config.core.v3.CidrRange> in)
      throws InvalidResourceException {
    List<CidrRange> out = new ArrayList<>(in.size());
    for (io.envoyproxy.envoy.config.core.v3.CidrRange r : in) {
      try {
        out.add(
            CidrRange.of(r.getAddressPrefix(), r.hasPrefixLen() ? r.getPrefixLen().getValue() : 0));
      } catch (IllegalArgumentException e) {
        throw new InvalidResourceException(where + e.getMessage());
      }
    }
    return out;
  }

  private static FilterChainConfig filterChain(
      String where, String listenerName, FilterChain chain, boolean clientSpans, ParseContext ctx)
      throws InvalidResourceException {
    FilterChainMatch match =
        chain.hasFilterChainMatch()
            ? chainMatch(where, chain.getFilterChainMatch())
            : FilterChainMatch.ANY;
    TlsContext tls =
        chain.hasTransportSocket()
            ? ctx.tlsContexts().downstream(where, listenerName, chain.getTransportSocket())
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
    dev.weft.proxy.stats.MetricOverrides tcpMetrics = null;
    for (int i = 0; i < n - 1; i++) {
      Filter f = chain.getFilters(i);
      if (dev.weft.proxy.config.IstioStats.is(f)) {
        // Istio's istio.stats network filter: the Telemetry API's overrides of istio_tcp_*.
        tcpMetrics = dev.weft.proxy.config.IstioStats.compile(where, f);
      } else if (f.getName().equals(NETWORK_RBAC_FILTER)
          || f.getTypedConfig().getTypeUrl().equals(NETWORK_RBAC_TYPE)) {
        rbac.add(networkRbac(where, f, ctx));
      } else if (limit == null) {
        limit = connectionLimit(where, f, ctx);
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
          tcpProxy(where, ProtoValues.unpack(where, filter.getTypedConfig(), TCP_PROXY), ctx)
              .withMetrics(tcpMetrics),
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
    HttpConnectionManager hcm =
        ProtoValues.unpack(where, filter.getTypedConfig(), HTTP_CONNECTION_MANAGER);
    return new FilterChainConfig(
        chain.getName(),
        match,
        HttpConnectionManagerParser.parse(where, listenerName, hcm, clientSpans, ctx),
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
  private static TcpProxyConfig tcpProxy(String where, TcpProxy t, ParseContext ctx)
      throws InvalidResourceException {
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
          if (cw.getWeight() > Integer.MAX_VALUE - total) {
            throw new InvalidResourceException(
                w + "weighted_clusters: the weights sum to more than " + Integer.MAX_VALUE);
          }
          total += cw.getWeight();
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
            ? ProtoValues.durationMillis(w + "idle_timeout", t.getIdleTimeout())
            : TcpProxyConfig.DEFAULT_IDLE_TIMEOUT_MILLIS;
    return new TcpProxyConfig(
        t.getStatPrefix(), clusters, total, idle, ctx.stats().tcpProxy(t.getStatPrefix()));
  }

  /**
   * Compiles {@code envoy.filters.network.rbac}: {@code stat_prefix}, {@code rules} (absent: no
   * enforcement) and {@code shadow_rules}; a matcher Weft cannot evaluate is a NACK.
   */
  private static NetworkRbac networkRbac(String where, Filter filter, ParseContext ctx)
      throws InvalidResourceException {
    io.envoyproxy.envoy.extensions.filters.network.rbac.v3.RBAC r =
        ProtoValues.unpack(where, filter.getTypedConfig(), NETWORK_RBAC);
    String w = where + NETWORK_RBAC_FILTER + ": ";
    if (r.hasMatcher() || r.hasShadowMatcher()) {
      throw new InvalidResourceException(w + "matcher and shadow_matcher are not supported");
    }
    try {
      RbacEngine rules = r.hasRules() ? RbacEngine.compile(r.getRules()) : null;
      RbacEngine shadow = r.hasShadowRules() ? RbacEngine.compile(r.getShadowRules()) : null;
      return new NetworkRbac(
          r.getStatPrefix(), rules, shadow, ctx.stats().networkRbac(r.getStatPrefix()));
    } catch (InvalidResourceException e) {
      throw new InvalidResourceException(w + e.getMessage());
    }
  }

  /**
   * Compiles {@code envoy.filters.network.connection_limit}; a limit its {@code runtime_enabled}
   * turns off by default is no limit (Weft has no runtime to turn it on).
   */
  private static ConnectionLimitConfig connectionLimit(
      String where, Filter filter, ParseContext ctx) throws InvalidResourceException {
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
    ConnectionLimit cl = ProtoValues.unpack(where, filter.getTypedConfig(), CONNECTION_LIMIT);
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
    long delay = cl.hasDelay() ? ProtoValues.durationMillis(w + "delay", cl.getDelay()) : 0;
    return new ConnectionLimitConfig(
        cl.getStatPrefix(),
        cl.getMaxConnections().getValue(),
        delay,
        ctx.stats().connectionLimit(cl.getStatPrefix()));
  }
}
