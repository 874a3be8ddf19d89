package dev.weft.proxy.router;

import dev.weft.proxy.config.ClusterConfig;
import dev.weft.proxy.config.Endpoint;
import dev.weft.proxy.stats.IstioTelemetry;
import dev.weft.proxy.stats.PeerMetadata;
import dev.weft.proxy.stats.TcpMetadataExchange;
import dev.weft.proxy.stats.TcpTelemetry;
import dev.weft.proxy.tls.TlsConfigException;
import dev.weft.proxy.tls.TlsContext;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;

/**
 * The upstream side of an HTTP/1.1 {@code CONNECT} (RFC 9110 9.3.6; Envoy's {@code upgrade_type:
 * CONNECT} with a {@code connect_matcher} route): a plain TCP connection to the chosen endpoint,
 * through the cluster's transport socket (TLS, e.g. Istio mTLS, when the endpoint has one) as the
 * TCP proxy opens it, not a pooled HTTP connection. Its last handler counts the connection's close
 * on the cluster and host (a tunnel's relay is put in front of it). Istio's TCP metadata exchange
 * runs behind the TLS handler when the sidecar negotiates {@code istio-peer-exchange}, and the
 * tunnel counts Istio's {@code istio_tcp_*} metrics as the source reporter.
 */
final class ConnectTunnel {
  /** What the router hears: the connection (TLS handshake done), or why there is none. */
  interface Listener {
    void onTunnelConnected(Channel upstream);

    /** {@code transportFailure}: the TLS failure, or null for a TCP connect failure. */
    void onTunnelFailed(String transportFailure);
  }

  private ConnectTunnel() {}

  /**
   * Connects to {@code endpoint} on {@code loop}; returns the connect future (closing its channel
   * abandons the attempt). Reads stay off until the tunnel is installed.
   */
  static ChannelFuture open(
      EventLoop loop,
      Class<? extends SocketChannel> channelClass,
      ClusterConfig cluster,
      Endpoint endpoint,
      Listener listener) {
    TlsContext tls = endpoint.tls();
    SslContext ssl = null;
    if (tls != null) {
      try {
        ssl = tls.sslContext();
      } catch (TlsConfigException e) {
        tls.stats().connectionError();
        cluster.stats().connectFailed();
        endpoint.stats().connectFailed();
        listener.onTunnelFailed("TLS_error:_" + e.getMessage());
        return null;
      }
    }
    SslContext sslContext = ssl;
    // A CONNECT is the local runtime's TCP to a service: Istio's TCP metrics at the source
    // reporter, with the upstream sidecar's metadata from the TCP exchange.
    IstioTelemetry istio = cluster.stats().telemetry();
    TcpTelemetry tcp = istio.tcpConnection();
    tcp.cluster(cluster.stats());
    tcp.downstreamPeer(PeerMetadata.UNKNOWN, null);
    Bootstrap b =
        new Bootstrap()
            .group(loop)
            .channel(channelClass)
            .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, cluster.connectTimeoutMillis())
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
                              tls.sni() != null ? tls.sni() : endpoint.address().getHostString(),
                              endpoint.address().getPort());
                      h.setHandshakeTimeoutMillis(cluster.connectTimeoutMillis());
                      ch.pipeline().addLast(h);
                    }
                    // A sidecar that negotiated istio-peer-exchange starts with its metadata
                    // frame, and expects ours: neither may reach the application.
                    TcpMetadataExchange.install(ch.pipeline(), null, istio, tcp::upstreamPeer);
                    ch.pipeline().addLast(tcp.upstreamCounter(), new Tail(cluster, endpoint));
                  }
                });
    ChannelFuture f = b.connect(endpoint.address());
    f.addListener(
        (ChannelFutureListener)
            cf -> {
              if (!cf.isSuccess()) {
                cluster.stats().connectFailed();
                endpoint.stats().connectFailed();
                listener.onTunnelFailed(null);
                return;
              }
              Channel ch = cf.channel();
              cluster.stats().connectionOpened();
              endpoint.stats().connectionOpened();
              SslHandler h = ch.pipeline().get(SslHandler.class);
              if (h == null) {
                tcp.opened();
                listener.onTunnelConnected(ch);
                return;
              }
              h.handshakeFuture()
                  .addListener(
                      hf -> {
                        if (hf.isSuccess()) {
                          tls.stats().handshake(h.engine(), true);
                          tcp.opened();
                          listener.onTunnelConnected(ch);
                        } else {
                          tls.stats().connectionError();
                          ch.close();
                          listener.onTunnelFailed("TLS_error");
                        }
                      });
            });
    return f;
  }

  /** The upstream connection's last handler: counts its close, drops what reaches it. */
  private static final class Tail extends ChannelInboundHandlerAdapter {
    private final ClusterConfig cluster;
    private final Endpoint endpoint;

    Tail(ClusterConfig cluster, Endpoint endpoint) {
      this.cluster = cluster;
      this.endpoint = endpoint;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      ReferenceCountUtil.release(msg);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      // Only a connected channel goes inactive: its open was counted.
      cluster.stats().connectionClosed();
      endpoint.stats().connectionClosed();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }
  }
}
