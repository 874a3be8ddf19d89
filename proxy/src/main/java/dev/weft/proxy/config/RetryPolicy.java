package dev.weft.proxy.config;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * A compiled Envoy {@code retry_policy} for requests that can be replayed (Weft streams bodies, so
 * it replays requests without a body). Between attempts Envoy's jittered exponential backoff
 * applies: a random delay up to {@code base * 2^(retry-1)}, at most {@code max} ({@code
 * retry_back_off}; 25 ms and 10 times the base by default).
 *
 * @param numRetries {@code num_retries} (default 1)
 * @param connectFailure retry when connecting fails
 * @param reset retry when the upstream resets before answering
 * @param gatewayError retry on 502, 503, 504
 * @param serverError retry on any 5xx
 * @param retriable4xx retry on 409 ({@code retriable-4xx}, as Envoy)
 * @param retriableStatusCodes retry on these codes ({@code retriable-status-codes})
 * @param perTryTimeoutMillis {@code per_try_timeout}, 0 if none
 * @param backoffBaseMillis {@code retry_back_off.base_interval} (25 ms by default)
 * @param backoffMaxMillis {@code retry_back_off.max_interval} (10 times the base by default)
 * @param grpcStatuses the gRPC conditions ({@code cancelled}, {@code deadline-exceeded}, {@code
 *     internal}, {@code resource-exhausted}, {@code unavailable}) as a bit per gRPC status code,
 *     evaluated on the {@code grpc-status} of a response's headers (a trailers-only response), as
 *     Envoy does
 */
public record RetryPolicy(
    int numRetries,
    boolean connectFailure,
    boolean reset,
    boolean gatewayError,
    boolean serverError,
    boolean retriable4xx,
    int[] retriableStatusCodes,
    long perTryTimeoutMillis,
    long backoffBaseMillis,
    long backoffMaxMillis,
    int grpcStatuses) {

  /** Envoy's default {@code retry_back_off.base_interval}. */
  public static final long DEFAULT_BACKOFF_BASE_MILLIS = 25;

  /** The retry_on conditions Envoy defines for HTTP and gRPC. */
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
    boolean conflict = false;
    int grpc = 0;
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
        case "retriable-4xx" -> conflict = true;
        case "cancelled" -> grpc |= 1 << 1;
        case "deadline-exceeded" -> grpc |= 1 << 4;
        case "resource-exhausted" -> grpc |= 1 << 8;
        case "internal" -> grpc |= 1 << 13;
        case "unavailable" -> grpc |= 1 << 14;
        default -> {}
      }
    }
    int[] statusCodes =
        codes
            ? p.getRetriableStatusCodesList().stream().mapToInt(Integer::intValue).toArray()
            : new int[0];
    long perTry =
        p.hasPerTryTimeout()
            ? nonNegativeMillis(where + "retry_policy.per_try_timeout", p.getPerTryTimeout())
            : 0;
    int n = p.hasNumRetries() ? p.getNumRetries().getValue() : 1;
    long base = DEFAULT_BACKOFF_BASE_MILLIS;
    long max = 10 * base;
    if (p.hasRetryBackOff()) {
      var b = p.getRetryBackOff();
      if (!b.hasBaseInterval()) {
        throw new InvalidResourceException(where + "retry_back_off.base_interval is required");
      }
      base = millis(b.getBaseInterval());
      if (base <= 0) {
        throw new InvalidResourceException(where + "retry_back_off.base_interval must be > 0");
      }
      max = b.hasMaxInterval() ? millis(b.getMaxInterval()) : 10 * base;
      if (max < base) {
        throw new InvalidResourceException(
            where + "retry_back_off.max_interval must be at least base_interval");
      }
    }
    return new RetryPolicy(
        n, connect, reset, gateway, server, conflict, statusCodes, perTry, base, max, grpc);
  }

  /**
   * {@code d} in milliseconds; a negative Duration is an error naming {@code field} (Envoy rejects
   * negative Durations in any resource).
   */
  private static long nonNegativeMillis(String field, com.google.protobuf.Duration d)
      throws InvalidResourceException {
    if (d.getSeconds() < 0 || d.getNanos() < 0) {
      throw new InvalidResourceException(
          field + " must not be negative, got " + d.getSeconds() + "s " + d.getNanos() + "ns");
    }
    return millis(d);
  }

  private static long millis(com.google.protobuf.Duration d) {
    return d.getSeconds() * 1000 + d.getNanos() / 1_000_000;
  }

  /** The upper bound of the random delay before retry number {@code retry} (1-based). */
  public long backoffCeilingMillis(int retry) {
    int shift = Math.min(Math.max(retry - 1, 0), 30);
    long ceiling = backoffBaseMillis << shift;
    return ceiling <= 0 || ceiling > backoffMaxMillis ? backoffMaxMillis : ceiling;
  }

  /** Envoy: 5xx and gateway-error include connect failures and resets. */
  public boolean onConnectFailure() {
    return connectFailure || serverError || gatewayError;
  }

  public boolean onReset() {
    return reset || serverError || gatewayError;
  }

  /** Whether a response whose headers carry {@code grpc-status: code} is retried. */
  public boolean onGrpcStatus(int code) {
    return code > 0 && code < 31 && (grpcStatuses & (1 << code)) != 0;
  }

  public boolean onStatus(int code) {
    if (serverError && code >= 500 && code <= 599) {
      return true;
    }
    if (gatewayError && (code == 502 || code == 503 || code == 504)) {
      return true;
    }
    if (retriable4xx && code == 409) {
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
