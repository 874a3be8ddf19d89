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

  /**
   * A builder for entries made off the hot path (tests, tools): unset fields are absent (null, 0,
   * flags {@code -}, service time -1). The connection manager uses the canonical constructor.
   */
  public static Builder builder() {
    return new Builder();
  }

  /** Builds an {@link AccessLogEntry}; see {@link AccessLogEntry#builder}. */
  public static final class Builder {
    private long startMillis = 0;
    private String method;
    private String path;
    private String protocol;
    private int code = 0;
    private String flags = "-";
    private String details;
    private long bytesReceived = 0;
    private long bytesSent = 0;
    private long durationMillis = 0;
    private long upstreamServiceTime = -1;
    private String forwardedFor;
    private String userAgent;
    private String requestId;
    private String authority;
    private String upstreamHost;
    private String upstreamCluster;
    private SocketAddress upstreamLocal;
    private SocketAddress downstreamLocal;
    private SocketAddress downstreamRemote;
    private String routeName;
    private String upstreamTransportFailureReason;
    private String requestedServerName;
    private String[] requestHeaders;
    private LogFormat logFormat;

    private Builder() {}

    public Builder startMillis(long startMillis) {
      this.startMillis = startMillis;
      return this;
    }

    public Builder method(String method) {
      this.method = method;
      return this;
    }

    public Builder path(String path) {
      this.path = path;
      return this;
    }

    public Builder protocol(String protocol) {
      this.protocol = protocol;
      return this;
    }

    public Builder code(int code) {
      this.code = code;
      return this;
    }

    public Builder flags(String flags) {
      this.flags = flags;
      return this;
    }

    public Builder details(String details) {
      this.details = details;
      return this;
    }

    public Builder bytesReceived(long bytesReceived) {
      this.bytesReceived = bytesReceived;
      return this;
    }

    public Builder bytesSent(long bytesSent) {
      this.bytesSent = bytesSent;
      return this;
    }

    public Builder durationMillis(long durationMillis) {
      this.durationMillis = durationMillis;
      return this;
    }

    public Builder upstreamServiceTime(long upstreamServiceTime) {
      this.upstreamServiceTime = upstreamServiceTime;
      return this;
    }

    public Builder forwardedFor(String forwardedFor) {
      this.forwardedFor = forwardedFor;
      return this;
    }

    public Builder userAgent(String userAgent) {
      this.userAgent = userAgent;
      return this;
    }

    public Builder requestId(String requestId) {
      this.requestId = requestId;
      return this;
    }

    public Builder authority(String authority) {
      this.authority = authority;
      return this;
    }

    public Builder upstreamHost(String upstreamHost) {
      this.upstreamHost = upstreamHost;
      return this;
    }

    public Builder upstreamCluster(String upstreamCluster) {
      this.upstreamCluster = upstreamCluster;
      return this;
    }

    public Builder upstreamLocal(SocketAddress upstreamLocal) {
      this.upstreamLocal = upstreamLocal;
      return this;
    }

    public Builder downstreamLocal(SocketAddress downstreamLocal) {
      this.downstreamLocal = downstreamLocal;
      return this;
    }

    public Builder downstreamRemote(SocketAddress downstreamRemote) {
      this.downstreamRemote = downstreamRemote;
      return this;
    }

    public Builder routeName(String routeName) {
      this.routeName = routeName;
      return this;
    }

    public Builder upstreamTransportFailureReason(String upstreamTransportFailureReason) {
      this.upstreamTransportFailureReason = upstreamTransportFailureReason;
      return this;
    }

    public Builder requestedServerName(String requestedServerName) {
      this.requestedServerName = requestedServerName;
      return this;
    }

    public Builder requestHeaders(String[] requestHeaders) {
      this.requestHeaders = requestHeaders;
      return this;
    }

    public Builder logFormat(LogFormat logFormat) {
      this.logFormat = logFormat;
      return this;
    }

    public AccessLogEntry build() {
      return new AccessLogEntry(
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
          logFormat);
    }
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
