package dev.weft.proxy.config;

/**
 * Envoy's {@code Cluster.outlier_detection} (consecutive-error detection; success-rate and
 * failure-percentage detection are not implemented and must be disabled, as Istio emits them).
 * Defaults are Envoy's ({@code outlier_detection_impl.h}).
 *
 * @param consecutive5xx {@code consecutive_5xx} (default 5)
 * @param consecutiveGatewayFailure {@code consecutive_gateway_failure} (default 5)
 * @param consecutiveLocalOriginFailure {@code consecutive_local_origin_failure} (default 5)
 * @param enforcing5xx {@code enforcing_consecutive_5xx}, a percentage (default 100)
 * @param enforcingGatewayFailure {@code enforcing_consecutive_gateway_failure} (default 0)
 * @param enforcingLocalOriginFailure {@code enforcing_consecutive_local_origin_failure} (default
 *     100)
 * @param splitExternalLocalOriginErrors {@code split_external_local_origin_errors}: connect
 *     failures and timeouts count as local-origin failures, not as 503/504
 * @param intervalMillis {@code interval} between unejection sweeps (default 10 s)
 * @param baseEjectionMillis {@code base_ejection_time} (default 30 s); a host stays ejected for it
 *     times the number of times it was ejected (decaying while healthy), capped by {@code
 *     maxEjectionMillis}
 * @param maxEjectionMillis {@code max_ejection_time} (default the larger of 300 s and the base)
 * @param maxEjectionPercent {@code max_ejection_percent} (default 10)
 */
public record OutlierConfig(
    int consecutive5xx,
    int consecutiveGatewayFailure,
    int consecutiveLocalOriginFailure,
    int enforcing5xx,
    int enforcingGatewayFailure,
    int enforcingLocalOriginFailure,
    boolean splitExternalLocalOriginErrors,
    long intervalMillis,
    long baseEjectionMillis,
    long maxEjectionMillis,
    int maxEjectionPercent) {}
