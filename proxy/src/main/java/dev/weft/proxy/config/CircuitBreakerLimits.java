package dev.weft.proxy.config;

/**
 * Envoy's {@code circuit_breakers.thresholds} (priority DEFAULT) of a cluster: limits counted
 * across the whole cluster (every host, every event loop). A request beyond them is answered 503
 * with the response flag {@code UO} (a retry beyond {@code maxRetries} is not made).
 *
 * @param maxConnections {@code max_connections}: upstream connections (Envoy's default 1024)
 * @param maxPendingRequests {@code max_pending_requests}: requests waiting for a connection
 * @param maxRequests {@code max_requests}: requests in flight
 * @param maxRetries {@code max_retries}: retries waiting to be sent (Envoy's default 3)
 */
public record CircuitBreakerLimits(
    long maxConnections, long maxPendingRequests, long maxRequests, long maxRetries) {
  /** Envoy's defaults when a cluster has no {@code circuit_breakers}. */
  public static final CircuitBreakerLimits ENVOY_DEFAULTS =
      new CircuitBreakerLimits(1024, 1024, 1024, 3);
}
