package dev.weft.proxy.upstream;

import dev.weft.proxy.config.ClusterConfig;
import dev.weft.proxy.config.Endpoint;
import dev.weft.proxy.tls.TlsConfigException;
import dev.weft.proxy.tls.TlsContext;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.ReferenceCountedOpenSslEngine;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import java.util.ArrayDeque;
import java.util.HashMap;

/**
 * Keep-alive HTTP/1.1 connections to upstream endpoints, one pool per event loop (so no locks): a
 * request reuses the most recently released idle connection to its (cluster, endpoint), or opens a
 * new one on the same loop. Idle connections that the upstream closes leave the pool. Requests to
 * HTTP/2 clusters take streams of multiplexed connections instead ({@link Http2Connections}).
 */
public final class ConnectionPool {
  private static final int MAX_IDLE_PER_ENDPOINT = 256;

  /** Response headers up to 60 KiB; body chunks of at most 16 KiB, forwarded as decoded. */
  private static final HttpDecoderConfig CODEC =
      new HttpDecoderConfig()
          .setMaxInitialLineLength(16 * 1024)
          .setMaxHeaderSize(60 * 1024)
          .setMaxChunkSize(16 * 1024);

  private final EventLoop loop;
  private final Class<? extends SocketChannel> channelClass;
  private final HashMap<String, ArrayDeque<Channel>> idle = new HashMap<>();
  private final Http2Connections h2 = new Http2Connections();

  public ConnectionPool(EventLoop loop, Class<? extends SocketChannel> channelClass) {
    this.loop = loop;
    this.channelClass = channelClass;
  }

  /**
   * Gives {@code stream} a connection to {@code endpoint}: now, if one is idle, or when a new one
   * connects (or fails to).
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
    if (http2) {
      Http2Connections.Connection c = h2.pick(endpoint, cluster.protocol().maxConcurrentStreams());
      if (c != null) {
        c.openStream(stream, this);
        return;
      }
    }
    ArrayDeque<Channel> q = http2 ? null : idle.get(endpoint.poolKey());
    if (q != null) {
      Channel ch;
      while ((ch = q.pollLast()) != null) {
        if (ch.isActive()) {
          ((UpstreamHandler) ch.pipeline().last()).attach(stream);
          stream.onUpstreamReady(ch, true);
          return;
        }
      }
    }
    TlsContext tls = endpoint.tls();
    SslContext ssl = null;
    if (tls != null) {
      try {
        ssl = tls.sslContext();
      } catch (TlsConfigException e) {
        tls.stats().connectionError();
        UpstreamTlsFailure failure = new UpstreamTlsFailure("TLS_error: " + e.getMessage(), e);
        // Reported later, as a failed connect would be, not from inside the caller.
        loop.execute(() -> stream.onUpstreamConnectFailed(failure));
        return;
      }
    }
    SslContext sslContext = ssl;
    UpstreamHandler handler = http2 ? null : new UpstreamHandler(this, endpoint, cluster.stats());
    Http2Connections.Connection[] h2conn = new Http2Connections.Connection[1];
    Bootstrap b =
        new Bootstrap()
            .group(loop)
            .channel(channelClass)
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
                      ch.pipeline().addLast(new HttpClientCodec(CODEC, false, false), handler);
                    }
                  }
                });
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
            stream.onUpstreamConnectFailed(future.cause());
          }
        });
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
                tls.stats().handshake(reused(ssl), true);
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
                tls.stats().handshake(reused(ssl), true);
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

  private static boolean reused(SslHandler ssl) {
    if (OpenSsl.isAvailable() && ssl.engine() instanceof ReferenceCountedOpenSslEngine e) {
      return io.netty.internal.tcnative.SSL.isSessionReused(e.sslPointer());
    }
    return false;
  }

  /** Returns a connection whose exchange completed cleanly; it must be on this pool's loop. */
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
    ch.config().setAutoRead(true);
    ArrayDeque<Channel> q = idle.computeIfAbsent(h.endpoint().poolKey(), k -> new ArrayDeque<>());
    if (q.size() >= MAX_IDLE_PER_ENDPOINT) {
      ch.close();
      return;
    }
    q.addLast(ch);
  }

  /** Closes a connection whose exchange is abandoned; its stream hears nothing more. */
  public void discard(Channel ch) {
    ((UpstreamHandler) ch.pipeline().last()).detach();
    ch.close();
  }

  void removeIdle(Endpoint endpoint, Channel ch) {
    ArrayDeque<Channel> q = idle.get(endpoint.poolKey());
    if (q != null) {
      q.remove(ch);
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
