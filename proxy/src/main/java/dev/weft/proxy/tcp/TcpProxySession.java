package dev.weft.proxy.tcp;

import dev.weft.proxy.config.ClusterConfig;
import dev.weft.proxy.config.Endpoint;
import dev.weft.proxy.config.TcpProxyConfig;
import dev.weft.proxy.http.DataPlane;
import dev.weft.proxy.stats.TcpMetadataExchange;
import dev.weft.proxy.stats.TcpProxyStats;
import dev.weft.proxy.stats.TcpTelemetry;
import dev.weft.proxy.tls.TlsConfigException;
import dev.weft.proxy.tls.TlsContext;
import dev.weft.proxy.upstream.LoadBalancer;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;

/**
 * One downstream connection handled by {@code envoy.filters.network.tcp_proxy}: it picks a cluster
 * (by weight) and an endpoint, connects on the same event loop and relays bytes both ways.
 *
 * <ul>
 *   <li><b>Backpressure</b>: a side stops reading (autoRead off) while the other side's outbound
 *       buffer is above its high water mark and resumes when it drains, so a slow reader holds the
 *       proxy to the channel's water marks per direction, never an unbounded buffer (Envoy's
 *       read-disable on the peer's high watermark).
 *   <li><b>Half-close</b>: an end of input on one side is passed on as a shutdown of output on the
 *       other (a TCP FIN, as Envoy's tcp_proxy does); the connection pair closes when both
 *       directions have ended, or at once when either side closes or resets.
 *   <li><b>Idle timeout</b>: Envoy's {@code idle_timeout} (default 1 h): no byte read on either
 *       side for that long closes both ({@code tcp.<prefix>.idle_timeout}).
 *   <li>Bytes that arrive before the upstream is connected (the TLS inspector's, or those already
 *       read) wait in a queue that cannot grow: the downstream is not read until then.
 *   <li>Istio's TCP telemetry ({@link TcpTelemetry}) and, on TLS connections that negotiated {@code
 *       istio-peer-exchange}, Istio's metadata exchange ({@link TcpMetadataExchange}) on both the
 *       downstream and the upstream connection, before the relay.
 *   <li>No cluster, or no healthy endpoint: the downstream is closed ({@code
 *       downstream_cx_no_route}); a failed connect closes it too ({@code
 *       upstream_cx_connect_fail}).
 * </ul>
 *
 * <p>Buffers: each {@link ByteBuf} read on one side is handed, with its ownership, to the other
 * side's write (which releases it), or released when the pair closes. Lives on the downstream
 * connection's event loop, which its upstream connection shares; not thread-safe.
 */
public final class TcpProxySession {
  private final DataPlane dataPlane;
  private final TcpProxyConfig config;
  private final Channel downstream;
  private final TcpProxyStats stats;
  private final TcpTelemetry telemetry;
  private final long idleNanos;
  private final ArrayDeque<ByteBuf> pending = new ArrayDeque<>(2);
  private String cluster;
  private ClusterConfig clusterConfig;
  private Endpoint endpoint;
  private Channel upstream;
  private boolean opened;
  private boolean closed;
  private boolean downstreamEnded;
  private boolean upstreamEnded;
  private long lastActivity;
  private ScheduledFuture<?> idleTimer;

  private Runnable onClose;

  private TcpProxySession(DataPlane dataPlane, TcpProxyConfig config, Channel downstream) {
    this.dataPlane = dataPlane;
    this.config = config;
    this.downstream = downstream;
    this.stats = config.stats();
    this.telemetry = dataPlane.stats().telemetry().tcpConnection();
    this.idleNanos = TimeUnit.MILLISECONDS.toNanos(config.idleTimeoutMillis());
  }

  private TcpProxySession(Channel downstream, long idleTimeoutMillis, Runnable onClose) {
    this.dataPlane = null;
    this.config = null;
    this.downstream = downstream;
    this.stats = TcpProxyStats.detached();
    this.telemetry = TcpTelemetry.NONE;
    this.idleNanos = TimeUnit.MILLISECONDS.toNanos(idleTimeoutMillis);
    this.onClose = onClose;
  }

  /**
   * Turns two connected HTTP/1.1 connections into a byte tunnel after a 101 Switching Protocols
   * (Envoy's upgrade handling, e.g. WebSocket): the caller has written the 101 downstream and
   * removed its own HTTP handlers from {@code downstream}; this adds the relay as the last handler
   * there, puts the upstream relay in front of {@code upstreamLast} (the pool's handler, which
   * still counts the connection's close) and removes {@code upstreamCodec}, whose undecoded bytes
   * then reach the relay. Same backpressure, half-close and idle timeout as a TCP proxy; {@code
   * onClose} runs once when the pair closes. {@code early} (or null; ownership passes here) are
   * downstream bytes read before the tunnel existed (those that followed a CONNECT head): they go
   * upstream first. Call on the event loop both connections share.
   */
  public static void tunnel(
      Channel downstream,
      Channel upstream,
      io.netty.channel.ChannelHandler upstreamCodec,
      io.netty.channel.ChannelHandler upstreamLast,
      long idleTimeoutMillis,
      Runnable onClose,
      ByteBuf early) {
    TcpProxySession s = new TcpProxySession(downstream, idleTimeoutMillis, onClose);
    s.cluster = "";
    downstream.config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, true);
    upstream.config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, true);
    downstream.pipeline().addLast(s.new Downstream());
    upstream
        .pipeline()
        .addBefore(upstream.pipeline().context(upstreamLast).name(), null, s.new Upstream());
    s.upstream = upstream;
    s.lastActivity = System.nanoTime();
    s.scheduleIdle(s.idleNanos);
    if (early != null) {
      s.stats.received(early.readableBytes());
      upstream.writeAndFlush(early, upstream.voidPromise());
    }
    if (upstreamCodec != null && upstream.pipeline().context(upstreamCodec) != null) {
      upstream.pipeline().remove(upstreamCodec);
    }
    downstream.config().setAutoRead(upstream.isWritable());
    upstream.config().setAutoRead(downstream.isWritable());
    if (!downstream.isActive() || !upstream.isActive()) {
      s.close();
    }
  }

  /**
   * Installs the TCP proxy as the last handler of {@code ch}'s pipeline (after the chain's TLS
   * handler, if any). It starts when the connection becomes active.
   */
  public static void install(Channel ch, DataPlane dataPlane, TcpProxyConfig config) {
    ch.config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, true);
    ch.config().setAutoRead(false);
    TcpProxySession s = new TcpProxySession(dataPlane, config, ch);
    // Istio's TCP metadata exchange with a sidecar client (after the chain's TLS, if any).
    TcpMetadataExchange.install(
        ch.pipeline(), null, dataPlane.stats().telemetry(), s.telemetry::downstreamPeer);
    ch.pipeline().addLast(s.new Downstream());
  }

  /** The peer channel's writability changed: resume or pause reading from {@code from}. */
  private static void followWritability(Channel to, Channel from, boolean fromEnded) {
    if (from != null && !fromEnded) {
      from.config().setAutoRead(to.isWritable());
    }
  }

  private void start() {
    stats.connection();
    int total = config.totalWeight();
    cluster = config.cluster(total <= 1 ? 0 : dataPlane.random().applyAsInt(total));
    clusterConfig = dataPlane.config().clusters().get(cluster);
    endpoint = clusterConfig == null ? null : LoadBalancer.pick(clusterConfig);
    if (endpoint == null) {
      stats.noRoute();
      close();
      return;
    }
    telemetry.cluster(clusterConfig.stats());
    telemetry.overrides(config.metrics());
    SslContext ssl = null;
    TlsContext tls = endpoint.tls();
    if (tls != null) {
      try {
        ssl = tls.sslContext();
      } catch (TlsConfigException e) {
        tls.stats().connectionError();
        stats.connectFailed();
        close();
        return;
      }
    }
    SslContext sslContext = ssl;
    Endpoint ep = endpoint;
    lastActivity = System.nanoTime();
    scheduleIdle(idleNanos);
    Bootstrap b =
        new Bootstrap()
            .group(downstream.eventLoop())
            .channel(dataPlane.transport().socketChannel())
            .resolver(dev.weft.proxy.upstream.OffLoopResolver.GROUP)
            .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, clusterConfig.connectTimeoutMillis())
            .option(ChannelOption.TCP_NODELAY, true)
            .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
            .option(ChannelOption.AUTO_READ, false)
            .option(ChannelOption.ALLOCATOR, PooledByteBufAllocator.DEFAULT)
            .handler(
                new ChannelInitializer<SocketChannel>() {
                  @Override
                  protected void initChannel(SocketChannel ch) {
                    if (sslContext != null) {
                      SslHandler h =
                          sslContext.newHandler(
                              ch.alloc(),
                              tls.sni() != null ? tls.sni() : ep.address().getHostString(),
                              ep.address().getPort());
                      h.setHandshakeTimeoutMillis(clusterConfig.connectTimeoutMillis());
                      ch.pipeline().addLast(h);
                    }
                    TcpMetadataExchange.install(
                        ch.pipeline(),
                        null,
                        dataPlane.stats().telemetry(),
                        telemetry::upstreamPeer);
                    ch.pipeline().addLast(new Upstream());
                  }
                });
    b.connect(ep.address())
        .addListener(
            (ChannelFutureListener)
                f -> {
                  if (!f.isSuccess()) {
                    connectFailed();
                    return;
                  }
                  SslHandler h = f.channel().pipeline().get(SslHandler.class);
                  if (h == null) {
                    connected(f.channel());
                    return;
                  }
                  h.handshakeFuture()
                      .addListener(
                          hf -> {
                            if (hf.isSuccess()) {
                              tls.stats().handshake(h.engine(), true);
                              connected(f.channel());
                            } else {
                              tls.stats().connectionError();
                              f.channel().close();
                              connectFailed();
                            }
                          });
                });
  }

  private void connectFailed() {
    stats.connectFailed();
    clusterConfig.stats().connectFailed();
    endpoint.stats().connectFailed();
    close();
  }

  private void connected(Channel ch) {
    if (closed) {
      ch.close();
      return;
    }
    upstream = ch;
    opened = true;
    clusterConfig.stats().connectionOpened();
    endpoint.stats().connectionOpened();
    telemetry.opened();
    ByteBuf b;
    while ((b = pending.poll()) != null) {
      // Read before the upstream connected: reported now, after opened(), so none are lost.
      telemetry.bytes(b.readableBytes(), 0);
      ch.write(b);
    }
    ch.flush();
    if (downstreamEnded) {
      shutdownOutput(ch);
    } else {
      downstream.config().setAutoRead(ch.isWritable());
    }
    ch.config().setAutoRead(downstream.isWritable());
  }

  private void scheduleIdle(long delayNanos) {
    if (idleNanos <= 0) {
      return;
    }
    idleTimer = downstream.eventLoop().schedule(this::checkIdle, delayNanos, TimeUnit.NANOSECONDS);
  }

  /** Envoy's idle timer, without rescheduling on every read: it checks the last activity. */
  private void checkIdle() {
    if (closed) {
      return;
    }
    long idle = System.nanoTime() - lastActivity;
    if (idle >= idleNanos) {
      stats.idleTimeout();
      close();
    } else {
      scheduleIdle(idleNanos - idle);
    }
  }

  private void shutdownOutput(Channel ch) {
    ch.writeAndFlush(Unpooled.EMPTY_BUFFER)
        .addListener(
            (ChannelFutureListener)
                f -> {
                  if (ch instanceof DuplexChannel d && ch.isActive()) {
                    d.shutdownOutput();
                  } else {
                    ch.close();
                  }
                });
  }

  /** An end of input on one side: half-close the other, and close both once both have ended. */
  private void ended(boolean fromDownstream) {
    if (fromDownstream) {
      downstreamEnded = true;
      if (upstream != null) {
        shutdownOutput(upstream);
      }
    } else {
      upstreamEnded = true;
      shutdownOutput(downstream);
    }
    if (downstreamEnded && upstreamEnded) {
      close();
    }
  }

  /** Closes both sides (after flushing what was written to each) and releases what is queued. */
  private void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (idleTimer != null) {
      idleTimer.cancel(false);
    }
    ByteBuf b;
    while ((b = pending.poll()) != null) {
      b.release();
    }
    flushAndClose(downstream);
    if (upstream != null) {
      flushAndClose(upstream);
    }
    if (opened) {
      clusterConfig.stats().connectionClosed();
      endpoint.stats().connectionClosed();
      telemetry.closed();
    }
    if (onClose != null) {
      onClose.run();
    }
  }

  private static void flushAndClose(Channel ch) {
    if (ch.isActive()) {
      ch.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
    } else {
      ch.close();
    }
  }

  /** The downstream side: the last handler of the accepted connection. */
  private final class Downstream extends ChannelInboundHandlerAdapter {
    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
      if (ctx.channel().isActive() && cluster == null) {
        // Added after the connection became active (behind the TLS inspector): start now.
        start();
      }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
      if (cluster == null && !closed) {
        start();
      }
      ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (!(msg instanceof ByteBuf buf) || closed) {
        ReferenceCountUtil.release(msg);
        return;
      }
      lastActivity = System.nanoTime();
      int n = buf.readableBytes();
      stats.received(n);
      if (upstream == null) {
        pending.add(buf);
        return;
      }
      telemetry.bytes(n, 0);
      upstream.write(buf, upstream.voidPromise());
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
      if (upstream != null) {
        upstream.flush();
        followWritability(upstream, downstream, downstreamEnded);
      }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
      followWritability(downstream, upstream, upstreamEnded);
      ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      if (evt instanceof ChannelInputShutdownEvent) {
        ended(true);
      }
      ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      close();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      // A reset or a TLS error on the downstream: both sides go (Envoy closes the pair).
      close();
    }
  }

  /** The upstream side: the last handler of the connection to the endpoint. */
  private final class Upstream extends ChannelInboundHandlerAdapter {
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (!(msg instanceof ByteBuf buf) || closed) {
        ReferenceCountUtil.release(msg);
        return;
      }
      lastActivity = System.nanoTime();
      int n = buf.readableBytes();
      stats.sent(n);
      telemetry.bytes(0, n);
      downstream.write(buf, downstream.voidPromise());
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
      downstream.flush();
      followWritability(downstream, upstream, upstreamEnded);
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
      followWritability(upstream, downstream, downstreamEnded);
      ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      if (evt instanceof ChannelInputShutdownEvent && upstream == ctx.channel()) {
        ended(false);
      }
      ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      if (upstream == ctx.channel()) {
        close();
      }
      ctx.fireChannelInactive(); // a tunnel's upstream: the pool's handler behind counts it
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
      if (upstream == ctx.channel()) {
        close();
      }
    }
  }
}
