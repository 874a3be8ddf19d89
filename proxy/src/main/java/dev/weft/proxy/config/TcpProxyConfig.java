package dev.weft.proxy.config;

import dev.weft.proxy.stats.TcpProxyStats;
import java.util.List;

/**
 * A compiled {@code envoy.filters.network.tcp_proxy}: every connection of its chain is relayed byte
 * for byte to one endpoint of a cluster, chosen once per connection (a single {@code cluster}, or
 * by weight among {@code weighted_clusters}).
 *
 * @param statPrefix Envoy's {@code stat_prefix} (required): counters are {@code tcp.<prefix>.*}
 * @param clusters the destination clusters with their weights (one entry of weight 1 for {@code
 *     cluster})
 * @param totalWeight the sum of the weights (at least 1)
 * @param idleTimeoutMillis Envoy's {@code idle_timeout}: the connection is closed when no byte went
 *     either way for this long; default 1 h, 0 disables it
 * @param stats the {@code tcp.<stat_prefix>} counters
 * @param metrics the Telemetry API's overrides of Istio's TCP metrics (the chain's {@code
 *     istio.stats} network filter before the TCP proxy), or null
 */
public record TcpProxyConfig(
    String statPrefix,
    List<WeightedCluster> clusters,
    int totalWeight,
    long idleTimeoutMillis,
    TcpProxyStats stats,
    dev.weft.proxy.stats.MetricOverrides metrics)
    implements NetworkFilterConfig {

  /** Envoy's default {@code idle_timeout}. */
  public static final long DEFAULT_IDLE_TIMEOUT_MILLIS = 3_600_000;

  /** A destination cluster and its weight. */
  public record WeightedCluster(String name, int weight) {}

  public TcpProxyConfig {
    clusters = List.copyOf(clusters);
  }

  /** A TCP proxy without metric overrides. */
  public TcpProxyConfig(
      String statPrefix,
      List<WeightedCluster> clusters,
      int totalWeight,
      long idleTimeoutMillis,
      TcpProxyStats stats) {
    this(statPrefix, clusters, totalWeight, idleTimeoutMillis, stats, null);
  }

  /** This TCP proxy with the chain's {@code istio.stats} overrides. */
  public TcpProxyConfig withMetrics(dev.weft.proxy.stats.MetricOverrides m) {
    return new TcpProxyConfig(statPrefix, clusters, totalWeight, idleTimeoutMillis, stats, m);
  }

  /** The cluster for a draw {@code r} in {@code [0, totalWeight)}. */
  public String cluster(int r) {
    if (clusters.size() == 1) {
      return clusters.get(0).name();
    }
    int acc = 0;
    for (WeightedCluster c : clusters) {
      acc += c.weight();
      if (r < acc) {
        return c.name();
      }
    }
    return clusters.get(clusters.size() - 1).name();
  }
}
