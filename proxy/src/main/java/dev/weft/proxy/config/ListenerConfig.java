package dev.weft.proxy.config;

import dev.weft.proxy.stats.ListenerStats;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * A compiled listener: where it binds and its filter chains, one of which each accepted connection
 * uses (chosen by {@code dev.weft.proxy.listener.FilterChainSelector}).
 *
 * @param name Istio's listener name, e.g. {@code 127.0.1.2_15001}
 * @param address the address to bind
 * @param filterChains the filter chains, in configuration order (at least one)
 * @param stats the listener's counters
 * @param tlsInspector whether new connections first go through the TLS inspector ({@code
 *     envoy.filters.listener.tls_inspector}, configured or, as Envoy does, implied by a chain that
 *     matches on server names, {@code transport_protocol: tls} or application protocols)
 * @param inbound whether its {@code traffic_direction} is {@code INBOUND}: Envoy's {@code
 *     /drain_listeners?inboundonly} (what Istio's agent calls on termination) drains only these
 * @param listenerFilters the HTTP inspector and the listener filters' timeout
 * @param defaultFilterChain Envoy's {@code default_filter_chain}: the chain of a connection no
 *     filter chain matches (Istio's TCP fall-through of a sniffed port), or null (closed)
 */
public record ListenerConfig(
    String name,
    InetSocketAddress address,
    List<FilterChainConfig> filterChains,
    ListenerStats stats,
    boolean tlsInspector,
    boolean inbound,
    ListenerFilters listenerFilters,
    FilterChainConfig defaultFilterChain) {

  public ListenerConfig {
    filterChains = List.copyOf(filterChains);
  }

  /** A listener without the HTTP inspector, with Envoy's default listener filters timeout. */
  public ListenerConfig(
      String name,
      InetSocketAddress address,
      List<FilterChainConfig> filterChains,
      ListenerStats stats,
      boolean tlsInspector,
      boolean inbound) {
    this(name, address, filterChains, stats, tlsInspector, inbound, ListenerFilters.DEFAULT, null);
  }

  /** A listener whose traffic direction is not inbound. */
  public ListenerConfig(
      String name,
      InetSocketAddress address,
      List<FilterChainConfig> filterChains,
      ListenerStats stats,
      boolean tlsInspector) {
    this(name, address, filterChains, stats, tlsInspector, false);
  }

  /** A listener without the TLS inspector. */
  public ListenerConfig(
      String name,
      InetSocketAddress address,
      List<FilterChainConfig> filterChains,
      ListenerStats stats) {
    this(name, address, filterChains, stats, false);
  }

  /** The SDS secrets its chains take from ADS. */
  public List<String> adsSecretNames() {
    List<String> names = new ArrayList<>(0);
    for (FilterChainConfig c : allChains()) {
      if (c.tls() != null) {
        names.addAll(c.tls().adsSecretNames());
      }
    }
    return names;
  }

  /** The route configurations its connection managers fetch over RDS. */
  public List<String> rdsNames() {
    List<String> names = new ArrayList<>(1);
    for (FilterChainConfig c : allChains()) {
      String rds = c.networkFilter().rdsName();
      if (rds != null) {
        names.add(rds);
      }
    }
    return names;
  }

  /** The filter chains and the default chain, if any. */
  public List<FilterChainConfig> allChains() {
    if (defaultFilterChain == null) {
      return filterChains;
    }
    List<FilterChainConfig> all = new ArrayList<>(filterChains);
    all.add(defaultFilterChain);
    return all;
  }

  /** Whether a change from {@code other} to this needs the socket to be rebound. */
  public boolean sameSocket(ListenerConfig other) {
    return other != null && address.equals(other.address);
  }
}
