package dev.weft.proxy.http;

import dev.weft.proxy.config.ListenerConfig;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;

/**
 * Envoy's HTTP connection manager for one downstream HTTP/1.1 connection (after {@code
 * HttpServerCodec}): turns each request into a {@link Stream}, one at a time. Pipelined requests
 * wait (reading pauses) until the current response is complete.
 */
public final class HttpConnectionManager extends ChannelInboundHandlerAdapter {
  private final DataPlane dataPlane;
  private final ListenerConfig boundListener;
  private ChannelHandlerContext ctx;
  private Stream current;
  private ArrayDeque<Object> pipelined;
  private boolean draining;

  /**
   * @param boundListener the listener configuration this socket was bound with; requests use the
   *     current configuration of the same name when there is one
   */
  public HttpConnectionManager(DataPlane dataPlane, ListenerConfig boundListener) {
    this.dataPlane = dataPlane;
    this.boundListener = boundListener;
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
    Stream s = current;
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
      ListenerConfig lc = dataPlane.config().listeners().get(boundListener.name());
      Stream s = new Stream(this, ctx, dataPlane, lc != null ? lc : boundListener);
      current = s;
      s.start(req);
      if (msg instanceof HttpContent c && current == s) {
        s.onRequestContent(c);
      } else if (msg instanceof HttpContent c) {
        ReferenceCountUtil.release(c);
      }
    } else if (msg instanceof HttpContent c) {
      Stream s = current;
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
    Stream s = current;
    if (s != null) {
      s.flushUpstream();
    }
    ctx.fireChannelReadComplete();
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    Stream s = current;
    if (s != null) {
      s.onDownstreamWritabilityChanged(ctx.channel().isWritable());
    }
    ctx.fireChannelWritabilityChanged();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    boundListener.stats().connectionClosed();
    Stream s = current;
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
  void streamDone(Stream s, boolean closeConnection) {
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
    try {
      while (pipelined != null
          && !pipelined.isEmpty()
          && (current == null || !current.requestComplete())) {
        dispatch(pipelined.poll());
      }
    } finally {
      draining = false;
    }
    if ((pipelined == null || pipelined.isEmpty())
        && (current == null || !current.pausedReading())) {
      ctx.channel().config().setAutoRead(true);
    }
  }
}
