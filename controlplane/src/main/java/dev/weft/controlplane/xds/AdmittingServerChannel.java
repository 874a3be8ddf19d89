package dev.weft.controlplane.xds;

import io.grpc.netty.shaded.io.netty.channel.Channel;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandlerContext;
import io.grpc.netty.shaded.io.netty.channel.ChannelInboundHandlerAdapter;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioServerSocketChannel;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslHandler;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The xDS server's listening socket, accepting a connection only when {@link ConnectionAdmission}
 * admits one. While it may not, it stops accepting (no {@code OP_ACCEPT} interest): the connections
 * wait in the kernel, where no timer of the server runs, established in the short listen queue
 * ({@link ConnectionAdmission#listenBacklog}) or, beyond it, as SYNs their clients send again, and
 * are accepted in arrival order when a token and a handshake slot are free. Each accepted
 * connection holds its slot until its TLS handshake ends (its {@link SslHandler}'s handshake
 * future) or it closes; a connection without TLS holds it until its first bytes are read.
 *
 * <p>Runs on its event loop (Netty's accept loop); the admission's slot listener wakes it from
 * another thread through that loop.
 */
final class AdmittingServerChannel extends NioServerSocketChannel {
  private final ConnectionAdmission admission;

  /** Whether accepting is paused for a token or a slot. Event loop only. */
  private boolean paused;

  AdmittingServerChannel(ConnectionAdmission admission) {
    this.admission = admission;
    admission.onSlotFree(
        () -> {
          if (isRegistered()) {
            eventLoop().execute(this::resume);
          }
        });
  }

  @Override
  protected int doReadMessages(List<Object> buf) throws Exception {
    long wait = admission.tryAdmit();
    if (wait != 0) {
      pause(wait);
      return 0;
    }
    int accepted;
    try {
      accepted = super.doReadMessages(buf);
    } catch (Exception | Error e) {
      admission.refund();
      throw e;
    }
    if (accepted == 0) {
      admission.refund(); // nothing was waiting
      return 0;
    }
    Channel child = (Channel) buf.get(buf.size() - 1);
    child.pipeline().addFirst(new HandshakeWatch(admission));
    return accepted;
  }

  /**
   * Stops accepting until a token is due ({@code wait} ns) or, for {@link
   * ConnectionAdmission#WAIT_FOR_SLOT}, until the admission's slot listener runs. Clearing auto
   * read inside the accept loop removes the accept interest when the loop ends.
   */
  private void pause(long wait) {
    config().setAutoRead(false);
    if (paused) {
      return;
    }
    paused = true;
    if (wait > 0) {
      eventLoop().schedule(this::resume, wait, TimeUnit.NANOSECONDS);
    }
  }

  private void resume() {
    if (!paused || !isOpen()) {
      return;
    }
    paused = false;
    config().setAutoRead(true); // asks for the accept interest again
  }

  /**
   * First in an accepted connection's pipeline: frees its admission slot once its TLS handshake is
   * over (either way) or the connection closes, whichever comes first, then leaves the pipeline.
   */
  static final class HandshakeWatch extends ChannelInboundHandlerAdapter {
    private final ConnectionAdmission admission;
    private final AtomicBoolean released = new AtomicBoolean();

    HandshakeWatch(ConnectionAdmission admission) {
      this.admission = admission;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
      ctx.channel().closeFuture().addListener(f -> release());
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
      ctx.fireChannelActive(); // gRPC's negotiator adds its SslHandler on (or before) this
      watch(ctx, false);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      ctx.fireChannelRead(msg);
      watch(ctx, true);
    }

    private void watch(ChannelHandlerContext ctx, boolean read) {
      if (ctx.isRemoved()) {
        return;
      }
      SslHandler ssl = ctx.pipeline().get(SslHandler.class);
      if (ssl != null) {
        ssl.handshakeFuture().addListener(f -> release());
        ctx.pipeline().remove(this);
      } else if (read) {
        release(); // no TLS on this connection: its first bytes are past the admission
        ctx.pipeline().remove(this);
      }
    }

    private void release() {
      if (released.compareAndSet(false, true)) {
        admission.release();
      }
    }
  }
}
