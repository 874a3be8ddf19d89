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
 */
public record ListenerConfig(
    String name,
    InetSocketAddress address,
    List<FilterChainConfig> filterChains,
    ListenerStats stats) {

  public ListenerConfig {
    filterChains = List.copyOf(filterChains);
  }

  /** The route configurations its connection managers fetch over RDS. */
  public List<String> rdsNames() {
    List<String> names = new ArrayList<>(1);
    for (FilterChainConfig c : filterChains) {
      if (c.networkFilter() instanceof HttpConnectionManagerConfig h && h.rdsName() != null) {
        names.add(h.rdsName());
      }
    }
    return names;
  }

  /** Whether a change from {@code other} to this needs the socket to be rebound. */
  public boolean sameSocket(ListenerConfig other) {
    return other != null && address.equals(other.address);
  }
}
