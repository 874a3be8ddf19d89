package dev.weft.proxy.http;

import dev.weft.proxy.config.FilterChainConfig;
import dev.weft.proxy.config.HttpConnectionManagerConfig;
import dev.weft.proxy.config.ListenerConfig;
import dev.weft.proxy.config.RuntimeConfig;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;

/**
 * Envoy's HTTP connection manager, the network filter of an HTTP filter chain, for one downstream
 * HTTP/1.1 connection (after {@code HttpServerCodec}): turns each request into an {@link
 * HttpStream}, one at a time, which runs the chain's HTTP filters. Pipelined requests wait (reading
 * pauses) until the current response is complete. Messages it holds for pipelining are its own and
 * released if the connection closes.
 */
public final class HttpConnectionManager extends ChannelInboundHandlerAdapter {
  private final DataPlane dataPlane;
  private final ListenerConfig boundListener;
  private final int chainIndex;
  private final HttpConnectionManagerConfig boundConfig;
  private ChannelHandlerContext ctx;
  private HttpStream current;
  private ArrayDeque<Object> pipelined;
  private boolean draining;

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
    this.dataPlane = dataPlane;
    this.boundListener = boundListener;
    this.chainIndex = chainIndex;
    this.boundConfig = boundConfig;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    boundListener.stats().connectionOpened();
    ctx.fireChannelActive();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
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
  }

  private void dispatch(Object msg) {
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
    boundListener.stats().connectionClosed();
    HttpStream s = current;
    current = null;
    if (s != null) {
      s.onDownstreamClosed();
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

  /** Called by {@code s} once its response is complete (or it gave up). */
  void streamDone(HttpStream s, boolean closeConnection) {
    if (current != s) {
      return;
    }
    current = null;
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
    updateReading();
  }

  /**
   * Reads from the downstream connection unless the current stream paused reading (backpressure)
   * or pipelined messages are held: this connection manager alone decides, so that a stream
   * resuming its own reads cannot let an unbounded number of pipelined requests in.
   */
  void updateReading() {
    HttpStream s = current;
    boolean read = (s == null || !s.pausedReading()) && (pipelined == null || pipelined.isEmpty());
    if (ctx.channel().config().isAutoRead() != read) {
      ctx.channel().config().setAutoRead(read);
    }
  }
}
