package dev.weft.proxy.http;

import dev.weft.proxy.net.EventTime;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

/**
 * The first handler of a downstream HTTP connection, in front of its {@code Http1ServerCodec}:
 * tells the {@link HttpConnectionManager} when bytes arrive, before they are decoded. Envoy's
 * request headers timeout starts at the first byte of a request, which the connection manager
 * behind the codec would otherwise only see once the whole head is decoded. One call per read, no
 * allocation; the bytes pass on untouched (the codec owns them).
 */
public final class DownstreamReads extends ChannelInboundHandlerAdapter {
  private final HttpConnectionManager connection;

  public DownstreamReads(HttpConnectionManager connection) {
    this.connection = connection;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    // What this read decodes (a request's start, its timeouts, its way upstream) is stamped with
    // the read's time: one clock reading per read.
    EventTime t = EventTime.current();
    t.enter();
    try {
      connection.onBytesRead();
      ctx.fireChannelRead(msg);
    } finally {
      t.exit();
    }
  }
}
