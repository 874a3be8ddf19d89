package dev.weft.proxy.upstream;

import dev.weft.proxy.config.ClusterConfig;
import dev.weft.proxy.config.Endpoint;
import dev.weft.proxy.net.EventTime;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http2.HttpConversionUtil.ExtensionHeaderNames;
import io.netty.util.ReferenceCountUtil;

/**
 * The last handler of an upstream connection (after {@code Http1ClientCodec}): hands responses to
 * the stream that currently uses the connection, counts the requests it carried, and tells the pool
 * when the connection dies (freeing its circuit breaker slot).
 */
public final class UpstreamHandler extends ChannelInboundHandlerAdapter {
  private final ConnectionPool pool;
  private final Endpoint endpoint;
  private final ClusterConfig cluster;
  private final boolean multiplexed;
  private UpstreamStream stream;
  private long requests;
  private long idleSince;

  UpstreamHandler(ConnectionPool pool, Endpoint endpoint, ClusterConfig cluster) {
    this(pool, endpoint, cluster, false);
  }

  /**
   * @param multiplexed the handler of one HTTP/2 stream (the connection counts itself)
   */
  UpstreamHandler(
      ConnectionPool pool, Endpoint endpoint, ClusterConfig cluster, boolean multiplexed) {
    this.pool = pool;
    this.endpoint = endpoint;
    this.cluster = cluster;
    this.multiplexed = multiplexed;
  }

  Endpoint endpoint() {
    return endpoint;
  }

  /** The cluster (version) the connection was made for; its state is the cluster's. */
  ClusterConfig cluster() {
    return cluster;
  }

  /** Requests the connection has carried. */
  long requests() {
    return requests;
  }

  void attach(UpstreamStream s) {
    this.stream = s;
    requests++;
  }

  void detach() {
    this.stream = null;
  }

  void idleSince(long nanos) {
    idleSince = nanos;
  }

  /** Whether the connection has been idle in the pool longer than its cluster's idle timeout. */
  boolean idleExpired(long now) {
    long t = cluster.policy().idleTimeoutMillis();
    return t > 0 && now - idleSince >= t * 1_000_000L;
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    if (!multiplexed) {
      cluster.stats().connectionOpened();
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
    // The response's time stamps (service time, the stream's end, the pool's idle mark, the
    // downstream timeouts) are this read's.
    EventTime t = EventTime.current();
    t.enter();
    try {
      s.onUpstreamResponse(obj);
    } finally {
      t.exit();
    }
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
      cluster.stats().connectionClosed();
      endpoint.stats().connectionClosed();
    }
    UpstreamStream s = stream;
    stream = null;
    if (!multiplexed) {
      // An HTTP/2 stream is no pooled connection (Http2Connections counts its connection).
      pool.connectionClosed(this, ctx.channel());
    }
    if (s != null) {
      s.onUpstreamClosed(multiplexed ? "remote reset" : "connection termination");
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    ctx.close();
  }
}
