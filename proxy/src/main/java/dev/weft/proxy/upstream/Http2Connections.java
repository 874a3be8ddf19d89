package dev.weft.proxy.upstream;

import dev.weft.proxy.config.ClusterConfig;
import dev.weft.proxy.config.Endpoint;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2SettingsFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;

/**
 * HTTP/2 connections to upstream endpoints, for clusters whose {@link
 * dev.weft.proxy.config.UpstreamProtocol} is HTTP/2 (Envoy's HTTP/2 connection pool): each request
 * is a stream (a Netty child channel whose frames {@link Http2StreamFrameToHttpObjectCodec} turns
 * into the same HTTP/1.1 message objects an HTTP/1.1 connection gives, so the router does not care
 * which it got). A request takes a stream on the first connection to its endpoint that has room
 * under the cluster's {@code max_concurrent_streams} and the upstream's {@code
 * SETTINGS_MAX_CONCURRENT_STREAMS}; otherwise a new connection is opened. A connection that got
 * GOAWAY takes no new streams. One instance per event loop, owned by its {@link ConnectionPool}.
 */
final class Http2Connections {
  private final HashMap<String, ArrayList<Connection>> byEndpoint = new HashMap<>();

  /** The connection {@code stream} should use, or null when a new one is needed. */
  Connection pick(Endpoint endpoint, int clusterLimit) {
    ArrayList<Connection> list = byEndpoint.get(endpoint.poolKey());
    if (list == null) {
      return null;
    }
    for (Connection c : list) {
      if (!c.goingAway && c.channel.isActive() && c.load() < Math.min(clusterLimit, c.peerLimit)) {
        return c;
      }
    }
    return null;
  }

  /** A new connection's pipeline: the frame codec, the multiplexer, its {@link Connection}. */
  Connection add(Channel ch, ClusterConfig cluster, Endpoint endpoint) {
    Connection c = new Connection(ch, endpoint, cluster);
    Http2FrameCodec codec =
        Http2FrameCodecBuilder.forClient()
            .initialSettings(
                Http2Settings.defaultSettings()
                    .pushEnabled(false)
                    .initialWindowSize(Http2Windows.STREAM_WINDOW))
            .validateHeaders(true)
            // Streams beyond the upstream's limit wait for a free slot instead of failing.
            .encoderEnforceMaxConcurrentStreams(true)
            .gracefulShutdownTimeoutMillis(0)
            .build();
    ch.pipeline()
        .addLast(
            codec,
            new Http2MultiplexHandler(
                new ChannelInboundHandlerAdapter() {
                  @Override
                  public void channelActive(ChannelHandlerContext ctx) {
                    // A pushed stream (push is disabled in our SETTINGS): refused.
                    ctx.close();
                  }
                }),
            c);
    c.codec = codec;
    byEndpoint.computeIfAbsent(endpoint.poolKey(), k -> new ArrayList<>(2)).add(c);
    return c;
  }

  private void remove(Connection c) {
    ArrayList<Connection> list = byEndpoint.get(c.endpoint.poolKey());
    if (list != null) {
      list.remove(c);
      if (list.isEmpty()) {
        byEndpoint.remove(c.endpoint.poolKey());
      }
    }
  }

  /** Connections open now, for tests and the admin. */
  int count() {
    int n = 0;
    for (ArrayList<Connection> l : byEndpoint.values()) {
      n += l.size();
    }
    return n;
  }

  /**
   * One HTTP/2 connection to an endpoint and the last handler of its pipeline: counts the
   * connection, learns the upstream's stream limit from its SETTINGS, stops new streams after
   * GOAWAY, and hands streams out.
   */
  final class Connection extends ChannelInboundHandlerAdapter {
    final Channel channel;
    final Endpoint endpoint;
    private final ClusterConfig cluster;
    private Http2FrameCodec codec;
    private boolean ready;
    private boolean goingAway;
    private int active;
    private int streamsOpened;
    private int peerLimit = Integer.MAX_VALUE;
    private final ArrayDeque<Waiter> waiters = new ArrayDeque<>(2);

    private record Waiter(UpstreamStream stream, ConnectionPool pool) {}

    Connection(Channel channel, Endpoint endpoint, ClusterConfig cluster) {
      this.channel = channel;
      this.endpoint = endpoint;
      this.cluster = cluster;
    }

    int load() {
      return active + waiters.size();
    }

    /** Gives {@code stream} a stream of this connection, now or once the connection is ready. */
    void openStream(UpstreamStream stream, ConnectionPool pool) {
      if (!ready) {
        waiters.add(new Waiter(stream, pool));
        return;
      }
      UpstreamHandler handler = new UpstreamHandler(pool, endpoint, cluster, true);
      boolean reused = streamsOpened > 0;
      streamsOpened++;
      active++;
      new Http2StreamChannelBootstrap(channel)
          .handler(
              new ChannelInitializer<Http2StreamChannel>() {
                @Override
                protected void initChannel(Http2StreamChannel ch) {
                  ch.pipeline().addLast(new Http2StreamFrameToHttpObjectCodec(false), handler);
                }
              })
          .open()
          .addListener(
              f -> {
                if (f.isSuccess()) {
                  Http2StreamChannel ch = (Http2StreamChannel) f.getNow();
                  ch.closeFuture().addListener(cf -> streamClosed());
                  handler.attach(stream);
                  stream.onUpstreamReady(ch, reused);
                } else {
                  active--;
                  stream.onUpstreamClosed("connection termination");
                }
              });
    }

    private void streamClosed() {
      active--;
    }

    /** The connection (and its TLS handshake) is up: waiting streams go. */
    void ready() {
      ready = true;
      Http2Windows.widen(codec, channel);
      Waiter w;
      while ((w = waiters.poll()) != null) {
        openStream(w.stream(), w.pool());
      }
    }

    /** The connection failed before it was ready: its waiting streams fail with {@code cause}. */
    void failed(Throwable cause) {
      remove(this);
      Waiter w;
      while ((w = waiters.poll()) != null) {
        w.stream().onUpstreamConnectFailed(cause);
      }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
      cluster.stats().connectionOpened();
      endpoint.stats().connectionOpened();
      ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (msg instanceof Http2SettingsFrame s) {
        Long max = s.settings().maxConcurrentStreams();
        if (max != null) {
          peerLimit = (int) Math.min(Integer.MAX_VALUE, max);
        }
      } else if (msg instanceof Http2GoAwayFrame) {
        // RFC 9113 6.8: no new streams on this connection; those it accepted finish.
        goingAway = true;
        remove(this);
      }
      ReferenceCountUtil.release(msg);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      cluster.stats().connectionClosed();
      endpoint.stats().connectionClosed();
      goingAway = true;
      remove(this);
      Waiter w;
      while ((w = waiters.poll()) != null) {
        w.stream().onUpstreamClosed("connection termination");
      }
      ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }
  }
}
