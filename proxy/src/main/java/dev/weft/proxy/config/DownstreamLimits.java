package dev.weft.proxy.config;

/**
 * The protections an HTTP connection manager puts on its downstream connections, compiled from its
 * configuration; every listener has them (Envoy's defaults, except where noted, when a field is
 * absent; a zero duration turns a timeout off, as in Envoy).
 *
 * @param requestHeadersTimeoutMillis {@code request_headers_timeout}: from the first byte of a
 *     request until its headers are complete; then 408 and the connection closes. Envoy leaves it
 *     off when absent; Weft uses {@link #DEFAULT_REQUEST_HEADERS_TIMEOUT_MILLIS} (slowloris)
 * @param idleTimeoutMillis {@code common_http_protocol_options.idle_timeout}: a connection without
 *     an active request this long is closed (default 1 h)
 * @param streamIdleTimeoutMillis {@code stream_idle_timeout}: a request with no activity in either
 *     direction this long gets 408 (request incomplete) or 504, or is reset once its response
 *     started (default 5 min)
 * @param maxRequestHeadersKb {@code max_request_headers_kb}: request line and headers larger get
 *     431 (default 60)
 * @param maxHeadersCount {@code common_http_protocol_options.max_headers_count}: requests with more
 *     header fields get 431 (default 100)
 */
public record DownstreamLimits(
    long requestHeadersTimeoutMillis,
    long idleTimeoutMillis,
    long streamIdleTimeoutMillis,
    int maxRequestHeadersKb,
    int maxHeadersCount) {

  /** Weft's request headers timeout when the configuration has none: 10 s. */
  public static final long DEFAULT_REQUEST_HEADERS_TIMEOUT_MILLIS = 10_000;

  /** Envoy's default idle timeout: 1 h. */
  public static final long DEFAULT_IDLE_TIMEOUT_MILLIS = 3_600_000;

  /** Envoy's default stream idle timeout: 5 min. */
  public static final long DEFAULT_STREAM_IDLE_TIMEOUT_MILLIS = 300_000;

  /** Envoy's default {@code max_request_headers_kb}. */
  public static final int DEFAULT_MAX_REQUEST_HEADERS_KB = 60;

  /** Envoy's default {@code max_headers_count}. */
  public static final int DEFAULT_MAX_HEADERS_COUNT = 100;

  /** The limits of a connection manager that configures none. */
  public static final DownstreamLimits DEFAULTS =
      new DownstreamLimits(
          DEFAULT_REQUEST_HEADERS_TIMEOUT_MILLIS,
          DEFAULT_IDLE_TIMEOUT_MILLIS,
          DEFAULT_STREAM_IDLE_TIMEOUT_MILLIS,
          DEFAULT_MAX_REQUEST_HEADERS_KB,
          DEFAULT_MAX_HEADERS_COUNT);
}
