package dev.weft.proxy.upstream;

import dev.weft.proxy.config.CircuitBreakerLimits;
import dev.weft.proxy.config.ClusterConfig;
import dev.weft.proxy.config.Endpoint;
import dev.weft.proxy.config.TcpKeepalive;
import dev.weft.proxy.net.EventTime;
import dev.weft.proxy.net.Http1ClientCodec;
import dev.weft.proxy.net.Http1Headers;
import dev.weft.proxy.tls.TlsConfigException;
import dev.weft.proxy.tls.TlsContext;
import dev.weft.xds.IstioMtls;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioChannelOption;
import io.netty.channel.uring.IoUringChannelOption;
import io.netty.channel.uring.IoUringSocketChannel;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Keep-alive HTTP/1.1 connections to upstream endpoints, one pool per event loop (so no locks): a
 * request reuses the most recently released idle connection to its (cluster, endpoint), or opens a
 * new one on the same loop. Idle connections that the upstream closes leave the pool. Requests to
 * HTTP/2 clusters take streams of multiplexed connections instead ({@link Http2Connections}).
 *
 * <p>Envoy's HTTP/1.1 pool limits ({@code conn_pool_base.cc}): a new connection needs a free {@code
 * max_connections} slot of the cluster (counted across loops), except that a pool with no
 * connection to the endpoint always makes one; otherwise the request waits for a connection to the
 * endpoint on this loop, within the cluster's {@code max_pending_requests}, and beyond that it
 * fails with {@link UpstreamStream#onUpstreamOverflow()} (503 {@code UO}). A connection closes
 * after {@code max_requests_per_connection} requests and after {@code idle_timeout} in the pool.
 * HTTP/2 connections are not held to {@code max_connections} and {@code max_pending_requests} yet
 * (their streams are to {@code max_requests}, counted by the router for both versions).
 */
public final class ConnectionPool {
  private static final int MAX_IDLE_PER_ENDPOINT = 256;

  /** Response headers up to 60 KiB; body chunks of at most 16 KiB, forwarded as decoded. */
  private static final HttpDecoderConfig CODEC =
      new HttpDecoderConfig()
          .setMaxInitialLineLength(16 * 1024)
          .setMaxHeaderSize(60 * 1024)
          .setMaxChunkSize(16 * 1024)
          .setHeadersFactory(Http1Headers.HEADERS)
          .setTrailersFactory(Http1Headers.TRAILERS);

  /** A request waiting for a connection to its endpoint. */
  private record Waiter(ClusterConfig cluster, Endpoint endpoint, UpstreamStream stream) {}

  private final EventLoop loop;
  private final Class<? extends SocketChannel> channelClass;
  private final HashMap<String, ArrayDeque<Channel>> idle = new HashMap<>();
  private final Http2Connections h2 = new Http2Connections();

  /** Connections (open or opening) on this loop, by endpoint pool key. */
  private final HashMap<String, int[]> open = new HashMap<>();

  /** Requests waiting for a connection, by endpoint pool key. */
  private final HashMap<String, ArrayDeque<Waiter>> waiting = new HashMap<>();

  private boolean sweepArmed;

  public ConnectionPool(EventLoop loop, Class<? extends SocketChannel> channelClass) {
    this.loop = loop;
    this.channelClass = channelClass;
  }

  /** The socket channel class new upstream connections use (also a CONNECT tunnel's). */
  public Class<? extends SocketChannel> channelClass() {
    return channelClass;
  }

  /**
   * Gives {@code stream} a connection to {@code endpoint}: now, if one is idle, or when a new one
   * connects (or fails to), or when one is released (it waits within the pending limit), or fails
   * it with {@link UpstreamStream#onUpstreamOverflow()}.
   */
  public void acquire(ClusterConfig cluster, Endpoint endpoint, UpstreamStream stream) {
    acquire(cluster, endpoint, stream, false);
  }

  /**
   * Gives {@code stream} a connection to {@code endpoint}, or with {@code http2} a stream of a
   * multiplexed HTTP/2 connection to it ({@link Http2Connections}); either way the stream talks
   * HTTP/1.1 message objects through the channel it gets.
   */
  public void acquire(
      ClusterConfig cluster, Endpoint endpoint, UpstreamStream stream, boolean http2) {
    acquire(cluster, endpoint, stream, http2, null);
  }

  /**
   * As {@link #acquire(ClusterConfig, Endpoint, UpstreamStream, boolean)}; a new connection to an
   * endpoint with Istio's mesh mTLS (its configured ALPN lists {@code istio}) offers {@code
   * alpnOverride} instead when not null (Istio's {@code istio.alpn}: {@code istio-http/1.1}, {@code
   * istio-h2}... so that the peer's sniffed inbound listener picks its HTTP chain). Pooled
   * connections are not keyed by it: under mesh mTLS the override follows the upstream protocol,
   * whose pools are separate already.
   */
  public void acquire(
      ClusterConfig cluster,
      Endpoint endpoint,
      UpstreamStream stream,
      boolean http2,
      List<String> alpnOverride) {
    if (http2) {
      Http2Connections.Connection c = h2.pick(endpoint, cluster.protocol().maxConcurrentStreams());
      if (c != null) {
        c.openStream(stream, this);
        return;
      }
    }
    if (http2) {
      // A new multiplexed connection; the HTTP/1.1 connection limits below do not count it.
      connect(cluster, endpoint, stream, true, alpnOverride);
      return;
    }
    ArrayDeque<Channel> q = idle.get(endpoint.poolKey());
    if (q != null) {
      Channel ch;
      long now = EventTime.now();
      while ((ch = q.pollLast()) != null) {
        UpstreamHandler h = (UpstreamHandler) ch.pipeline().last();
        if (ch.isActive() && !h.idleExpired(now)) {
          h.attach(stream);
          stream.onUpstreamReady(ch, true);
          return;
        }
        if (ch.isActive()) {
          h.cluster().stats().connectionIdleTimeout();
          ch.close();
        }
      }
    }
    ClusterState state = cluster.state();
    CircuitBreakerLimits limits = cluster.policy().limits();
    if (!ClusterState.tryAcquire(state.connections, limits.maxConnections())) {
      cluster.stats().connectionOverflow();
      int[] local = open.get(endpoint.poolKey());
      if (local != null && local[0] > 0) {
        if (ClusterState.tryAcquire(state.pending, limits.maxPendingRequests())) {
          waiting
              .computeIfAbsent(endpoint.poolKey(), k -> new ArrayDeque<>())
              .add(new Waiter(cluster, endpoint, stream));
          return;
        }
        cluster.stats().pendingOverflow();
        // Reported later, as a failed connect would be, not from inside the caller.
        loop.execute(stream::onUpstreamOverflow);
        return;
      }
      // Envoy: a pool without any connection to the endpoint makes one regardless, so that a
      // request never waits for connections that other loops hold.
      state.connections.incrementAndGet();
    }
    connect(cluster, endpoint, stream, false, alpnOverride);
  }

  /** Forgets a request waiting for a connection (its stream ended first). */
  public void cancel(UpstreamStream stream, Endpoint endpoint, ClusterConfig cluster) {
    ArrayDeque<Waiter> q = waiting.get(endpoint.poolKey());
    if (q != null && q.removeIf(w -> w.stream() == stream)) {
      cluster.state().pending.decrementAndGet();
    }
  }

  private void connect(
      ClusterConfig cluster,
      Endpoint endpoint,
      UpstreamStream stream,
      boolean http2,
      List<String> alpnOverride) {
    if (!http2) {
      int[] local = open.computeIfAbsent(endpoint.poolKey(), k -> new int[1]);
      local[0]++;
    }
    TlsContext tls = endpoint.tls();
    SslContext ssl = null;
    if (tls != null) {
      try {
        ssl = tls.sslContext(istioMesh(tls) ? alpnOverride : null);
      } catch (TlsConfigException e) {
        tls.stats().connectionError();
        if (!http2) {
          connectionGone(cluster, endpoint);
        }
        UpstreamTlsFailure failure = new UpstreamTlsFailure("TLS_error: " + e.getMessage(), e);
        // Reported later, as a failed connect would be, not from inside the caller.
        loop.execute(() -> stream.onUpstreamConnectFailed(failure));
        return;
      }
    }
    SslContext sslContext = ssl;
    UpstreamHandler handler = http2 ? null : new UpstreamHandler(this, endpoint, cluster);
    Http2Connections.Connection[] h2conn = new Http2Connections.Connection[1];
    Bootstrap b =
        new Bootstrap()
            .group(loop)
            .channel(channelClass)
            .resolver(OffLoopResolver.GROUP)
            .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, cluster.connectTimeoutMillis())
            .option(ChannelOption.TCP_NODELAY, true)
            .option(ChannelOption.ALLOCATOR, PooledByteBufAllocator.DEFAULT)
            .handler(
                new ChannelInitializer<SocketChannel>() {
                  @Override
                  protected void initChannel(SocketChannel ch) {
                    if (sslContext != null) {
                      // SNI: the context's sni; an IP literal sends none. Host and port also key
                      // the client session cache (resumption).
                      SslHandler h =
                          sslContext.newHandler(
                              ch.alloc(),
                              tls.sni() != null ? tls.sni() : endpoint.address().getHostString(),
                              endpoint.address().getPort());
                      // Envoy's connect_timeout covers the handshake too.
                      h.setHandshakeTimeoutMillis(cluster.connectTimeoutMillis());
                      ch.pipeline().addLast(h);
                    }
                    if (http2) {
                      h2conn[0] = h2.add(ch, cluster, endpoint);
                      h2conn[0].openStream(stream, ConnectionPool.this);
                    } else {
                      ch.pipeline().addLast(new Http1ClientCodec(CODEC), handler);
                    }
                  }
                });
    keepalive(b, channelClass, cluster.policy().keepalive());
    ChannelFuture f = b.connect(endpoint.address());
    f.addListener(
        future -> {
          if (http2) {
            http2Connected(f, cluster, endpoint, tls, h2conn[0]);
          } else if (future.isSuccess() && sslContext != null) {
            awaitHandshake(f.channel(), tls, handler, stream);
          } else if (future.isSuccess()) {
            handler.attach(stream);
            stream.onUpstreamReady(f.channel(), false);
          } else {
            cluster.stats().connectFailed();
            endpoint.stats().connectFailed();
            connectionGone(cluster, endpoint);
            stream.onUpstreamConnectFailed(future.cause());
          }
        });
  }

  /** Whether {@code tls} is Istio's mesh mTLS ({@code ISTIO_MUTUAL}: its ALPN offers istio). */
  private static boolean istioMesh(TlsContext tls) {
    return tls.alpn().contains(IstioMtls.ALPN_ISTIO);
  }

  /** A new HTTP/2 connection is ready (connected, TLS handshake done) or failed. */
  private static void http2Connected(
      ChannelFuture f,
      ClusterConfig cluster,
      Endpoint endpoint,
      TlsContext tls,
      Http2Connections.Connection c) {
    if (!f.isSuccess()) {
      cluster.stats().connectFailed();
      endpoint.stats().connectFailed();
      if (c != null) {
        c.failed(f.cause());
      }
      return;
    }
    SslHandler ssl = f.channel().pipeline().get(SslHandler.class);
    if (ssl == null) {
      c.ready();
      return;
    }
    ssl.handshakeFuture()
        .addListener(
            hf -> {
              if (hf.isSuccess()) {
                tls.stats().handshake(ssl.engine(), true);
                c.ready();
              } else {
                tls.stats().connectionError();
                f.channel().close();
                c.failed(
                    new UpstreamTlsFailure(UpstreamTlsFailure.reasonOf(hf.cause()), hf.cause()));
              }
            });
  }

  /**
   * Envoy's {@code upstream_connection_options.tcp_keepalive}: {@code SO_KEEPALIVE} and, where
   * given, the probe count, idle time and interval (epoll's or io_uring's options, or the JDK's
   * extended socket options on NIO). The classes are compared in that order so a proxy on epoll
   * never loads io_uring's.
   */
  static void keepalive(Bootstrap b, Class<? extends SocketChannel> channelClass, TcpKeepalive k) {
    if (k == null) {
      return;
    }
    b.option(ChannelOption.SO_KEEPALIVE, true);
    if (channelClass == EpollSocketChannel.class) {
      keepalive(
          b,
          k,
          EpollChannelOption.TCP_KEEPCNT,
          EpollChannelOption.TCP_KEEPIDLE,
          EpollChannelOption.TCP_KEEPINTVL);
    } else if (channelClass == IoUringSocketChannel.class) {
      keepalive(
          b,
          k,
          IoUringChannelOption.TCP_KEEPCNT,
          IoUringChannelOption.TCP_KEEPIDLE,
          IoUringChannelOption.TCP_KEEPINTVL);
    } else {
      keepalive(
          b,
          k,
          NioChannelOption.of(jdk.net.ExtendedSocketOptions.TCP_KEEPCOUNT),
          NioChannelOption.of(jdk.net.ExtendedSocketOptions.TCP_KEEPIDLE),
          NioChannelOption.of(jdk.net.ExtendedSocketOptions.TCP_KEEPINTERVAL));
    }
  }

  /** Sets the probe count, idle time and interval that {@code k} gives (0: the system's). */
  private static void keepalive(
      Bootstrap b,
      TcpKeepalive k,
      ChannelOption<Integer> probes,
      ChannelOption<Integer> idle,
      ChannelOption<Integer> interval) {
    if (k.probes() > 0) {
      b.option(probes, k.probes());
    }
    if (k.timeSeconds() > 0) {
      b.option(idle, k.timeSeconds());
    }
    if (k.intervalSeconds() > 0) {
      b.option(interval, k.intervalSeconds());
    }
  }

  /**
   * The stream gets a TLS connection once its handshake succeeded (the peer verified); a failed
   * handshake closes it and fails the stream with the reason ({@code ssl.connection_error}).
   */
  private static void awaitHandshake(
      Channel ch, TlsContext tls, UpstreamHandler handler, UpstreamStream stream) {
    SslHandler ssl = ch.pipeline().get(SslHandler.class);
    ssl.handshakeFuture()
        .addListener(
            hf -> {
              if (hf.isSuccess()) {
                tls.stats().handshake(ssl.engine(), true);
                handler.attach(stream);
                stream.onUpstreamReady(ch, false);
              } else {
                tls.stats().connectionError();
                ch.close();
                stream.onUpstreamConnectFailed(
                    new UpstreamTlsFailure(UpstreamTlsFailure.reasonOf(hf.cause()), hf.cause()));
              }
            });
  }

  /**
   * Takes {@code ch} out of HTTP use for good (an upgraded connection becoming a tunnel): its
   * handler forgets the stream and the connection never returns to the pool. Its handler, the
   * pipeline's last, still counts the connection's close.
   */
  public void detach(Channel ch) {
    if (ch.pipeline().last() instanceof UpstreamHandler h) {
      h.detach();
    }
  }

  /**
   * Returns a connection whose exchange completed cleanly; it must be on this pool's loop. It goes
   * to a request waiting for its endpoint, else to the idle pool; after {@code
   * max_requests_per_connection} requests it is closed instead.
   */
  public void release(Channel ch) {
    UpstreamHandler h = (UpstreamHandler) ch.pipeline().last();
    h.detach();
    if (ch instanceof Http2StreamChannel) {
      // An HTTP/2 stream is used once; it closes when both sides ended it (or is reset now).
      ch.close();
      return;
    }
    if (!ch.isActive()) {
      return;
    }
    ClusterConfig cluster = h.cluster();
    long max = cluster.policy().maxRequestsPerConnection();
    if (max > 0 && h.requests() >= max) {
      cluster.stats().connectionMaxRequests();
      ch.close();
      return;
    }
    ch.config().setAutoRead(true);
    ArrayDeque<Waiter> w = waiting.get(h.endpoint().poolKey());
    if (w != null && !w.isEmpty()) {
      Waiter next = w.poll();
      next.cluster().state().pending.decrementAndGet();
      // After the current response has been handled (we are inside its read).
      loop.execute(
          () -> {
            if (ch.isActive()) {
              h.attach(next.stream());
              next.stream().onUpstreamReady(ch, true);
            } else {
              acquire(next.cluster(), next.endpoint(), next.stream());
            }
          });
      return;
    }
    ArrayDeque<Channel> q = idle.computeIfAbsent(h.endpoint().poolKey(), k -> new ArrayDeque<>());
    if (q.size() >= MAX_IDLE_PER_ENDPOINT) {
      ch.close();
      return;
    }
    h.idleSince(EventTime.now());
    q.addLast(ch);
    armSweep(cluster.policy().idleTimeoutMillis());
  }

  /** Closes a connection whose exchange is abandoned; its stream hears nothing more. */
  public void discard(Channel ch) {
    ((UpstreamHandler) ch.pipeline().last()).detach();
    ch.close();
  }

  /** A connection to {@code endpoint} closed: frees its slot and serves a waiting request. */
  void connectionClosed(UpstreamHandler h, Channel ch) {
    ArrayDeque<Channel> q = idle.get(h.endpoint().poolKey());
    if (q != null) {
      q.remove(ch);
    }
    connectionGone(h.cluster(), h.endpoint());
  }

  private void connectionGone(ClusterConfig cluster, Endpoint endpoint) {
    cluster.state().connections.decrementAndGet();
    int[] local = open.get(endpoint.poolKey());
    if (local != null && --local[0] <= 0) {
      open.remove(endpoint.poolKey());
    }
    ArrayDeque<Waiter> w = waiting.get(endpoint.poolKey());
    if (w != null && !w.isEmpty()) {
      Waiter next = w.poll();
      next.cluster().state().pending.decrementAndGet();
      if (w.isEmpty()) {
        waiting.remove(endpoint.poolKey());
      }
      // The freed slot (or an empty pool) lets it connect; otherwise it waits again.
      loop.execute(() -> acquire(next.cluster(), next.endpoint(), next.stream()));
    }
  }

  /**
   * Closes pooled connections idle longer than their cluster's {@code idle_timeout}, checking at
   * half the shortest timeout (10 ms to 1 s); reuse also checks ({@link #acquire}).
   */
  private void armSweep(long idleTimeoutMillis) {
    if (sweepArmed || idleTimeoutMillis <= 0) {
      return;
    }
    sweepArmed = true;
    long every = Math.max(10, Math.min(1000, idleTimeoutMillis / 2));
    loop.schedule(this::sweep, every, TimeUnit.MILLISECONDS);
  }

  private void sweep() {
    sweepArmed = false;
    long now = System.nanoTime();
    long shortest = Long.MAX_VALUE;
    for (ArrayDeque<Channel> q : idle.values()) {
      for (java.util.Iterator<Channel> it = q.iterator(); it.hasNext(); ) {
        Channel ch = it.next();
        UpstreamHandler h = (UpstreamHandler) ch.pipeline().last();
        if (h.idleExpired(now)) {
          it.remove();
          h.cluster().stats().connectionIdleTimeout();
          ch.close();
        } else {
          shortest = Math.min(shortest, h.cluster().policy().idleTimeoutMillis());
        }
      }
    }
    if (shortest != Long.MAX_VALUE) {
      armSweep(shortest);
    }
  }

  /** Open HTTP/2 connections to all endpoints (for tests and the admin). */
  public int http2Count() {
    return h2.count();
  }

  /** Idle connections to all endpoints (for tests and the admin). */
  public int idleCount() {
    int n = 0;
    for (ArrayDeque<Channel> q : idle.values()) {
      n += q.size();
    }
    return n;
  }
}
