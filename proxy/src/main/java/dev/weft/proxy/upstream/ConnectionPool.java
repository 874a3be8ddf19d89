package dev.weft.proxy.upstream;

import dev.weft.proxy.config.ClusterConfig;
import dev.weft.proxy.config.Endpoint;
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
import java.util.ArrayDeque;
import java.util.HashMap;

/**
 * Keep-alive HTTP/1.1 connections to upstream endpoints, one pool per event loop (so no locks): a
 * request reuses the most recently released idle connection to its (cluster, endpoint), or opens a
 * new one on the same loop. Idle connections that the upstream closes leave the pool.
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

  public ConnectionPool(EventLoop loop, Class<? extends SocketChannel> channelClass) {
    this.loop = loop;
    this.channelClass = channelClass;
  }

  /**
   * Gives {@code stream} a connection to {@code endpoint}: now, if one is idle, or when a new one
   * connects (or fails to).
   */
  public void acquire(ClusterConfig cluster, Endpoint endpoint, UpstreamStream stream) {
    ArrayDeque<Channel> q = idle.get(endpoint.poolKey());
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
    UpstreamHandler handler = new UpstreamHandler(this, endpoint, cluster.stats());
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
                    ch.pipeline().addLast(new HttpClientCodec(CODEC, false, false), handler);
                  }
                });
    ChannelFuture f = b.connect(endpoint.address());
    f.addListener(
        future -> {
          if (future.isSuccess()) {
            handler.attach(stream);
            stream.onUpstreamReady(f.channel(), false);
          } else {
            cluster.stats().connectFailed();
            endpoint.stats().connectFailed();
            stream.onUpstreamConnectFailed(future.cause());
          }
        });
  }

  /** Returns a connection whose exchange completed cleanly; it must be on this pool's loop. */
  public void release(Channel ch) {
    UpstreamHandler h = (UpstreamHandler) ch.pipeline().last();
    h.detach();
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

  /** Idle connections to all endpoints (for tests and the admin). */
  public int idleCount() {
    int n = 0;
    for (ArrayDeque<Channel> q : idle.values()) {
      n += q.size();
    }
    return n;
  }
}
