package dev.weft.api.networking;

import java.util.Map;

/**
 * Istio's TrafficPolicy. Fields are kept as validated documents until the issue that implements
 * them gives them types; null when absent.
 *
 * @param loadBalancer load balancer settings, or null
 * @param connectionPool connection pool settings, or null
 * @param outlierDetection outlier detection settings, or null
 * @param tls client TLS settings, or null
 */
public record TrafficPolicy(
    Map<String, Object> loadBalancer,
    Map<String, Object> connectionPool,
    Map<String, Object> outlierDetection,
    Map<String, Object> tls) {}
