package dev.weft.proxy.http;

import dev.weft.proxy.config.Route;
import dev.weft.proxy.config.RouteAction;
import dev.weft.proxy.config.RouteTable;
import dev.weft.proxy.config.RuntimeConfig;
import dev.weft.proxy.config.VirtualHost;
import dev.weft.proxy.http.filter.FilterStatus;
import dev.weft.proxy.http.filter.Grpc;
import dev.weft.proxy.http.filter.HttpConnectionManagerConfig;
import dev.weft.proxy.http.filter.HttpFilter;
import dev.weft.proxy.http.filter.HttpFilterCallbacks;
import dev.weft.proxy.http.filter.HttpFilterChain;
import dev.weft.proxy.http.filter.ResponseFlags;
import dev.weft.proxy.http.filter.StreamInfo;
import dev.weft.proxy.net.HeaderNames;
import dev.weft.proxy.net.Http1ClientCodec;
import dev.weft.proxy.net.Http1ServerCodec;
import dev.weft.proxy.stats.ListenerStats;
import dev.weft.proxy.stats.PeerMetadata;
import dev.weft.proxy.tcp.TcpProxySession;
import dev.weft.proxy.upstream.ConnectionPool;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.ReferenceCounted;
import java.util.Iterator;
import java.util.function.IntUnaryOperator;

/**
 * One HTTP/1.1 request and its response on a downstream connection: Envoy's {@code ActiveStream}
 * with its filter manager. It validates the request line, runs the request through the listener's
 * HTTP filters in order and the response back through them in reverse, frames the response for the
 * downstream connection, sends local replies, and at the end counts the request and writes its
 * access log entry. The terminal filter (the router) talks to the upstream.
 *
 * <p>Buffers: request chunks from the codec are owned here until a filter passes them to the
 * terminal filter (which then owns them); chunks held while a filter has stopped the chain are
 * owned by this stream's {@link FilterQueue}s and released if the stream ends first. Response
 * objects handed to {@link #encodeData} are written downstream (the channel releases them) or
 * released.
 *
 * <p>Lives on the downstream connection's event loop; nothing here blocks or logs per request.
 */
final class HttpStream implements HttpFilterCallbacks {
  private static final AsciiString X_FORWARDED_FOR = AsciiString.cached("x-forwarded-for");
  private static final HttpFilter[] NO_FILTERS = new HttpFilter[0];

  private final HttpConnectionManager connection;
  private final ChannelHandlerContext ctx;
  private final DataPlane dp;
  private final RuntimeConfig config;
  private final HttpConnectionManagerConfig hcmConfig;
  private final ListenerStats listenerStats;
  private final StreamInfo info = new StreamInfo();
  private final HttpFilter[] filters;
  private final HttpFilter terminal;

  private HttpRequest head;
  private boolean routeResolved;
  private VirtualHost virtualHost;
  private Route route;
  private FilterQueue decodeQueue;
  private FilterQueue encodeQueue;
  private boolean downstreamKeepAlive;
  private boolean requestComplete;
  private boolean responseStarted;
  private boolean closeAfterResponse;
  private boolean pausedReading;
  private boolean finished;

  /**
   * A response head framed for HTTP/1 and not written yet: it goes with the next response part, as
   * one message when that is the end ({@link #writeResponseData}), or at the next flush.
   */
  private HttpResponse heldHead;

  HttpStream(
      HttpConnectionManager connection,
      ChannelHandlerContext ctx,
      DataPlane dataPlane,
      RuntimeConfig config,
      HttpConnectionManagerConfig hcmConfig,
      ListenerStats listenerStats) {
    this.connection = connection;
    this.ctx = ctx;
    this.dp = dataPlane;
    this.config = config;
    this.hcmConfig = hcmConfig;
    this.listenerStats = listenerStats;
    info.downstream(ctx.channel().remoteAddress(), ctx.channel().localAddress());
    HttpFilterChain chain = hcmConfig.httpFilters();
    int n = chain.perStreamSize();
    if (n == 0) {
      filters = NO_FILTERS;
    } else {
      filters = new HttpFilter[n];
      for (int i = 0; i < n; i++) {
        filters[i] = chain.perStream(i).create(this);
      }
    }
    terminal = chain.terminal().create(this);
  }

  boolean pausedReading() {
    return pausedReading;
  }

  // ------------------------------------------------------------------ request

  /** The request head arrived; it runs through the filters once it is valid. */
  void start(HttpRequest req) {
    HttpMethod m = req.method();
    HttpVersion protocol = req.protocolVersion();
    boolean isHead = m == HttpMethod.HEAD || HttpMethod.HEAD.equals(m);
    info.request(m.name(), null, protocol, isHead);
    info.downstreamTls(connection.peer(), connection.requestedServerName());
    HttpHeaders h = req.headers();
    if (connection.multiplexed()) {
      // An HTTP/2 stream, translated: no HTTP/1 version or keep-alive to check (RFC 9113 8.2.2:
      // connection-specific fields were refused by the codec).
      info.request(m.name(), null, StreamInfo.HTTP_2, isHead);
      startValidated(req, h, m, isHead);
      return;
    }
    if (req.decoderResult().isFailure()) {
      info.path(req.uri());
      downstreamKeepAlive = false;
      dp.stats().downstreamRqBad.increment();
      Throwable cause = req.decoderResult().cause();
      if (cause instanceof TooLongHttpHeaderException
          || cause instanceof TooLongHttpLineException) {
        // Envoy's max_request_headers_kb (the request line counts too): 431.
        localReply(
            431,
            "Request Header Fields Too Large",
            ResponseFlags.DOWNSTREAM_PROTOCOL_ERROR,
            "http1.headers_too_large");
      } else {
        localReply(
            400, "Bad Request", ResponseFlags.DOWNSTREAM_PROTOCOL_ERROR, "http1.codec_error");
      }
      return;
    }
    if (protocol.majorVersion() != 1) {
      // RFC 9110 15.6.6: the major version is not supported (HTTP/2.0, HTTP/0.9 on an HTTP/1
      // connection). Answered in HTTP/1.1, and the connection closes.
      info.path(req.uri());
      downstreamKeepAlive = false;
      dp.stats().downstreamRqBad.increment();
      localReply(
          505,
          "HTTP Version Not Supported",
          ResponseFlags.DOWNSTREAM_PROTOCOL_ERROR,
          "http1.unsupported_http_version");
      return;
    }
    if (protocol.minorVersion() > 1) {
      // RFC 9110 6.2: a higher minor version is processed as the highest one we implement, and
      // forwarded as such (HTTP/1.7 goes upstream as HTTP/1.1).
      protocol = HttpVersion.HTTP_1_1;
      req.setProtocolVersion(protocol);
      info.request(m.name(), null, protocol, isHead);
    }
    // RFC 9110 9.3.6: after a CONNECT the connection is a tunnel or, refused, done: the bytes
    // that followed its head are not HTTP (the connection manager took them out of the codec).
    downstreamKeepAlive = HttpUtil.isKeepAlive(req) && !HttpMethod.CONNECT.equals(m);
    startValidated(req, h, m, isHead);
  }

  /** The request's HTTP/1-specific checks passed (or it arrived over HTTP/2). */
  private void startValidated(HttpRequest req, HttpHeaders h, HttpMethod m, boolean isHead) {
    if (connection.multiplexed()) {
      downstreamKeepAlive = true;
    }
    info.body(
        HttpUtil.isTransferEncodingChunked(req) || HttpUtil.getContentLength(req, 0L) > 0,
        HttpUtil.is100ContinueExpected(req));
    info.client(h.get(HttpHeaderNames.USER_AGENT), h.get(X_FORWARDED_FOR));
    info.grpc(Grpc.isGrpc(h));
    if (h.size() > hcmConfig.limits().maxHeadersCount()) {
      // Envoy's max_headers_count: 431.
      info.path(req.uri());
      downstreamKeepAlive = false;
      localReply(
          431,
          "Request Header Fields Too Large",
          ResponseFlags.DOWNSTREAM_PROTOCOL_ERROR,
          "http1.too_many_headers");
      return;
    }
    if (moreThanOneHost(h)) {
      // RFC 9112 3.2: a request with more than one Host field line gets 400.
      info.path(req.uri());
      downstreamKeepAlive = false;
      dp.stats().downstreamRqBad.increment();
      localReply(
          400, "Bad Request", ResponseFlags.DOWNSTREAM_PROTOCOL_ERROR, "http1.duplicate_host");
      return;
    }
    if (!RequestTarget.parse(req, info)) {
      dp.stats().downstreamRqBad.increment();
      localReply(400, "Bad Request", ResponseFlags.DOWNSTREAM_PROTOCOL_ERROR, "invalid_url");
      return;
    }
    String authority = info.authority();
    if (authority == null || authority.isEmpty()) {
      localReply(
          400, "Bad Request", ResponseFlags.DOWNSTREAM_PROTOCOL_ERROR, "missing_host_header");
      return;
    }
    info.requestId(RequestIds.ensure(h));
    dev.weft.proxy.accesslog.AccessLogConfig accessLog = hcmConfig.accessLog();
    if (accessLog != null && !accessLog.headers().isEmpty()) {
      java.util.List<String> names = accessLog.headers();
      String[] values = new String[names.size()];
      for (int i = 0; i < values.length; i++) {
        values[i] = h.get(names.get(i));
      }
      info.logHeaders(values);
    }
    dev.weft.proxy.tracing.TracingConfig tracing = hcmConfig.tracing();
    if (tracing != null) {
      info.span(dp.tracer().start(tracing, h));
    }
    if (hcmConfig.inbound()) {
      // Istio's istio.metadata_exchange HTTP filter, first in a sidecar's inbound chain: the
      // client proxy's metadata is read (and removed) before RBAC, JWT and the router, so that a
      // stream they answer still reports its source. Outbound and gateway streams skip it.
      PeerMetadata peer = dp.stats().telemetry().onDownstreamRequest(h);
      if (peer != null) {
        info.peerMetadata(peer);
      }
    }
    head = req;
    decodeHeaders(0);
  }

  private static boolean moreThanOneHost(HttpHeaders h) {
    Iterator<? extends CharSequence> it = h.valueCharSequenceIterator(HeaderNames.HOST);
    if (!it.hasNext()) {
      return false;
    }
    it.next();
    return it.hasNext();
  }

  private void decodeHeaders(int from) {
    HttpFilter[] fs = filters;
    for (int i = from; i < fs.length; i++) {
      FilterStatus s = fs[i].decodeHeaders(head);
      if (finished) {
        return;
      }
      if (s == FilterStatus.STOP) {
        decodeQueue().stop(i, null);
        return;
      }
    }
    terminal.decodeHeaders(head);
  }

  /** A request body chunk arrived from the codec; this stream owns it. */
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
    info.addBytesReceived(c.content().readableBytes());
    connection.streamActivity();
    boolean last = c instanceof LastHttpContent;
    if (last) {
      requestComplete = true;
    }
    if (finished) {
      ReferenceCountUtil.release(c);
      if (last) {
        connection.streamDone(this, closeAfterResponse);
      }
      return;
    }
    FilterQueue q = decodeQueue;
    if (q != null && q.stopped()) {
      if (q.enqueue(c)) {
        pauseDownstreamReading();
      }
      return;
    }
    decodeData(c, 0);
  }

  private void decodeData(HttpContent c, int from) {
    HttpFilter[] fs = filters;
    for (int i = from; i < fs.length; i++) {
      FilterStatus s = fs[i].decodeData(c);
      if (finished) {
        ReferenceCountUtil.release(c);
        return;
      }
      if (s == FilterStatus.STOP) {
        decodeQueue().stop(i, c);
        return;
      }
    }
    terminal.decodeData(c);
  }

  private FilterQueue decodeQueue() {
    if (decodeQueue == null) {
      decodeQueue = new FilterQueue();
    }
    return decodeQueue;
  }

  @Override
  public void continueDecoding() {
    FilterQueue q = decodeQueue;
    if (finished || q == null || !q.stopped()) {
      return;
    }
    boolean wasFull = q.full();
    int from = q.stoppedAt() + 1;
    Object held = q.resume();
    if (held == null) {
      decodeHeaders(from);
    } else {
      decodeData((HttpContent) held, from);
    }
    HttpContent next;
    while (!finished && !q.stopped() && (next = (HttpContent) q.poll()) != null) {
      decodeData(next, 0);
    }
    if (wasFull && !finished && !q.full()) {
      resumeDownstreamReading();
    }
  }

  /** The end of a downstream read burst. */
  void onDownstreamReadComplete() {
    for (HttpFilter f : filters) {
      f.onDownstreamReadComplete();
    }
    terminal.onDownstreamReadComplete();
  }

  void onDownstreamWritabilityChanged(boolean writable) {
    for (HttpFilter f : filters) {
      f.onDownstreamWritabilityChanged(writable);
    }
    terminal.onDownstreamWritabilityChanged(writable);
  }

  // ------------------------------------------------------------------ response

  @Override
  public void encode100Continue() {
    ctx.writeAndFlush(
        new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE));
  }

  @Override
  public void encodeHeaders(HttpResponse r) {
    encodeHeaders(r, filters.length - 1);
  }

  private void encodeHeaders(HttpResponse r, int from) {
    HttpFilter[] fs = filters;
    for (int i = from; i >= 0; i--) {
      FilterStatus s = fs[i].encodeHeaders(r);
      if (finished) {
        ReferenceCountUtil.release(r);
        return;
      }
      if (s == FilterStatus.STOP) {
        encodeQueue().stop(i, r);
        return;
      }
    }
    writeResponseHead(r);
  }

  @Override
  public void encodeData(HttpContent c) {
    if (finished) {
      ReferenceCountUtil.release(c);
      return;
    }
    FilterQueue q = encodeQueue;
    if (q != null && q.stopped()) {
      q.enqueue(c);
      return;
    }
    encodeData(c, filters.length - 1);
  }

  private void encodeData(HttpContent c, int from) {
    HttpFilter[] fs = filters;
    for (int i = from; i >= 0; i--) {
      FilterStatus s = fs[i].encodeData(c);
      if (finished) {
        ReferenceCountUtil.release(c);
        return;
      }
      if (s == FilterStatus.STOP) {
        encodeQueue().stop(i, c);
        return;
      }
    }
    writeResponseData(c);
  }

  private FilterQueue encodeQueue() {
    if (encodeQueue == null) {
      encodeQueue = new FilterQueue();
    }
    return encodeQueue;
  }

  @Override
  public void continueEncoding() {
    FilterQueue q = encodeQueue;
    if (finished || q == null || !q.stopped()) {
      return;
    }
    int from = q.stoppedAt() - 1;
    Object held = q.resume();
    if (held instanceof HttpResponse r) {
      encodeHeaders(r, from);
    } else {
      encodeData((HttpContent) held, from);
    }
    HttpContent next;
    while (!finished && !q.stopped() && (next = (HttpContent) q.poll()) != null) {
      encodeData(next, filters.length - 1);
    }
    if (!finished && downstreamWritable()) {
      onDownstreamWritabilityChanged(true);
    }
  }

  /**
   * Frames the response head for this downstream connection and writes it. Writes here use the void
   * promise (no {@code ChannelPromise} per write, nothing listens to it): a failed write reaches
   * {@link HttpConnectionManager#exceptionCaught}, which closes the connection, as the transport
   * already does on a write error.
   */
  private void writeResponseHead(HttpResponse r) {
    if (connection.multiplexed()) {
      // HTTP/2 frames the body itself; the codec drops connection-specific fields (RFC 9113
      // 8.2.2). A response that ends before the request does resets the rest (RFC 9113 8.1).
      r.headers().remove(HttpHeaderNames.TRANSFER_ENCODING);
      closeAfterResponse |= !requestComplete && info.expectsBody();
    } else {
      closeAfterResponse = frameForHttp1(r);
    }
    responseStarted = true;
    connection.streamActivity();
    if (info.grpc()) {
      Grpc.recordStatus(info, r.headers());
    }
    if (r instanceof LastHttpContent last) {
      if (info.grpc()) {
        Grpc.recordStatus(info, last.trailingHeaders());
      }
      info.addBytesSent(last.content().readableBytes());
      ctx.write(r, ctx.voidPromise());
      endResponse();
    } else if (connection.multiplexed() || r instanceof ReferenceCounted) {
      ctx.write(r, ctx.voidPromise());
    } else {
      // Held until the next part or flush (nothing reaches the socket before a flush anyway): a
      // response whose end is read with its head leaves as one message, one pass through the
      // pipeline and the codec's encoder instead of two.
      heldHead = r;
    }
  }

  /** Writes the held response head, if any. */
  private void writeHeldHead() {
    HttpResponse r = heldHead;
    if (r != null) {
      heldHead = null;
      ctx.write(r, ctx.voidPromise());
    }
  }

  private boolean frameForHttp1(HttpResponse r) {
    return ResponseFraming.frame(
        r,
        info.protocol(),
        info.isHead(),
        // A bodiless request whose end has not been read yet (a filter answering from
        // decodeHeaders: the CORS preflight) keeps the connection, as a local reply does.
        requestComplete || !info.expectsBody(),
        downstreamKeepAlive && !connection.listenerDraining(),
        closeAfterResponse);
  }

  private void writeResponseData(HttpContent c) {
    info.addBytesSent(c.content().readableBytes());
    connection.streamActivity();
    if (c instanceof LastHttpContent last && info.grpc()) {
      Grpc.recordStatus(info, last.trailingHeaders());
    }
    HttpResponse held = heldHead;
    if (held != null && c instanceof LastHttpContent last) {
      // Head and end as one message; the full response owns the end's content now.
      heldHead = null;
      ctx.write(
          new DefaultFullHttpResponse(
              held.protocolVersion(),
              held.status(),
              last.content(),
              held.headers(),
              last.trailingHeaders()),
          ctx.voidPromise());
    } else {
      writeHeldHead();
      ctx.write(c, ctx.voidPromise());
    }
    if (c instanceof LastHttpContent) {
      endResponse();
    }
  }

  private void endResponse() {
    if (closeAfterResponse && connection.multiplexed()) {
      ctx.flush();
      ctx.close(); // RST_STREAM for the unfinished request
    } else if (closeAfterResponse) {
      ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
    } else {
      ctx.flush();
    }
    finish();
  }

  // ------------------------------------------------------------------ local replies, resets

  @Override
  public void sendLocalReply(int status, String body, String responseFlags, String details) {
    localReply(status, body, responseFlags, details, null);
  }

  @Override
  public void sendRedirect(int status, String location) {
    localReply(status, "", ResponseFlags.NONE, "redirect", location);
  }

  private void localReply(int status, String body, String responseFlags, String details) {
    localReply(status, body, responseFlags, details, null);
  }

  private void localReply(
      int status, String body, String responseFlags, String details, String location) {
    if (finished) {
      return;
    }
    if (responseStarted) {
      ctx.close();
      finish();
      return;
    }
    releaseQueues();
    info.responseCode(status);
    info.responseFlags(responseFlags);
    info.responseCodeDetails(details);
    FullHttpResponse resp =
        info.grpc() && location == null
            ? Grpc.localReply(status, body)
            : LocalReply.build(status, body, location);
    HttpHeaders h = resp.headers();
    if (info.grpc()) {
      Grpc.recordStatus(info, h);
      info.responseCode(resp.status().code());
    }
    hcmConfig.applyServerHeader(h);
    Route r = info.route();
    if (r != null
        && (r.action() instanceof RouteAction.DirectResponse
            || r.action() instanceof RouteAction.Redirect)) {
      r.responseHeaders().apply(h);
    }
    if (!requestComplete && info.expectsBody()) {
      // Answered before the request body arrived: do not wait for it, close after replying.
      closeAfterResponse = true;
    }
    if (!downstreamKeepAlive || closeAfterResponse || connection.listenerDraining()) {
      closeAfterResponse = true;
      h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    }
    info.bytesSent(info.isHead() ? 0 : resp.content().readableBytes());
    responseStarted = true;
    if (closeAfterResponse) {
      ctx.writeAndFlush(resp).addListener(ChannelFutureListener.CLOSE);
    } else {
      ctx.writeAndFlush(resp);
    }
    finish();
  }

  @Override
  public void resetStream(String responseFlags, String details) {
    if (finished) {
      return;
    }
    info.responseFlags(responseFlags);
    info.responseCodeDetails(details);
    closeAfterResponse = true;
    ctx.close();
    finish();
  }

  /**
   * Envoy's {@code stream_idle_timeout} expired: nothing happened on this stream for that long.
   * Like Envoy, 408 while the request is incomplete (then the connection closes), 504 once it is
   * complete, a reset once the response started; flag {@code SI}, details {@code
   * stream_idle_timeout}.
   */
  void onStreamIdleTimeout() {
    if (finished) {
      // Answered, but the request body never finished arriving.
      ctx.close();
      return;
    }
    if (responseStarted) {
      resetStream(ResponseFlags.STREAM_IDLE_TIMEOUT, "stream_idle_timeout");
      return;
    }
    if (!requestComplete) {
      closeAfterResponse = true;
    }
    localReply(
        requestComplete ? 504 : 408,
        "stream timeout",
        ResponseFlags.STREAM_IDLE_TIMEOUT,
        "stream_idle_timeout");
  }

  /** The downstream connection closed. */
  void onDownstreamClosed() {
    releaseQueues();
    if (finished) {
      return;
    }
    info.responseFlags(ResponseFlags.DOWNSTREAM_CONNECTION_TERMINATION);
    info.responseCodeDetails("downstream_remote_disconnect");
    if (!responseStarted) {
      info.responseCode(0);
    }
    closeAfterResponse = true;
    finish();
  }

  private void releaseQueues() {
    if (decodeQueue != null) {
      decodeQueue.release();
    }
    if (encodeQueue != null) {
      encodeQueue.release();
    }
  }

  @Override
  public void switchProtocols(HttpResponse r, Channel upstream) {
    if (finished) {
      ReferenceCountUtil.release(r);
      upstream.close();
      return;
    }
    // The 101 goes out as a complete message: the codec then has nothing left to frame.
    DefaultFullHttpResponse head =
        new DefaultFullHttpResponse(r.protocolVersion(), r.status(), Unpooled.EMPTY_BUFFER);
    head.headers().set(r.headers());
    ReferenceCountUtil.release(r);
    hcmConfig.applyServerHeader(head.headers());
    info.responseCode(head.status().code());
    responseStarted = true;
    ctx.writeAndFlush(head, ctx.voidPromise());
    closeAfterResponse = true; // the connection never carries HTTP again
    Runnable closed = connection.tunnelled();
    long idle = connection.limits().streamIdleTimeoutMillis();
    finish();
    ChannelPipeline p = ctx.pipeline();
    Channel down = ctx.channel();
    p.remove(DownstreamReads.class);
    p.remove(ctx.handler());
    // Removing the codec hands its undecoded bytes on: the tunnel is added first to take them.
    // After a CONNECT the connection manager took them out of the codec already (null for a 101
    // upgrade): they go first, in order.
    Http1ServerCodec codec = p.get(Http1ServerCodec.class);
    TcpProxySession.tunnel(
        down,
        upstream,
        upstream.pipeline().get(Http1ClientCodec.class),
        upstream.pipeline().last(),
        idle,
        closed,
        connection.takeTunnelBytes());
    if (codec != null) {
      p.remove(codec);
    }
  }

  /** Ends the stream once: filters destroyed, stats counted, access log written. */
  private void finish() {
    if (finished) {
      return;
    }
    finished = true;
    for (HttpFilter f : filters) {
      f.onDestroy();
    }
    terminal.onDestroy();
    releaseQueues();
    if (pausedReading && !closeAfterResponse) {
      pausedReading = false;
      connection.updateReading(); // the rest of the request body is read and discarded
    }
    StreamCompletion.record(info, listenerStats, dp, ctx.channel(), hcmConfig);
    if (requestComplete || closeAfterResponse || !ctx.channel().isActive()) {
      connection.streamDone(this, closeAfterResponse);
    }
    // Otherwise the rest of the request body is still arriving: onRequestContent discards it
    // and ends the stream at its last chunk.
  }

  // ------------------------------------------------------------------ HttpFilterCallbacks

  @Override
  public StreamInfo streamInfo() {
    return info;
  }

  @Override
  public HttpConnectionManagerConfig connectionManager() {
    return hcmConfig;
  }

  @Override
  public RuntimeConfig config() {
    return config;
  }

  @Override
  public VirtualHost virtualHost() {
    resolveRoute();
    return virtualHost;
  }

  @Override
  public Route route() {
    resolveRoute();
    return route;
  }

  /** Envoy's cached route: virtual host by authority, then the first matching route. */
  private void resolveRoute() {
    if (routeResolved) {
      return;
    }
    routeResolved = true;
    RouteTable table = hcmConfig.routes(config);
    virtualHost = table == null ? null : table.virtualHost(info.authority());
    route =
        virtualHost == null
            ? null
            : hcmConfig
                .httpFilters()
                .routeSelector()
                .select(virtualHost, info.path(), info.method(), info.authority(), head.headers());
  }

  @Override
  public EventLoop eventLoop() {
    return ctx.channel().eventLoop();
  }

  @Override
  public ConnectionPool connectionPool() {
    return dp.pool(ctx.channel().eventLoop());
  }

  @Override
  public IntUnaryOperator random() {
    return dp.random();
  }

  @Override
  public boolean requestComplete() {
    return requestComplete;
  }

  @Override
  public boolean responseStarted() {
    return responseStarted;
  }

  @Override
  public boolean downstreamWritable() {
    FilterQueue q = encodeQueue;
    return ctx.channel().isWritable() && (q == null || !q.full());
  }

  @Override
  public void pauseDownstreamReading() {
    if (!pausedReading) {
      pausedReading = true;
      connection.updateReading();
    }
  }

  @Override
  public void resumeDownstreamReading() {
    if (pausedReading) {
      pausedReading = false;
      connection.updateReading();
    }
  }

  @Override
  public void flushDownstream() {
    if (!finished) {
      writeHeldHead();
      ctx.flush();
    }
  }
}
