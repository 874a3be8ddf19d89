package dev.weft.proxy.upstream;

import dev.weft.proxy.config.Endpoint;
import dev.weft.proxy.stats.ClusterStats;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http2.HttpConversionUtil.ExtensionHeaderNames;
import io.netty.util.ReferenceCountUtil;

/**
 * The last handler of an upstream connection (after {@code HttpClientCodec}): hands responses to
 * the stream that currently uses the connection, and tells the pool when an idle connection dies.
 */
public final class UpstreamHandler extends ChannelInboundHandlerAdapter {
  private final ConnectionPool pool;
  private final Endpoint endpoint;
  private final ClusterStats clusterStats;
  private final boolean multiplexed;
  private UpstreamStream stream;

  UpstreamHandler(ConnectionPool pool, Endpoint endpoint, ClusterStats clusterStats) {
    this(pool, endpoint, clusterStats, false);
  }

  /**
   * @param multiplexed the handler of one HTTP/2 stream (the connection counts itself)
   */
  UpstreamHandler(
      ConnectionPool pool, Endpoint endpoint, ClusterStats clusterStats, boolean multiplexed) {
    this.pool = pool;
    this.endpoint = endpoint;
    this.clusterStats = clusterStats;
    this.multiplexed = multiplexed;
  }

  Endpoint endpoint() {
    return endpoint;
  }

  void attach(UpstreamStream s) {
    this.stream = s;
  }

  void detach() {
    this.stream = null;
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    if (!multiplexed) {
      clusterStats.connectionOpened();
      endpoint.stats().connectionOpened();
    }
    ctx.fireChannelActive();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    UpstreamStream s = stream;
    if (s == null || !(msg instanceof HttpObject obj)) {
      // An idle connection must not talk; it is no longer usable.
      ReferenceCountUtil.release(msg);
      ctx.close();
      return;
    }
    if (obj.decoderResult().isFailure()) {
      ReferenceCountUtil.release(msg);
      stream = null;
      ctx.close();
      s.onUpstreamClosed("protocol error");
      return;
    }
    if (multiplexed && obj instanceof HttpMessage m) {
      // The HTTP/2 translation's bookkeeping headers never leave the proxy.
      m.headers().remove(ExtensionHeaderNames.STREAM_ID.text());
      m.headers().remove(ExtensionHeaderNames.SCHEME.text());
    }
    s.onUpstreamResponse(obj);
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    UpstreamStream s = stream;
    if (s != null) {
      s.onUpstreamReadComplete();
    }
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    UpstreamStream s = stream;
    if (s != null) {
      s.onUpstreamWritabilityChanged(ctx.channel().isWritable());
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    if (!multiplexed) {
      clusterStats.connectionClosed();
      endpoint.stats().connectionClosed();
    }
    UpstreamStream s = stream;
    stream = null;
    if (s != null) {
      s.onUpstreamClosed(multiplexed ? "remote reset" : "connection termination");
    } else if (!multiplexed) {
      pool.removeIdle(endpoint, ctx.channel());
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    ctx.close();
  }
}
