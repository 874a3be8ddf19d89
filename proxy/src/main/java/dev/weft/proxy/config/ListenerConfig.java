package dev.weft.proxy.config;

import dev.weft.proxy.stats.ListenerStats;
import java.net.InetSocketAddress;

/**
 * A compiled listener: where it binds and where its HTTP connection manager gets routes from.
 * Exactly one of {@code rdsName} and {@code inlineRoutes} is set.
 *
 * @param name Istio's listener name, e.g. {@code 127.0.1.2_15001}
 * @param address the address to bind
 * @param statPrefix the connection manager's {@code stat_prefix}
 * @param rdsName the route configuration to fetch over RDS, or null
 * @param inlineRoutes the connection manager's inline {@code route_config}, or null
 * @param stats the listener's counters
 * @param serverName the {@code server} response header value, or null to pass the upstream's
 *     through (Envoy's {@code server_name}, default "envoy", and {@code
 *     server_header_transformation})
 * @param serverOnlyIfAbsent {@code APPEND_IF_ABSENT}: set {@code server} only when the upstream did
 *     not
 */
public record ListenerConfig(
    String name,
    InetSocketAddress address,
    String statPrefix,
    String rdsName,
    RouteTable inlineRoutes,
    ListenerStats stats,
    String serverName,
    boolean serverOnlyIfAbsent) {

  /** The routes this listener uses in {@code config}, or null when RDS has not delivered them. */
  public RouteTable routes(RuntimeConfig config) {
    return inlineRoutes != null ? inlineRoutes : config.routes().get(rdsName);
  }

  /** Whether a change from {@code other} to this needs the socket to be rebound. */
  public boolean sameSocket(ListenerConfig other) {
    return other != null && address.equals(other.address);
  }
}
