package dev.weft.proxy.accesslog;

import java.util.List;

/**
 * A connection manager's compiled {@code access_log}: where each entry goes in which format, and
 * the request headers its formats read (captured when a request starts).
 *
 * @param sinks the loggers, in order
 * @param headers lower-case request header names, indexed by the formats
 */
public record AccessLogConfig(List<Sink> sinks, List<String> headers) {
  public AccessLogConfig {
    sinks = List.copyOf(sinks);
    headers = List.copyOf(headers);
  }

  /** One {@code access_log} entry: a logger and its format. */
  public record Sink(AccessLogger logger, LogFormat format) {}

  /**
   * Envoy's default file access log format (when a {@code FileAccessLog} has none); Istio's is
   * {@link #ISTIO_TEXT}.
   */
  public static final String ENVOY_DEFAULT =
      "[%START_TIME%] \"%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%\""
          + " %RESPONSE_CODE% %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION%"
          + " %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% \"%REQ(X-FORWARDED-FOR)%\""
          + " \"%REQ(USER-AGENT)%\" \"%REQ(X-REQUEST-ID)%\" \"%REQ(:AUTHORITY)%\""
          + " \"%UPSTREAM_HOST%\"\n";

  /** Istio's default text format ({@code EnvoyTextLogFormat}, Istio 1.9 onwards). */
  public static final String ISTIO_TEXT =
      "[%START_TIME%] \"%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%\""
          + " %RESPONSE_CODE% %RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS%"
          + " %CONNECTION_TERMINATION_DETAILS% \"%UPSTREAM_TRANSPORT_FAILURE_REASON%\""
          + " %BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%"
          + " \"%REQ(X-FORWARDED-FOR)%\" \"%REQ(USER-AGENT)%\" \"%REQ(X-REQUEST-ID)%\""
          + " \"%REQ(:AUTHORITY)%\" \"%UPSTREAM_HOST%\" %UPSTREAM_CLUSTER_RAW%"
          + " %UPSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS%"
          + " %REQUESTED_SERVER_NAME% %ROUTE_NAME%\n";
}
