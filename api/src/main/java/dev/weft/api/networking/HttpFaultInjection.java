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
   * @param fixedDelay the delay
   * @param percentage the percentage of requests (0-100)
   */
  public record Delay(Duration fixedDelay, double percentage) {}

  /**
   * An abort with an HTTP status for a percentage of requests.
   *
   * @param httpStatus the status, or 0 when {@code grpcStatus} is used
   * @param percentage the percentage of requests (0-100)
   * @param grpcStatus the gRPC status name (e.g. {@code UNAVAILABLE}), or empty
   */
  public record Abort(int httpStatus, double percentage, String grpcStatus) {}
}
