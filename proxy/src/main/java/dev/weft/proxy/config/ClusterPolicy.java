package dev.weft.proxy.config;

/**
 * How a cluster balances and limits its traffic: the compiled form of Envoy's {@code lb_policy},
 * {@code ring_hash_lb_config}, {@code maglev_lb_config}, {@code least_request_lb_config}, {@code
 * common_lb_config.healthy_panic_threshold}, {@code circuit_breakers}, {@code outlier_detection},
 * the HTTP protocol options' {@code max_requests_per_connection} and {@code idle_timeout}, and
 * {@code upstream_connection_options.tcp_keepalive}.
 *
 * @param lb the load balancing policy
 * @param choiceCount LEAST_REQUEST's {@code choice_count} (default 2)
 * @param minimumRingSize RING_HASH's {@code minimum_ring_size} (default 1024)
 * @param maximumRingSize RING_HASH's {@code maximum_ring_size} (default 8M)
 * @param maglevTableSize MAGLEV's {@code table_size} (a prime, default 65537)
 * @param panicThresholdPercent {@code healthy_panic_threshold} (default 50): below this share of
 *     healthy (not ejected) hosts the cluster balances over all its hosts; 0 disables panic mode
 * @param limits the circuit breakers
 * @param outlier outlier detection, or null when the cluster has none
 * @param maxRequestsPerConnection requests after which an upstream connection is closed; 0 for no
 *     limit
 * @param idleTimeoutMillis how long a pooled connection may stay idle (Envoy's default 1 h)
 * @param keepalive TCP keepalive of upstream connections, or null for none
 * @param localityWeighted {@code common_lb_config.locality_weighted_lb_config}: hosts are picked in
 *     a locality chosen by its {@code load_balancing_weight} (for ROUND_ROBIN, LEAST_REQUEST and
 *     RANDOM)
 * @param slowStart the slow start of ROUND_ROBIN and LEAST_REQUEST, or null for none
 */
public record ClusterPolicy(
    LbPolicy lb,
    int choiceCount,
    long minimumRingSize,
    long maximumRingSize,
    int maglevTableSize,
    double panicThresholdPercent,
    CircuitBreakerLimits limits,
    OutlierConfig outlier,
    long maxRequestsPerConnection,
    long idleTimeoutMillis,
    TcpKeepalive keepalive,
    boolean localityWeighted,
    SlowStart slowStart) {

  /** Envoy's defaults for a round-robin cluster. */
  public static final ClusterPolicy DEFAULT =
      new ClusterPolicy(
          LbPolicy.ROUND_ROBIN,
          2,
          1024,
          8 * 1024 * 1024,
          65537,
          50,
          CircuitBreakerLimits.ENVOY_DEFAULTS,
          null,
          0,
          3_600_000,
          null,
          false,
          null);

  /** This policy with another load balancer. */
  public ClusterPolicy withLb(LbPolicy newLb) {
    return new ClusterPolicy(
        newLb,
        choiceCount,
        minimumRingSize,
        maximumRingSize,
        maglevTableSize,
        panicThresholdPercent,
        limits,
        outlier,
        maxRequestsPerConnection,
        idleTimeoutMillis,
        keepalive,
        localityWeighted,
        slowStart);
  }
}
