package dev.weft.proxy.config;

import java.util.Map;

/**
 * Everything the data plane reads per request, compiled from the xDS resources the proxy accepted.
 * Immutable; the xDS client publishes a new one through a volatile reference and event loops read
 * the current one once per request.
 *
 * @param listeners by listener name
 * @param routes route configurations from RDS, by name
 * @param clusters by cluster name, with their endpoints
 */
public record RuntimeConfig(
    Map<String, ListenerConfig> listeners,
    Map<String, RouteTable> routes,
    Map<String, ClusterConfig> clusters) {

  public static final RuntimeConfig EMPTY = new RuntimeConfig(Map.of(), Map.of(), Map.of());

  public RuntimeConfig {
    listeners = Map.copyOf(listeners);
    routes = Map.copyOf(routes);
    clusters = Map.copyOf(clusters);
  }
}
