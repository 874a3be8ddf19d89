package dev.weft.proxy.http;

import dev.weft.proxy.accesslog.AccessLogEntry;
import dev.weft.proxy.config.ClusterConfig;
import dev.weft.proxy.config.Endpoint;
import dev.weft.proxy.config.ListenerConfig;
import dev.weft.proxy.config.RetryPolicy;
import dev.weft.proxy.config.Route;
import dev.weft.proxy.config.RouteAction;
import dev.weft.proxy.config.RouteTable;
import dev.weft.proxy.config.RuntimeConfig;
import dev.weft.proxy.config.VirtualHost;
import dev.weft.proxy.router.ResponseFlags;
import dev.weft.proxy.router.Router;
import dev.weft.proxy.upstream.LoadBalancer;
import dev.weft.proxy.upstream.UpstreamStream;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * One HTTP/1.1 request and its response, from the downstream connection through the router to an
 * upstream connection. The request head is forwarded as soon as the upstream connection is ready,
 * then body chunks as they arrive (no aggregation), with backpressure in both directions: reading
 * from one side pauses while the other side's channel is not writable.
 *
 * <p>Lives on the downstream connection's event loop, like the upstream connection it uses.
 */
final class Stream implements UpstreamStream {
  private static final int MAX_BUFFERED_WHILE_CONNECTING = 64 * 1024;

  private static final AsciiString X_REQUEST_ID = AsciiString.cached("x-request-id");
  private static final AsciiString X_FORWARDED_FOR = AsciiString.cached("x-forwarded-for");
  private static final AsciiString X_FORWARDED_PROTO = AsciiString.cached("x-forwarded-proto");
  private static final AsciiString X_ENVOY_ORIGINAL_PATH =
      AsciiString.cached("x-envoy-original-path");
  private static final AsciiString X_ENVOY_EXPECTED_RQ_TIMEOUT_MS =
      AsciiString.cached("x-envoy-expected-rq-timeout-ms");
  private static final AsciiString X_ENVOY_INTERNAL = AsciiString.cached("x-envoy-internal");
  private static final AsciiString X_ENVOY_UPSTREAM_SERVICE_TIME =
      AsciiString.cached("x-envoy-upstream-service-time");
  private static final AsciiString HTTP = AsciiString.cached("http");

  // Envoy's local reply bodies.
  static final String BODY_NO_HEALTHY_UPSTREAM = "no healthy upstream";
  static final String BODY_CONNECT_FAILURE =
      "upstream connect error or disconnect/reset before headers. reset reason: connection failure";
  static final String BODY_TERMINATION =
      "upstream connect error or disconnect/reset before headers. reset reason: connection"
          + " termination";

  private final HttpConnectionManager hcm;
  private final ChannelHandlerContext ctx;
  private final DataPlane dp;
  private final ListenerConfig listener;

  private long startMillis;
  private long startNanos;
  private String method;
  private String path;
  private HttpVersion protocol;
  private String authority;
  private boolean isHead;
  private boolean downstreamKeepAlive;
  private boolean expectContinue;
  private boolean expectsBody;
  private String userAgent;
  private String forwardedFor;
  private String requestId;

  private Route route;
  private ClusterConfig cluster;
  private Endpoint endpoint;
  private Channel upstream;
  private boolean connecting;
  private ArrayDeque<HttpContent> pending;
  private int pendingBytes;
  private boolean upstreamNeedsFlush;
  private long upstreamStartNanos;
  private ScheduledFuture<?> timeout;
  private HttpRequest pendingHead;
  private HttpRequest upstreamHead;
  private String missingCluster;
  private boolean reusedConnection;
  private boolean staleRetried;
  private int retries;
  private boolean retriesExhausted;
  private String pendingLocation;
  private SocketAddress upstreamLocal;
  private ScheduledFuture<?> perTryTimer;

  private boolean requestComplete;
  private boolean discardRequestBody;
  private boolean responseStarted;
  private boolean upstreamKeepAlive;
  private boolean closeAfterResponse;
  private boolean skipInformationalEnd;
  private boolean pausedReading;
  private boolean finished;
  private int code;
  private String flags = ResponseFlags.NONE;
  private String details;
  private long bytesReceived;
  private long bytesSent;
  private long serviceTime = -1;

  Stream(
      HttpConnectionManager hcm,
      ChannelHandlerContext ctx,
      DataPlane dataPlane,
      ListenerConfig listener) {
    this.hcm = hcm;
    this.ctx = ctx;
    this.dp = dataPlane;
    this.listener = listener;
  }

  boolean requestComplete() {
    return requestComplete;
  }

  boolean pausedReading() {
    return pausedReading;
  }

  // ------------------------------------------------------------------ request

  void start(HttpRequest req) {
    startMillis = System.currentTimeMillis();
    startNanos = System.nanoTime();
    method = req.method().name();
    protocol = req.protocolVersion();
    isHead = req.method() == HttpMethod.HEAD || HttpMethod.HEAD.equals(req.method());
    HttpHeaders h = req.headers();
    if (req.decoderResult().isFailure()) {
      path = req.uri();
      downstreamKeepAlive = false;
      dp.stats().downstreamRqBad.increment();
      discardRequestBody = true;
      localReply(400, "Bad Request", ResponseFlags.DOWNSTREAM_PROTOCOL_ERROR, "http1.codec_error");
      return;
    }
    downstreamKeepAlive = HttpUtil.isKeepAlive(req);
    expectsBody = HttpUtil.isTransferEncodingChunked(req) || HttpUtil.getContentLength(req, 0L) > 0;
    userAgent = h.get(HttpHeaderNames.USER_AGENT);
    forwardedFor = h.get(X_FORWARDED_FOR);
    expectContinue = HttpUtil.is100ContinueExpected(req);

    // Request target: origin-form, or absolute-form when the app uses us as its http_proxy.
    String uri = req.uri();
    if (uri.startsWith("/")) {
      path = uri;
      authority = h.get(HttpHeaderNames.HOST);
    } else if (uri.regionMatches(true, 0, "http://", 0, 7)) {
      int end = 7;
      while (end < uri.length() && uri.charAt(end) != '/' && uri.charAt(end) != '?') {
        end++;
      }
      authority = uri.substring(7, end);
      path =
          end == uri.length()
              ? "/"
              : uri.charAt(end) == '?' ? "/" + uri.substring(end) : uri.substring(end);
    } else if (uri.equals("*") && req.method() == HttpMethod.OPTIONS) {
      path = uri;
      authority = h.get(HttpHeaderNames.HOST);
    } else {
      path = uri;
      discardRequestBody = true;
      dp.stats().downstreamRqBad.increment();
      localReply(400, "Bad Request", ResponseFlags.DOWNSTREAM_PROTOCOL_ERROR, "invalid_url");
      return;
    }
    if (authority == null || authority.isEmpty()) {
      discardRequestBody = true;
      localReply(
          400, "Bad Request", ResponseFlags.DOWNSTREAM_PROTOCOL_ERROR, "missing_host_header");
      return;
    }
    requestId = h.get(X_REQUEST_ID);
    if (requestId == null) {
      ThreadLocalRandom r = ThreadLocalRandom.current();
      requestId =
          new UUID((r.nextLong() & ~0xF000L) | 0x4000L, (r.nextLong() & ~(3L << 62)) | (1L << 63))
              .toString();
      h.set(X_REQUEST_ID, requestId);
    }

    // Route.
    RuntimeConfig rc = dp.config();
    RouteTable table = listener.routes(rc);
    VirtualHost vh = table == null ? null : table.virtualHost(authority);
    if (vh != null && !vh.requireTls().equals("NONE")) {
      String location =
          Router.tlsRedirect(
              vh, scheme(h), "true".equals(h.get(X_ENVOY_INTERNAL)), authority, path);
      if (location != null) {
        discardRequestBody = true;
        redirect(301, location);
        return;
      }
    }
    route = vh == null ? null : Router.match(vh, path, method, authority, h);
    if (route == null) {
      discardRequestBody = true;
      localReply(404, "", ResponseFlags.NO_ROUTE, "route_not_found");
      return;
    }
    if (route.action() instanceof RouteAction.DirectResponse d) {
      discardRequestBody = true;
      localReply(d.status(), d.body(), ResponseFlags.NONE, "direct_response");
      return;
    }
    if (route.action() instanceof RouteAction.Redirect r) {
      discardRequestBody = true;
      redirect(r.status(), Router.redirectLocation(route, r, scheme(h), authority, path));
      return;
    }
    String clusterName = Router.cluster(route.action(), dp.random());
    cluster = rc.clusters().get(clusterName);
    if (cluster == null) {
      discardRequestBody = true;
      missingCluster = clusterName;
      localReply(503, "", ResponseFlags.NO_CLUSTER, "cluster_not_found");
      return;
    }
    endpoint = LoadBalancer.pick(cluster);
    if (endpoint == null) {
      discardRequestBody = true;
      localReply(
          503, BODY_NO_HEALTHY_UPSTREAM, ResponseFlags.NO_HEALTHY_UPSTREAM, "no_healthy_upstream");
      return;
    }

    // Upstream request head: origin-form, HTTP/1.1, hop-by-hop headers removed.
    prepareUpstreamHead(req, h);
    pending = new ArrayDeque<>(4);
    connecting = true;
    pendingHead = req;
    upstreamHead = req;
    dp.pool(ctx.channel().eventLoop()).acquire(cluster, endpoint, this);
  }

  /** Whether the request can be sent again: Weft streams bodies, so only bodiless ones. */
  private boolean replayable() {
    return !expectsBody && !responseStarted && !finished && upstreamHead != null;
  }

  /**
   * A reused keep-alive connection that the upstream closed before answering (its idle timeout
   * raced our request): try once more on another connection, as Envoy's pool does for a connection
   * that was closed before the request could be sent.
   */
  private boolean retryStale() {
    if (staleRetried || !reusedConnection || !replayable()) {
      return false;
    }
    staleRetried = true;
    retryNow();
    return true;
  }

  /** Envoy's retry policy: another attempt after a jittered backoff (25 ms base, doubling). */
  private boolean retryByPolicy(boolean applies) {
    RetryPolicy p = route.retry();
    if (p == null || !applies || !replayable()) {
      return false;
    }
    if (retries >= p.numRetries()) {
      retriesExhausted = retries > 0;
      return false;
    }
    retries++;
    connecting = true; // a retry is pending: the downstream waits
    long max = 25L << Math.min(retries - 1, 8);
    long delay = ThreadLocalRandom.current().nextLong(max + 1);
    ctx.executor().schedule(this::retryNow, delay, TimeUnit.MILLISECONDS);
    return true;
  }

  private void retryNow() {
    if (finished) {
      connecting = false;
      return;
    }
    Endpoint next = LoadBalancer.pick(cluster);
    if (next != null) {
      endpoint = next;
    }
    connecting = true;
    pendingHead = upstreamHead;
    if (requestComplete && !(pending.peekLast() instanceof LastHttpContent)) {
      pending.add(LastHttpContent.EMPTY_LAST_CONTENT);
    }
    dp.pool(ctx.channel().eventLoop()).acquire(cluster, endpoint, this);
  }

  private String failureFlags(String flag) {
    return retriesExhausted ? flag + ",URX" : flag;
  }

  private void prepareUpstreamHead(HttpRequest req, HttpHeaders h) {
    String upstreamPath = route.upstreamPath(path);
    if (upstreamPath != path) {
      // Envoy keeps the path it rewrote for the upstream to see.
      h.set(X_ENVOY_ORIGINAL_PATH, path);
    }
    req.setUri(upstreamPath);
    req.setProtocolVersion(HttpVersion.HTTP_1_1);
    stripHopByHop(h);
    h.set(HttpHeaderNames.HOST, route.hostRewrite() != null ? route.hostRewrite() : authority);
    if (route.timeoutMillis() > 0) {
      // Envoy tells the upstream how long the proxy will wait (unless suppress_envoy_headers).
      h.set(X_ENVOY_EXPECTED_RQ_TIMEOUT_MS, route.timeoutMillis());
    }
    route.requestHeaders().apply(h);
    if (!h.contains(X_FORWARDED_PROTO)) {
      h.set(X_FORWARDED_PROTO, HTTP);
    }
    if (protocol == HttpVersion.HTTP_1_0
        && !HttpUtil.isContentLengthSet(req)
        && !HttpUtil.isTransferEncodingChunked(req)) {
      h.set(HttpHeaderNames.CONTENT_LENGTH, 0);
    }
  }

  /** RFC 9110 7.6.1: Connection, the headers it names, and the classic hop-by-hop headers. */
  static void stripHopByHop(HttpHeaders h) {
    List<String> connection = h.getAll(HttpHeaderNames.CONNECTION);
    if (!connection.isEmpty()) {
      for (String v : connection) {
        for (String token : v.split(",")) {
          String t = token.trim();
          if (!t.isEmpty()
              && !t.equalsIgnoreCase("close")
              && !t.equalsIgnoreCase("keep-alive")
              && !t.equalsIgnoreCase(HttpHeaderNames.TRANSFER_ENCODING.toString())) {
            h.remove(t);
          }
        }
      }
      h.remove(HttpHeaderNames.CONNECTION);
    }
    h.remove(HttpHeaderNames.KEEP_ALIVE);
    h.remove(HttpHeaderNames.PROXY_CONNECTION);
    h.remove(HttpHeaderNames.TE);
    h.remove(HttpHeaderNames.UPGRADE);
    h.remove(HttpHeaderNames.PROXY_AUTHENTICATE);
  }

  void onRequestContent(HttpContent c) {
    if (c.decoderResult().isFailure()) {
      ReferenceCountUtil.release(c);
      closeAfterResponse = true;
      requestComplete = true;
      if (!finished) {
        localReply(
            400, "Bad Request", ResponseFlags.DOWNSTREAM_PROTOCOL_ERROR, "http1.codec_error");
      }
      return;
    }
    bytesReceived += c.content().readableBytes();
    boolean last = c instanceof LastHttpContent;
    if (last) {
      requestComplete = true;
    }
    if (finished || discardRequestBody) {
      ReferenceCountUtil.release(c);
      if (last && finished) {
        hcm.streamDone(this, closeAfterResponse);
      }
      return;
    }
    if (connecting) {
      pending.add(c);
      pendingBytes += c.content().readableBytes();
      if (pendingBytes > MAX_BUFFERED_WHILE_CONNECTING) {
        pauseReading();
      }
    } else {
      upstream.write(c);
      upstreamNeedsFlush = true;
      if (!upstream.isWritable()) {
        pauseReading();
      }
    }
    if (last) {
      startTimeout();
    }
  }

  void flushUpstream() {
    if (upstreamNeedsFlush && upstream != null) {
      upstreamNeedsFlush = false;
      upstream.flush();
    }
  }

  private void pauseReading() {
    pausedReading = true;
    ctx.channel().config().setAutoRead(false);
  }

  private void resumeReading() {
    if (pausedReading) {
      pausedReading = false;
      ctx.channel().config().setAutoRead(true);
    }
  }

  private void startTimeout() {
    if (route != null && route.timeoutMillis() > 0 && timeout == null && !finished) {
      timeout =
          ctx.executor().schedule(this::onTimeout, route.timeoutMillis(), TimeUnit.MILLISECONDS);
    }
  }

  private void onTimeout() {
    timeout = null;
    if (finished) {
      return;
    }
    Channel u = upstream;
    upstream = null;
    if (u != null) {
      dp.pool(ctx.channel().eventLoop()).discard(u);
    }
    if (!responseStarted) {
      localReply(
          504, "upstream request timeout", ResponseFlags.UPSTREAM_TIMEOUT, "response_timeout");
    } else {
      flags = ResponseFlags.UPSTREAM_TIMEOUT;
      details = "response_timeout";
      closeAfterResponse = true;
      ctx.close();
      finish();
    }
  }

  // ------------------------------------------------------------------ upstream

  @Override
  public void onUpstreamReady(Channel ch, boolean reused) {
    connecting = false;
    reusedConnection = reused;
    if (finished) {
      dp.pool(ctx.channel().eventLoop()).release(ch);
      return;
    }
    upstream = ch;
    upstreamLocal = ch.localAddress();
    if (route.retry() != null && route.retry().perTryTimeoutMillis() > 0) {
      perTryTimer =
          ctx.executor()
              .schedule(
                  this::onPerTryTimeout,
                  route.retry().perTryTimeoutMillis(),
                  TimeUnit.MILLISECONDS);
    }
    upstreamStartNanos = System.nanoTime();
    ch.write(pendingHead);
    pendingHead = null;
    HttpContent c;
    while ((c = pending.poll()) != null) {
      ch.write(c);
    }
    pendingBytes = 0;
    ch.flush();
    if (ch.isWritable()) {
      resumeReading();
    } else {
      pauseReading();
    }
  }

  @Override
  public void onUpstreamConnectFailed(Throwable cause) {
    connecting = false;
    if (finished) {
      releasePending();
      return;
    }
    releasePending();
    if (retryByPolicy(route.retry() != null && route.retry().onConnectFailure())) {
      return;
    }
    if (!requestComplete) {
      closeAfterResponse = true;
      discardRequestBody = true;
    }
    localReply(
        503,
        BODY_CONNECT_FAILURE,
        failureFlags(ResponseFlags.UPSTREAM_CONNECT_FAILURE),
        "upstream_reset_before_response_started{connection_failure}");
  }

  @Override
  public void onUpstreamResponse(HttpObject msg) {
    if (finished) {
      ReferenceCountUtil.release(msg);
      return;
    }
    if (msg instanceof HttpResponse r) {
      int status = r.status().code();
      if (status >= 100 && status < 200) {
        // 1xx: relay 100 Continue to a client that asked for it; drop the rest.
        skipInformationalEnd = true;
        if (status == 100 && expectContinue) {
          ctx.writeAndFlush(
              new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE));
        }
        if (msg instanceof LastHttpContent) {
          skipInformationalEnd = false;
        }
        ReferenceCountUtil.release(msg);
        return;
      }
      if (route.retry() != null && retryByPolicy(route.retry().onStatus(status))) {
        // Drop this answer and its connection; the retry is scheduled.
        cancelPerTryTimer();
        ReferenceCountUtil.release(msg);
        Channel u = upstream;
        upstream = null;
        if (u != null) {
          dp.pool(ctx.channel().eventLoop()).discard(u);
        }
        return;
      }
      if (retriesExhausted && route.retry() != null && route.retry().onStatus(status)) {
        flags = "URX";
      }
      onResponseHead(r);
    }
    if (msg instanceof HttpContent c) {
      if (skipInformationalEnd) {
        skipInformationalEnd = !(c instanceof LastHttpContent);
        ReferenceCountUtil.release(c);
        return;
      }
      onResponseContent(c);
    }
  }

  private void onResponseHead(HttpResponse r) {
    cancelPerTryTimer();
    code = r.status().code();
    serviceTime = (System.nanoTime() - upstreamStartNanos) / 1_000_000;
    upstreamKeepAlive = HttpUtil.isKeepAlive(r);
    HttpHeaders h = r.headers();
    stripHopByHop(h);
    h.set(X_ENVOY_UPSTREAM_SERVICE_TIME, serviceTime);
    serverHeader(h);
    route.responseHeaders().apply(h);
    boolean noBody = isHead || code == 204 || code == 304;
    if (protocol == HttpVersion.HTTP_1_0 && HttpUtil.isTransferEncodingChunked(r)) {
      // An HTTP/1.0 client cannot read chunks: send the bytes as they come, then close.
      h.remove(HttpHeaderNames.TRANSFER_ENCODING);
      closeAfterResponse = true;
    } else if (!noBody
        && !HttpUtil.isContentLengthSet(r)
        && !HttpUtil.isTransferEncodingChunked(r)) {
      // The upstream delimits the body by closing; re-frame it for a keep-alive downstream.
      if (protocol == HttpVersion.HTTP_1_1) {
        HttpUtil.setTransferEncodingChunked(r, true);
      } else {
        closeAfterResponse = true;
      }
    }
    if (!requestComplete) {
      // Answered before the request body was done: the connection cannot carry another request.
      closeAfterResponse = true;
    }
    if (!downstreamKeepAlive || closeAfterResponse) {
      closeAfterResponse = true;
      h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    } else if (protocol == HttpVersion.HTTP_1_0) {
      h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
    }
    r.setProtocolVersion(
        protocol == HttpVersion.HTTP_1_0 ? HttpVersion.HTTP_1_0 : HttpVersion.HTTP_1_1);
    responseStarted = true;
    details = "via_upstream";
    if (r instanceof HttpContent) {
      ctx.write(r);
    } else {
      ctx.write(r);
    }
  }

  private void onResponseContent(HttpContent c) {
    bytesSent += c.content().readableBytes();
    boolean last = c instanceof LastHttpContent;
    if (!responseStarted) {
      ReferenceCountUtil.release(c);
      return;
    }
    if (!(c instanceof HttpResponse)) {
      ctx.write(c);
    }
    if (!ctx.channel().isWritable() && upstream != null && !last) {
      upstream.config().setAutoRead(false);
    }
    if (last) {
      onResponseComplete();
    }
  }

  private void onResponseComplete() {
    Channel u = upstream;
    upstream = null;
    if (u != null) {
      if (upstreamKeepAlive && requestComplete && !discardRequestBody) {
        dp.pool(ctx.channel().eventLoop()).release(u);
      } else {
        dp.pool(ctx.channel().eventLoop()).discard(u);
      }
    }
    if (closeAfterResponse) {
      ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
    } else {
      ctx.flush();
    }
    finish();
  }

  @Override
  public void onUpstreamReadComplete() {
    if (!finished) {
      ctx.flush();
    }
  }

  @Override
  public void onUpstreamClosed(String reason) {
    upstream = null;
    cancelPerTryTimer();
    if (finished) {
      return;
    }
    if (!responseStarted
        && (retryStale() || retryByPolicy(route.retry() != null && route.retry().onReset()))) {
      return;
    }
    if (!responseStarted) {
      if (!requestComplete) {
        closeAfterResponse = true;
        discardRequestBody = true;
      }
      localReply(
          503,
          "upstream connect error or disconnect/reset before headers. reset reason: " + reason,
          failureFlags(ResponseFlags.UPSTREAM_CONNECTION_TERMINATION),
          "upstream_reset_before_response_started{" + reason.replace(' ', '_') + "}");
    } else {
      flags = ResponseFlags.UPSTREAM_CONNECTION_TERMINATION;
      details = "upstream_reset_after_response_started{" + reason.replace(' ', '_') + "}";
      closeAfterResponse = true;
      ctx.flush();
      ctx.close();
      finish();
    }
  }

  @Override
  public void onUpstreamWritabilityChanged(boolean writable) {
    if (writable) {
      resumeReading();
    } else if (!requestComplete) {
      pauseReading();
    }
  }

  void onDownstreamWritabilityChanged(boolean writable) {
    Channel u = upstream;
    if (u != null) {
      u.config().setAutoRead(writable);
    }
  }

  void onDownstreamClosed() {
    releasePending();
    if (finished) {
      return;
    }
    Channel u = upstream;
    upstream = null;
    if (u != null) {
      dp.pool(ctx.channel().eventLoop()).discard(u);
    }
    flags = ResponseFlags.DOWNSTREAM_CONNECTION_TERMINATION;
    details = "downstream_remote_disconnect";
    if (!responseStarted) {
      code = 0;
    }
    closeAfterResponse = true;
    finish();
  }

  private void releasePending() {
    if (pending != null) {
      HttpContent c;
      while ((c = pending.poll()) != null) {
        ReferenceCountUtil.release(c);
      }
    }
    if (pendingHead != null) {
      ReferenceCountUtil.release(pendingHead);
      pendingHead = null;
    }
  }

  // ------------------------------------------------------------------ replies and completion

  /** Envoy's {@code server} header handling (OVERWRITE with "envoy" unless configured). */
  private void serverHeader(HttpHeaders h) {
    String server = listener.serverName();
    if (server != null && !(listener.serverOnlyIfAbsent() && h.contains(HttpHeaderNames.SERVER))) {
      h.set(HttpHeaderNames.SERVER, server);
    }
  }

  /** The request's scheme: {@code x-forwarded-proto} when a trusted hop set it, else http. */
  private static String scheme(HttpHeaders h) {
    String xfp = h.get(X_FORWARDED_PROTO);
    return "https".equalsIgnoreCase(xfp) ? "https" : "http";
  }

  private void redirect(int status, String location) {
    pendingLocation = location;
    localReply(status, "", ResponseFlags.NONE, "redirect");
  }

  /**
   * Envoy's {@code per_try_timeout}: no response headers within it ends the attempt like a 504,
   * which the policy may retry.
   */
  private void onPerTryTimeout() {
    perTryTimer = null;
    if (finished || responseStarted || connecting) {
      return;
    }
    Channel u = upstream;
    upstream = null;
    if (u != null) {
      dp.pool(ctx.channel().eventLoop()).discard(u);
    }
    RetryPolicy p = route.retry();
    if (retryByPolicy(p.onStatus(504) || p.onReset())) {
      return;
    }
    localReply(
        504,
        "upstream request timeout",
        failureFlags(ResponseFlags.UPSTREAM_TIMEOUT),
        "upstream_per_try_timeout");
  }

  private void cancelPerTryTimer() {
    if (perTryTimer != null) {
      perTryTimer.cancel(false);
      perTryTimer = null;
    }
  }

  /** Envoy's local reply: a short text response generated by the proxy itself. */
  private void localReply(int status, String body, String responseFlags, String codeDetails) {
    if (responseStarted) {
      ctx.close();
      finish();
      return;
    }
    Channel u = upstream;
    upstream = null;
    if (u != null) {
      dp.pool(ctx.channel().eventLoop()).discard(u);
    }
    releasePending();
    code = status;
    flags = responseFlags;
    details = codeDetails;
    ByteBuf content =
        body.isEmpty()
            ? Unpooled.EMPTY_BUFFER
            : Unpooled.copiedBuffer(body, StandardCharsets.UTF_8);
    FullHttpResponse resp =
        new DefaultFullHttpResponse(
            HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(status), content);
    HttpHeaders h = resp.headers();
    h.set(HttpHeaderNames.CONTENT_LENGTH, content.readableBytes());
    if (content.isReadable()) {
      h.set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.TEXT_PLAIN);
    }
    if (pendingLocation != null) {
      h.set(HttpHeaderNames.LOCATION, pendingLocation);
    }
    serverHeader(h);
    if (route != null
        && (route.action() instanceof RouteAction.DirectResponse
            || route.action() instanceof RouteAction.Redirect)) {
      route.responseHeaders().apply(h);
    }
    if (!requestComplete && expectsBody) {
      // Answered before the request body arrived: do not wait for it, close after replying.
      closeAfterResponse = true;
    }
    if (!downstreamKeepAlive || closeAfterResponse) {
      closeAfterResponse = true;
      h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    }
    bytesSent = isHead ? 0 : content.readableBytes();
    responseStarted = true;
    if (closeAfterResponse) {
      ctx.writeAndFlush(resp).addListener(ChannelFutureListener.CLOSE);
    } else {
      ctx.writeAndFlush(resp);
    }
    finish();
  }

  private void finish() {
    if (finished) {
      return;
    }
    finished = true;
    cancelPerTryTimer();
    if (timeout != null) {
      timeout.cancel(false);
      timeout = null;
    }
    if (pausedReading && !closeAfterResponse) {
      pausedReading = false;
    }
    long duration = (System.nanoTime() - startNanos) / 1_000_000;
    listener.stats().request(code);
    String clusterName = null;
    String upstreamHost = null;
    if (cluster != null) {
      clusterName = cluster.name();
      cluster.stats().request(code, flags);
      if (endpoint != null) {
        upstreamHost = endpoint.hostPort();
        endpoint.stats().request(code >= 500 || code == 0);
      }
    } else if (missingCluster != null) {
      // Reported under the missing cluster's name, so that the NC is visible per destination.
      clusterName = missingCluster;
      dp.stats().cluster(missingCluster).request(code, flags);
    }
    dp.accessLog()
        .log(
            new AccessLogEntry(
                startMillis,
                method,
                path,
                protocol == null ? null : protocol.text(),
                code,
                flags,
                details,
                bytesReceived,
                bytesSent,
                duration,
                serviceTime,
                forwardedFor,
                userAgent,
                requestId,
                authority,
                upstreamHost,
                clusterName,
                upstreamLocal,
                ctx.channel().localAddress(),
                ctx.channel().remoteAddress(),
                route == null ? null : route.name()));
    if (requestComplete || closeAfterResponse || !ctx.channel().isActive()) {
      hcm.streamDone(this, closeAfterResponse);
    }
    // Otherwise the rest of the request body is still arriving: onRequestContent discards it
    // and ends the stream at its last chunk.
  }
}
