package dev.weft.proxy.accesslog;

import java.net.SocketAddress;

/**
 * One finished request, as Istio's default access log format prints it. Built on the event loop
 * (plain field copies); formatted on the writer thread.
 *
 * @param startMillis request start, epoch millis
 * @param method {@code :method}
 * @param path the original path
 * @param protocol {@code HTTP/1.1}
 * @param code the response code, 0 if none was sent
 * @param flags Envoy response flags ({@code -} when none)
 * @param details Envoy's response code details, e.g. {@code via_upstream}
 * @param bytesReceived request body bytes
 * @param bytesSent response body bytes
 * @param durationMillis total duration
 * @param upstreamServiceTime time to upstream response headers in ms, or -1
 * @param forwardedFor {@code x-forwarded-for} or null
 * @param userAgent {@code user-agent} or null
 * @param requestId {@code x-request-id} or null
 * @param authority {@code :authority} or null
 * @param upstreamHost upstream {@code host:port} or null
 * @param upstreamCluster cluster name or null
 * @param upstreamLocal upstream connection's local address or null (addresses are formatted on the
 *     writer thread)
 * @param downstreamLocal downstream connection's local address or null
 * @param downstreamRemote downstream peer or null
 * @param routeName the matched route's name or null
 * @param upstreamTransportFailureReason why the upstream TLS handshake failed, or null
 * @param requestedServerName the downstream TLS SNI, or null
 * @param requestHeaders the request header values the format names ({@link LogFormat}), in the
 *     connection manager's order, or null
 * @param logFormat the format, or null for Istio's default text format
 */
public record AccessLogEntry(
    long startMillis,
    String method,
    String path,
    String protocol,
    int code,
    String flags,
    String details,
    long bytesReceived,
    long bytesSent,
    long durationMillis,
    long upstreamServiceTime,
    String forwardedFor,
    String userAgent,
    String requestId,
    String authority,
    String upstreamHost,
    String upstreamCluster,
    SocketAddress upstreamLocal,
    SocketAddress downstreamLocal,
    SocketAddress downstreamRemote,
    String routeName,
    String upstreamTransportFailureReason,
    String requestedServerName,
    String[] requestHeaders,
    LogFormat logFormat) {

  /** An entry in Istio's default text format. */
  public AccessLogEntry(
      long startMillis,
      String method,
      String path,
      String protocol,
      int code,
      String flags,
      String details,
      long bytesReceived,
      long bytesSent,
      long durationMillis,
      long upstreamServiceTime,
      String forwardedFor,
      String userAgent,
      String requestId,
      String authority,
      String upstreamHost,
      String upstreamCluster,
      SocketAddress upstreamLocal,
      SocketAddress downstreamLocal,
      SocketAddress downstreamRemote,
      String routeName,
      String upstreamTransportFailureReason,
      String requestedServerName) {
    this(
        startMillis,
        method,
        path,
        protocol,
        code,
        flags,
        details,
        bytesReceived,
        bytesSent,
        durationMillis,
        upstreamServiceTime,
        forwardedFor,
        userAgent,
        requestId,
        authority,
        upstreamHost,
        upstreamCluster,
        upstreamLocal,
        downstreamLocal,
        downstreamRemote,
        routeName,
        upstreamTransportFailureReason,
        requestedServerName,
        null,
        null);
  }

  /** The same entry in another format. */
  public AccessLogEntry withFormat(LogFormat f) {
    return f == logFormat
        ? this
        : new AccessLogEntry(
            startMillis,
            method,
            path,
            protocol,
            code,
            flags,
            details,
            bytesReceived,
            bytesSent,
            durationMillis,
            upstreamServiceTime,
            forwardedFor,
            userAgent,
            requestId,
            authority,
            upstreamHost,
            upstreamCluster,
            upstreamLocal,
            downstreamLocal,
            downstreamRemote,
            routeName,
            upstreamTransportFailureReason,
            requestedServerName,
            requestHeaders,
            f);
  }

  /** An entry without TLS facts. */
  public AccessLogEntry(
      long startMillis,
      String method,
      String path,
      String protocol,
      int code,
      String flags,
      String details,
      long bytesReceived,
      long bytesSent,
      long durationMillis,
      long upstreamServiceTime,
      String forwardedFor,
      String userAgent,
      String requestId,
      String authority,
      String upstreamHost,
      String upstreamCluster,
      SocketAddress upstreamLocal,
      SocketAddress downstreamLocal,
      SocketAddress downstreamRemote,
      String routeName) {
    this(
        startMillis,
        method,
        path,
        protocol,
        code,
        flags,
        details,
        bytesReceived,
        bytesSent,
        durationMillis,
        upstreamServiceTime,
        forwardedFor,
        userAgent,
        requestId,
        authority,
        upstreamHost,
        upstreamCluster,
        upstreamLocal,
        downstreamLocal,
        downstreamRemote,
        routeName,
        null,
        null);
  }

  /**
   * Istio's default text format: {@code [%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:
   * PATH)% %PROTOCOL%" %RESPONSE_CODE% %RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS%
   * %CONNECTION_TERMINATION_DETAILS% "%UPSTREAM_TRANSPORT_FAILURE_REASON%" %BYTES_RECEIVED%
   * %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%"
   * "%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%"
   * %UPSTREAM_CLUSTER% %UPSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_LOCAL_ADDRESS%
   * %DOWNSTREAM_REMOTE_ADDRESS% %REQUESTED_SERVER_NAME% %ROUTE_NAME%}.
   */
  public String format() {
    StringBuilder sb = new StringBuilder(256);
    AccessLogFormatter f = new AccessLogFormatter();
    if (logFormat == null) {
      f.append(this, sb);
    } else {
      logFormat.append(this, sb, f);
    }
    return sb.toString();
  }
}
