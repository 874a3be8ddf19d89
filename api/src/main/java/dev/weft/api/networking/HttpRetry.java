package dev.weft.api.networking;

import java.time.Duration;

/**
 * Istio's HTTPRetry.
 *
 * @param attempts the number of retries
 * @param perTryTimeout the timeout per attempt, or null
 * @param retryOn Envoy retry conditions, comma separated, or empty
 * @param retryRemoteLocalities whether to retry in other localities
 */
public record HttpRetry(
    int attempts, Duration perTryTimeout, String retryOn, boolean retryRemoteLocalities) {}
