package dev.weft.proxy.config;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * A compiled Envoy {@code retry_policy} for requests that can be replayed (Weft streams bodies, so
 * it replays requests without a body). Between attempts Envoy's backoff applies: a random delay up
 * to 25 ms, doubling per attempt.
 *
 * @param numRetries {@code num_retries} (default 1)
 * @param connectFailure retry when connecting fails
 * @param reset retry when the upstream resets before answering
 * @param gatewayError retry on 502, 503, 504
 * @param serverError retry on any 5xx
 * @param retriableStatusCodes retry on these codes ({@code retriable-status-codes})
 * @param perTryTimeoutMillis {@code per_try_timeout}, 0 if none
 */
public record RetryPolicy(
    int numRetries,
    boolean connectFailure,
    boolean reset,
    boolean gatewayError,
    boolean serverError,
    int[] retriableStatusCodes,
    long perTryTimeoutMillis) {

  /** The retry_on conditions Envoy defines for HTTP (gRPC ones are accepted and never fire). */
  private static final Set<String> KNOWN =
      Set.of(
          "5xx",
          "gateway-error",
          "reset",
          "reset-before-request",
          "connect-failure",
          "envoy-ratelimited",
          "retriable-4xx",
          "refused-stream",
          "retriable-status-codes",
          "retriable-headers",
          "http3-post-connect-failure",
          "cancelled",
          "deadline-exceeded",
          "internal",
          "resource-exhausted",
          "unavailable");

  public static RetryPolicy compile(String where, io.envoyproxy.envoy.config.route.v3.RetryPolicy p)
      throws InvalidResourceException {
    boolean connect = false;
    boolean reset = false;
    boolean gateway = false;
    boolean server = false;
    boolean codes = false;
    for (String raw : p.getRetryOn().split(",")) {
      String t = raw.trim().toLowerCase(Locale.ROOT);
      if (t.isEmpty()) {
        continue;
      }
      if (!KNOWN.contains(t)) {
        throw new InvalidResourceException(where + "unknown retry_on condition '" + t + "'");
      }
      switch (t) {
        case "5xx" -> server = true;
        case "gateway-error" -> gateway = true;
        case "reset", "reset-before-request" -> reset = true;
        case "connect-failure" -> connect = true;
        case "retriable-status-codes" -> codes = true;
        default -> {}
      }
    }
    int[] statusCodes =
        codes
            ? p.getRetriableStatusCodesList().stream().mapToInt(Integer::intValue).toArray()
            : new int[0];
    long perTry =
        p.hasPerTryTimeout()
            ? p.getPerTryTimeout().getSeconds() * 1000 + p.getPerTryTimeout().getNanos() / 1_000_000
            : 0;
    int n = p.hasNumRetries() ? p.getNumRetries().getValue() : 1;
    return new RetryPolicy(n, connect, reset, gateway, server, statusCodes, perTry);
  }

  /** Envoy: 5xx and gateway-error include connect failures and resets. */
  public boolean onConnectFailure() {
    return connectFailure || serverError || gatewayError;
  }

  public boolean onReset() {
    return reset || serverError || gatewayError;
  }

  public boolean onStatus(int code) {
    if (serverError && code >= 500 && code <= 599) {
      return true;
    }
    if (gatewayError && (code == 502 || code == 503 || code == 504)) {
      return true;
    }
    for (int c : retriableStatusCodes) {
      if (c == code) {
        return true;
      }
    }
    return false;
  }

  @Override
  public String toString() {
    return "RetryPolicy[" + numRetries + ", codes=" + Arrays.toString(retriableStatusCodes) + "]";
  }

  static List<String> known() {
    return List.copyOf(KNOWN);
  }
}
