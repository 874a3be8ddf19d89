package dev.weft.api.networking;

import java.time.Duration;

/**
 * Istio's HTTPFaultInjection.
 *
 * @param delay a delay fault, or null
 * @param abort an abort fault, or null
 */
public record HttpFaultInjection(Delay delay, Abort abort) {
  /**
   * A fixed delay for a percentage of requests.
   *
   * @param fixedDelay the delay, or null when the route has only an {@code exponentialDelay} (which
   *     Istio does not support)
   * @param percentage the percentage of requests (0-100); 0 when unspecified, as in Istio
   */
  public record Delay(Duration fixedDelay, double percentage) {}

  /**
   * An abort with an HTTP status for a percentage of requests.
   *
   * @param httpStatus the status, or 0 when {@code grpcStatus} (or {@code http2Error}) is used
   * @param percentage the percentage of requests (0-100); 0 when unspecified, as in Istio
   * @param grpcStatus the gRPC status name (e.g. {@code UNAVAILABLE}), or empty
   */
  public record Abort(int httpStatus, double percentage, String grpcStatus) {}
}
