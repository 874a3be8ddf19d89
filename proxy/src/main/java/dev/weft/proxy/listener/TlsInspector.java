package dev.weft.proxy.listener;

import dev.weft.proxy.tls.ClientHello;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.ssl.SslClientHelloHandler;
import io.netty.util.concurrent.Future;
import java.util.List;

/**
 * Envoy's {@code envoy.filters.listener.tls_inspector}: the first handler of a connection on a
 * listener whose chains match on TLS facts. It buffers the first bytes until it knows whether they
 * start a TLS ClientHello; if so it reads the SNI and ALPN offered, else the transport protocol is
 * {@code raw_buffer}. Then, unless an {@link HttpInspector} follows for a plaintext connection, it
 * has the {@link Inspection} install the chosen chain's handlers after it and removes itself; the
 * buffered bytes, never consumed, go on to those handlers (or to the HTTP inspector). The
 * listener's {@code listener_filters_timeout} is the {@link Inspection}'s. One per connection, on
 * its event loop.
 */
final class TlsInspector extends SslClientHelloHandler<ClientHello> {
  /** Envoy's default {@code listener_filters_timeout}. */
  static final long TIMEOUT_MILLIS = 15_000;

  private final Inspection inspection;

  TlsInspector(Inspection inspection) {
    this.inspection = inspection;
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    // Held back: the chain's handlers do not exist yet; onLookupComplete fires it for them.
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
    if (inspection.done()) {
      // The connection matched no chain and is closing: its bytes go nowhere (and are not
      // inspected again).
      in.skipBytes(in.readableBytes());
      return;
    }
    super.decode(ctx, in, out);
  }

  @Override
  protected Future<ClientHello> lookup(ChannelHandlerContext ctx, ByteBuf clientHello) {
    // null: the bytes are not a TLS handshake (plaintext).
    ClientHello hello = clientHello == null ? null : ClientHello.parse(clientHello);
    return ctx.executor().newSucceededFuture(hello);
  }

  @Override
  protected void onLookupComplete(ChannelHandlerContext ctx, Future<ClientHello> future) {
    if (inspection.done()) {
      return;
    }
    ClientHello hello = future.getNow();
    ChannelPipeline p = ctx.pipeline();
    if (hello != null) {
      inspection.tls(hello);
      if (p.get(HttpInspector.class) != null) {
        p.remove(HttpInspector.class); // Envoy's http_inspector skips a TLS connection
      }
    } else if (p.get(HttpInspector.class) != null) {
      // Plaintext: the HTTP inspector decides, from the bytes this one held.
      p.remove(this);
      return;
    }
    inspection.finish();
    if (!ctx.channel().isActive()) {
      return;
    }
    ctx.fireChannelActive();
    p.remove(this);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    // A malformed TLS record (NotSslRecordException) or a reset: close this connection only.
    ctx.close();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    inspection.cancel();
    super.channelInactive(ctx);
  }
}
