package dev.weft.proxy.http;

import dev.weft.proxy.config.DownstreamLimits;
import dev.weft.proxy.config.FilterChainConfig;
import dev.weft.proxy.config.ListenerConfig;
import dev.weft.proxy.config.RuntimeConfig;
import dev.weft.proxy.http.filter.HttpConnectionManagerConfig;
import dev.weft.proxy.http.filter.StreamInfo;
import dev.weft.proxy.net.ConnectionEvents;
import dev.weft.proxy.net.Http1ServerCodec;
import dev.weft.proxy.stats.ListenerStats;
import dev.weft.proxy.tls.PeerIdentity;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.HttpConversionUtil.ExtensionHeaderNames;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;

/**
 * Envoy's HTTP connection manager, the network filter of an HTTP filter chain, for one downstream
 * HTTP/1.1 connection (after {@code Http1ServerCodec}, with {@link DownstreamReads} in front):
 * turns each request into an {@link HttpStream}, one at a time, which runs the chain's HTTP
 * filters. Pipelined requests wait (reading pauses) until the current response is complete.
 * Messages it holds for pipelining are its own and released if the connection closes.
 *
 * <p>It enforces the connection manager's {@link DownstreamLimits} timeouts, as Envoy does: the
 * request headers timeout (first byte of a request to the end of its headers: 408, then close), the
 * idle timeout (no active request: close) and the stream idle timeout (no activity on the current
 * request: 408/504 or reset, see {@link HttpStream#onStreamIdleTimeout()}), counted under {@code
 * http.<listener>.downstream_rq_header_timeout}, {@code downstream_cx_idle_timeout} and {@code
 * downstream_rq_idle_timeout}.
 */
public final class HttpConnectionManager extends ChannelInboundHandlerAdapter {
  private final DataPlane dataPlane;
  private final ListenerConfig boundListener;
  private final int chainIndex;

  /** The bytes that followed a CONNECT head, owned here until the tunnel takes them. */
  private CompositeByteBuf tunnelBytes;

  /** A CONNECT request's head was read and its end not yet. */
  private boolean connectHead;

  private final HttpConnectionManagerConfig boundConfig;

  /** One HTTP/2 stream (a child channel): one request, no connection-level accounting. */
  private final boolean multiplexed;

  private ChannelHandlerContext ctx;
  private HttpStream current;
  private ArrayDeque<Object> pipelined;
  private boolean draining;
  private boolean closing;
  private boolean listenerDraining;
  private LazyTimeout headersTimeout;
  private LazyTimeout idleTimeout;
  private LazyTimeout streamIdleTimeout;
  private PeerIdentity peer;
  private String requestedServerName;

  /**
   * The codec of a cleartext connection that may be upgraded to HTTP/2 (h2c) until a request asks
   * for an upgrade, else null. Netty's upgrade handler is an aggregator that every message would
   * pass through; it joins the pipeline only for a request with an {@code Upgrade} header.
   */
  private Http1ServerCodec h2cCodec;

  /**
   * @param boundListener the listener configuration the connection was accepted with; requests use
   *     the current configuration of the same name when there is one
   * @param chainIndex the filter chain the connection was given, in {@code boundListener}
   * @param boundConfig that chain's connection manager; requests use the current listener's chain
   *     at the same index while it is still a connection manager
   */
  public HttpConnectionManager(
      DataPlane dataPlane,
      ListenerConfig boundListener,
      int chainIndex,
      HttpConnectionManagerConfig boundConfig) {
    this(dataPlane, boundListener, chainIndex, boundConfig, false);
  }

  private HttpConnectionManager(
      DataPlane dataPlane,
      ListenerConfig boundListener,
      int chainIndex,
      HttpConnectionManagerConfig boundConfig,
      boolean multiplexed) {
    this.dataPlane = dataPlane;
    this.boundListener = boundListener;
    this.chainIndex = chainIndex;
    this.boundConfig = boundConfig;
    this.multiplexed = multiplexed;
  }

  /**
   * The connection manager of one HTTP/2 stream of this connection (see {@link Http2Downstream}):
   * same listener, chain and TLS peer; the connection's own timers and counts stay with the
   * connection.
   */
  HttpConnectionManager forStream() {
    HttpConnectionManager m =
        new HttpConnectionManager(dataPlane, boundListener, chainIndex, boundConfig, true);
    m.peer = peer;
    m.requestedServerName = requestedServerName;
    return m;
  }

  DataPlane dataPlane() {
    return dataPlane;
  }

  /** Counts an HTTP/2 connection of this manager's listener closed by its idle timeout. */
  void idleTimedOut() {
    boundListener.stats().connectionIdleTimeout();
  }

  /** Whether this manages one HTTP/2 stream rather than an HTTP/1.1 connection. */
  boolean multiplexed() {
    return multiplexed;
  }

  /** The client began the HTTP/2 preface and broke it: the connection closes (RFC 9113 3.4). */
  void invalidPreface() {
    closing = true;
    dataPlane.stats().downstreamRqBad.increment();
  }

  /**
   * The connection's TLS handshake completed (called once, before its first request): requests see
   * the peer's identity and the SNI it asked for.
   */
  public void downstreamTls(PeerIdentity peer, String serverName) {
    this.peer = peer;
    this.requestedServerName = serverName;
  }

  /**
   * Lets this connection (cleartext HTTP/1.1 behind {@code codec}) upgrade to HTTP/2 when a request
   * asks with {@code Upgrade: h2c} (RFC 7540 3.2); called before the handler is added.
   */
  public void allowH2cUpgrade(Http1ServerCodec codec) {
    this.h2cCodec = codec;
  }

  /** The TLS peer's identity, or null on a plaintext connection. */
  PeerIdentity peer() {
    return peer;
  }

  /** The TLS SNI the client sent, or null. */
  String requestedServerName() {
    return requestedServerName;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
    DownstreamLimits l = boundConfig.limits();
    var loop = ctx.channel().eventLoop();
    headersTimeout =
        new LazyTimeout(loop, l.requestHeadersTimeoutMillis(), this::onRequestHeadersTimeout);
    idleTimeout = new LazyTimeout(loop, l.idleTimeoutMillis(), this::onIdleTimeout);
    streamIdleTimeout =
        new LazyTimeout(loop, l.streamIdleTimeoutMillis(), this::onStreamIdleTimeout);
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    if (multiplexed) {
      ctx.fireChannelActive();
      return;
    }
    boundListener.stats().connectionOpened();
    idleTimeout.start();
    ctx.fireChannelActive();
  }

  /**
   * Bytes arrived (called by {@link DownstreamReads} before the codec decodes them): with no
   * request in progress they are the first bytes of the next request's head, which starts the
   * request headers timeout and ends idleness.
   */
  void onBytesRead() {
    if (current == null && !closing && !headersTimeout.running()) {
      idleTimeout.stop();
      headersTimeout.start();
    }
  }

  /** The current stream did something (a request chunk arrived, a response part was written). */
  void streamActivity() {
    streamIdleTimeout.touch();
  }

  /** Envoy's {@code request_headers_timeout}: 408 and close, counted. */
  private void onRequestHeadersTimeout() {
    if (current != null || closing || !ctx.channel().isActive()) {
      return;
    }
    closing = true;
    boundListener.stats().requestHeaderTimeout();
    FullHttpResponse r = LocalReply.build(408, "request header timeout", null);
    boundConfig.applyServerHeader(r.headers());
    r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    // Counted and logged like any request (its method and path never arrived: "-").
    StreamInfo info = new StreamInfo();
    info.responseCode(408);
    info.responseCodeDetails("request_header_timeout");
    info.bytesSent(r.content().readableBytes());
    StreamCompletion.record(info, boundListener.stats(), dataPlane, ctx.channel(), boundConfig);
    ctx.writeAndFlush(r).addListener(ChannelFutureListener.CLOSE);
  }

  /** Envoy's {@code idle_timeout} for an HTTP/1 connection: close it, counted. */
  private void onIdleTimeout() {
    if (current != null || closing) {
      return;
    }
    closing = true;
    boundListener.stats().connectionIdleTimeout();
    ctx.close();
  }

  /** Envoy's {@code stream_idle_timeout}: the current request ends, counted. */
  private void onStreamIdleTimeout() {
    HttpStream s = current;
    if (s == null) {
      return;
    }
    boundListener.stats().requestIdleTimeout();
    s.onStreamIdleTimeout();
  }

  /** Whether the connection's listener is draining: responses close the connection. */
  boolean listenerDraining() {
    return listenerDraining;
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt == ConnectionEvents.DRAIN) {
      // Envoy's drain: an idle HTTP/1.1 connection closes now; one with a request in progress
      // answers it with Connection: close (HttpStream reads listenerDraining()) and then closes.
      listenerDraining = true;
      if (current == null && !closing && !headersTimeout.running()) {
        closing = true;
        ctx.close();
      }
      return;
    }
    if (evt == ConnectionEvents.SHED_IDLE) {
      // The proxy-wide connection limit was reached: an idle connection goes now, as if its idle
      // timeout had expired (Envoy's reduce_timeouts overload action at full pressure).
      if (current == null && !closing && !headersTimeout.running()) {
        closing = true;
        boundListener.stats().connectionIdleTimeout();
        ctx.close();
      }
      return;
    }
    ctx.fireUserEventTriggered(evt);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (tunnelBytes != null && msg instanceof ByteBuf b) {
      // Bytes behind a CONNECT head, out of the codec: the tunnel's, held until it is up.
      tunnelBytes.addComponent(true, b);
      return;
    }
    if (closing) {
      ReferenceCountUtil.release(msg);
      return;
    }
    if (h2cCodec != null
        && current == null
        && msg instanceof HttpRequest r
        && r.headers().contains(HttpHeaderNames.UPGRADE)) {
      // The first request that asks for an upgrade: Netty's h2c upgrade handler goes in front of
      // this one (after the codec) and hears this request and what follows, as if it had always
      // been there (it passes on whatever it does not upgrade).
      Http1ServerCodec codec = h2cCodec;
      h2cCodec = null;
      ChannelHandlerContext codecCtx = ctx.pipeline().context(codec);
      if (codecCtx != null) {
        ctx.pipeline().addBefore(ctx.name(), null, Http2Downstream.h2cUpgrade(this, codec));
        codecCtx.fireChannelRead(msg);
        return;
      }
    }
    if (!multiplexed && msg instanceof HttpRequest r && HttpMethod.CONNECT.equals(r.method())) {
      connectHead = true;
    }
    boolean connectEnd = connectHead && msg instanceof LastHttpContent;
    HttpStream s = current;
    if (s != null && s.requestComplete()) {
      // HTTP/1.1 pipelining: hold the next request until this response is done.
      if (pipelined == null) {
        pipelined = new ArrayDeque<>();
      }
      pipelined.add(msg);
      ctx.channel().config().setAutoRead(false);
      return;
    }
    dispatch(msg);
    if (connectEnd) {
      takeConnectTail(ctx);
    }
  }

  /**
   * The end of a CONNECT request (RFC 9110 9.3.6): what follows it on the connection is the
   * tunnel's bytes, never HTTP, and a client may send them before the 200. Netty's request decoder
   * would parse them as the next request (and drop them as a bad one), so its decoding stops here:
   * it is removed, handing the bytes it has not decoded on as they are; they and any read later
   * wait in {@link #tunnelBytes} for {@link #takeTunnelBytes} (or go with the connection). A
   * CONNECT never leaves the connection to HTTP again ({@link HttpStream} does not keep it alive).
   */
  private void takeConnectTail(ChannelHandlerContext ctx) {
    connectHead = false;
    Http1ServerCodec codec = ctx.pipeline().get(Http1ServerCodec.class);
    if (codec == null || tunnelBytes != null || !ctx.channel().isActive()) {
      return;
    }
    tunnelBytes = ctx.alloc().compositeBuffer(Integer.MAX_VALUE);
    codec.removeInboundHandler(); // re-enters channelRead with what the decoder held
  }

  /**
   * The downstream bytes read after a CONNECT head, for the tunnel (ownership passes to the
   * caller), or null when there are none.
   */
  ByteBuf takeTunnelBytes() {
    CompositeByteBuf b = tunnelBytes;
    tunnelBytes = null;
    if (b != null && !b.isReadable()) {
      b.release();
      return null;
    }
    return b;
  }

  private void dispatch(Object msg) {
    if (msg instanceof FullHttpRequest full) {
      // A whole request in one message (an HTTP/2 HEADERS frame that ends the stream): the
      // filters see a head, then its end, as from HTTP/1.1.
      DefaultHttpRequest head =
          new DefaultHttpRequest(full.protocolVersion(), full.method(), full.uri(), full.headers());
      head.setDecoderResult(full.decoderResult());
      dispatch(head);
      dispatch(new DefaultLastHttpContent(full.content(), full.trailingHeaders()));
      return;
    }
    if (msg instanceof HttpRequest req) {
      if (current != null) {
        // A new request head while the previous request's body is unfinished cannot happen with
        // a well-behaved codec; treat it as a protocol error.
        ReferenceCountUtil.release(msg);
        ctx.close();
        return;
      }
      RuntimeConfig rc = dataPlane.config();
      ListenerConfig lc = rc.listeners().get(boundListener.name());
      if (lc == null) {
        lc = boundListener;
      }
      HttpConnectionManagerConfig hcm = boundConfig;
      if (lc != boundListener && chainIndex < lc.filterChains().size()) {
        FilterChainConfig chain = lc.filterChains().get(chainIndex);
        if (chain.networkFilter() instanceof HttpConnectionManagerConfig h) {
          hcm = h;
        }
      }
      headersTimeout.stop();
      idleTimeout.stop();
      streamIdleTimeout.start();
      if (multiplexed) {
        // The HTTP/2 translation's own bookkeeping headers never leave the proxy.
        req.headers().remove(ExtensionHeaderNames.STREAM_ID.text());
        req.headers().remove(ExtensionHeaderNames.SCHEME.text());
      }
      HttpStream s = new HttpStream(this, ctx, dataPlane, rc, hcm, lc.stats());
      current = s;
      s.start(req);
      if (msg instanceof HttpContent c && current == s) {
        s.onRequestContent(c);
      } else if (msg instanceof HttpContent c) {
        ReferenceCountUtil.release(c);
      }
    } else if (msg instanceof HttpContent c) {
      HttpStream s = current;
      if (s != null) {
        s.onRequestContent(c);
      } else {
        ReferenceCountUtil.release(c);
      }
    } else {
      ReferenceCountUtil.release(msg);
    }
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    HttpStream s = current;
    if (s != null) {
      s.onDownstreamReadComplete();
    }
    ctx.fireChannelReadComplete();
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    HttpStream s = current;
    if (s != null) {
      s.onDownstreamWritabilityChanged(ctx.channel().isWritable());
    }
    ctx.fireChannelWritabilityChanged();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    if (!multiplexed) {
      boundListener.stats().connectionClosed();
    }
    headersTimeout.cancel();
    idleTimeout.cancel();
    streamIdleTimeout.cancel();
    HttpStream s = current;
    current = null;
    if (s != null) {
      s.onDownstreamClosed();
    }
    if (tunnelBytes != null) {
      tunnelBytes.release();
      tunnelBytes = null;
    }
    if (pipelined != null) {
      for (Object o : pipelined) {
        ReferenceCountUtil.release(o);
      }
      pipelined.clear();
    }
    ctx.fireChannelInactive();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    // A broken peer (reset, bad bytes): close this connection only.
    ctx.close();
  }

  /**
   * The connection leaves HTTP for a tunnel (an upgrade): no more timers of this manager; returns
   * what the tunnel runs when it closes (the listener's connection count, which this handler,
   * removed from the pipeline, no longer sees).
   */
  Runnable tunnelled() {
    closing = true;
    headersTimeout.cancel();
    idleTimeout.cancel();
    streamIdleTimeout.cancel();
    current = null;
    if (pipelined != null) {
      for (Object o : pipelined) {
        ReferenceCountUtil.release(o);
      }
      pipelined.clear();
    }
    ListenerStats stats = boundListener.stats();
    return stats::connectionClosed;
  }

  /** The connection manager's downstream limits (the tunnel's idle timeout is its stream's). */
  DownstreamLimits limits() {
    return boundConfig.limits();
  }

  /** Called by {@code s} once its response is complete (or it gave up). */
  void streamDone(HttpStream s, boolean closeConnection) {
    if (current != s) {
      return;
    }
    current = null;
    streamIdleTimeout.stop();
    if (multiplexed) {
      // An HTTP/2 stream carries one request; the stream's channel closes with it.
      return;
    }
    if (closeConnection || !ctx.channel().isActive()) {
      return;
    }
    if (draining) {
      return;
    }
    draining = true;
    boolean replayed = false;
    try {
      while (pipelined != null
          && !pipelined.isEmpty()
          && (current == null || !current.requestComplete())) {
        dispatch(pipelined.poll());
        replayed = true;
      }
    } finally {
      draining = false;
    }
    // The held messages were one read burst: end it as channelReadComplete would. Filters batch
    // their writes until then (the router flushes request bytes written upstream); without this a
    // held request body sat unflushed in a reused upstream connection and its response never came
    // (issue #5: pipelined requests with bodies hung).
    HttpStream next = current;
    if (replayed && next != null) {
      next.onDownstreamReadComplete();
    }
    if (current == null && !closing) {
      idleTimeout.start();
    }
    updateReading();
  }

  /**
   * Reads from the downstream connection unless the current stream paused reading (backpressure) or
   * pipelined messages are held: this connection manager alone decides, so that a stream resuming
   * its own reads cannot let an unbounded number of pipelined requests in.
   */
  void updateReading() {
    HttpStream s = current;
    boolean read = (s == null || !s.pausedReading()) && (pipelined == null || pipelined.isEmpty());
    if (ctx.channel().config().isAutoRead() != read) {
      ctx.channel().config().setAutoRead(read);
    }
  }
}
