package dev.weft.api.networking;

import java.util.List;
import java.util.Map;

/**
 * Istio's TrafficPolicy. Fields are kept as validated documents until the issue that implements
 * them gives them types; null when absent.
 *
 * @param loadBalancer load balancer settings, or null
 * @param connectionPool connection pool settings, or null
 * @param outlierDetection outlier detection settings, or null
 * @param tls client TLS settings, or null
 * @param portLevelSettings per-port policies ({@code port: {number}} plus the four fields above),
 *     as validated documents; never null
 * @param tunnel tunnel settings, or null
 * @param proxyProtocol PROXY protocol settings, or null
 */
public record TrafficPolicy(
    Map<String, Object> loadBalancer,
    Map<String, Object> connectionPool,
    Map<String, Object> outlierDetection,
    Map<String, Object> tls,
    List<Map<String, Object>> portLevelSettings,
    Map<String, Object> tunnel,
    Map<String, Object> proxyProtocol) {}
