package dev.weft.proxy.listener;

import dev.weft.proxy.tls.ClientHello;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.ssl.SslClientHelloHandler;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Envoy's {@code envoy.filters.listener.tls_inspector}: the first handler of a connection on a
 * listener whose chains match on TLS facts. It buffers the first bytes until it knows whether they
 * start a TLS ClientHello; if so it reads the SNI and ALPN offered, else the transport protocol is
 * {@code raw_buffer}. Then it hands the connection to {@code onInspected} (which installs the
 * chosen chain's handlers after it) and removes itself; the buffered bytes, never consumed, go on
 * to those handlers. A connection that sends nothing conclusive within Envoy's {@code
 * listener_filters_timeout} (15 s) is closed. One per connection, on its event loop.
 */
final class TlsInspector extends SslClientHelloHandler<ClientHello> {
  /** Envoy's default {@code listener_filters_timeout}. */
  static final long TIMEOUT_MILLIS = 15_000;

  /** Chooses and installs the connection's chain once its first bytes are known. */
  interface Callback {
    void onInspected(ChannelHandlerContext ctx, String transportProtocol, ClientHello hello);
  }

  private final Callback callback;
  private ScheduledFuture<?> timeout;
  private boolean done;

  TlsInspector(Callback callback) {
    this.callback = callback;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) throws Exception {
    super.handlerAdded(ctx);
    timeout =
        ctx.executor()
            .schedule(
                () -> {
                  if (!done) {
                    ctx.close();
                  }
                },
                TIMEOUT_MILLIS,
                TimeUnit.MILLISECONDS);
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    // Held back: the chain's handlers do not exist yet; onLookupComplete fires it for them.
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
    if (done) {
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
    done = true;
    if (timeout != null) {
      timeout.cancel(false);
    }
    ClientHello hello = future.getNow();
    if (hello == null) {
      callback.onInspected(ctx, FilterChainSelector.RAW_BUFFER, new ClientHello(null, List.of()));
    } else {
      callback.onInspected(ctx, "tls", hello);
    }
    if (!ctx.channel().isActive()) {
      return;
    }
    ctx.fireChannelActive();
    ctx.pipeline().remove(this);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    // A malformed TLS record (NotSslRecordException) or a reset: close this connection only.
    ctx.close();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    if (timeout != null) {
      timeout.cancel(false);
    }
    super.channelInactive(ctx);
  }
}
