package dev.weft.api.networking;

import java.time.Duration;

/**
 * Istio's HTTPRetry.
 *
 * @param attempts the number of retries
 * @param perTryTimeout the timeout per attempt, or null
 * @param retryOn Envoy retry conditions, comma separated, or empty
 * @param retryRemoteLocalities whether to retry in other localities
 * @param retryIgnorePreviousHosts whether a retry avoids the hosts already tried; null when not set
 *     (Istio's default: true)
 * @param backoff the base interval between retries (Envoy's {@code retry_back_off}), or null
 */
public record HttpRetry(
    int attempts,
    Duration perTryTimeout,
    String retryOn,
    boolean retryRemoteLocalities,
    Boolean retryIgnorePreviousHosts,
    Duration backoff) {}
