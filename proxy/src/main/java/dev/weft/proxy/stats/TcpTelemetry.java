package dev.weft.proxy.stats;

import dev.weft.proxy.tls.PeerIdentity;

/**
 * Istio's TCP metrics of one proxied connection ({@code istio_tcp_connections_opened_total}, {@code
 * _closed_total}, {@code istio_tcp_received_bytes_total}, {@code istio_tcp_sent_bytes_total}). Its
 * series (label set) is chosen once, when the connection has its cluster, has reached its upstream
 * and knows its peer: a destination reporter ({@code inbound|...} cluster) takes the peer of the
 * downstream connection, a source reporter that of the upstream connection, each from {@link
 * TcpMetadataExchange} (or unknown without one) with the TLS peer's principal. Until then the bytes
 * are kept in two longs and added when the series is chosen; a connection that closes first is
 * counted with an unknown peer. Not thread-safe: one per connection, on its event loop.
 */
public final class TcpTelemetry {
  /** Counts nothing (telemetry off, or a tunnel that is not TCP traffic). */
  public static final TcpTelemetry NONE = new TcpTelemetry(null);

  private final IstioTelemetry telemetry;
  private ClusterStats cluster;
  private boolean opened;
  private boolean closed;
  private boolean downstreamKnown;
  private PeerMetadata downstreamPeer;
  private PeerIdentity downstreamIdentity;
  private boolean upstreamKnown;
  private PeerMetadata upstreamPeer;
  private PeerIdentity upstreamIdentity;
  private MetricOverrides overrides;
  private IstioTcpSeries series;
  private long received;
  private long sent;

  TcpTelemetry(IstioTelemetry telemetry) {
    this.telemetry = telemetry;
  }

  /** The cluster the connection was proxied to. */
  public void cluster(ClusterStats c) {
    if (telemetry != null) {
      cluster = c;
    }
  }

  /**
   * The Telemetry API's metric overrides of the connection's filter chain (its {@code istio.stats}
   * configuration), or null; set before the series is chosen.
   */
  public void overrides(MetricOverrides o) {
    if (telemetry != null) {
      overrides = o;
    }
  }

  /** The downstream connection's peer ({@link TcpMetadataExchange.Listener}). */
  public void downstreamPeer(PeerMetadata peer, PeerIdentity identity) {
    if (telemetry != null && !downstreamKnown) {
      downstreamKnown = true;
      downstreamPeer = peer;
      downstreamIdentity = identity;
      resolve(false);
    }
  }

  /** The upstream connection's peer ({@link TcpMetadataExchange.Listener}). */
  public void upstreamPeer(PeerMetadata peer, PeerIdentity identity) {
    if (telemetry != null && !upstreamKnown) {
      upstreamKnown = true;
      upstreamPeer = peer;
      upstreamIdentity = identity;
      resolve(false);
    }
  }

  /** The connection reached its upstream. */
  public void opened() {
    if (telemetry != null && !opened) {
      opened = true;
      resolve(false);
    }
  }

  /** Bytes read from the downstream ({@code received}) and from the upstream ({@code sent}). */
  public void bytes(long received, long sent) {
    if (telemetry == null) {
      return;
    }
    IstioTcpSeries s = series;
    if (s == null) {
      this.received += received;
      this.sent += sent;
      return;
    }
    if (received > 0) {
      s.received.add(received);
    }
    if (sent > 0) {
      s.sent.add(sent);
    }
  }

  /** The connection closed; counted once, and only if it {@link #opened}. */
  public void closed() {
    if (telemetry == null || closed || !opened) {
      return;
    }
    closed = true;
    resolve(true);
    if (series != null) {
      series.closed.increment();
    }
  }

  /** Chooses the series once everything it depends on is known ({@code force}: now). */
  private void resolve(boolean force) {
    if (series != null || cluster == null || !opened) {
      return;
    }
    boolean inbound = cluster.inbound();
    boolean known = inbound ? downstreamKnown : upstreamKnown;
    if (!known && !force) {
      return;
    }
    PeerMetadata peer = inbound ? downstreamPeer : upstreamPeer;
    PeerIdentity id = inbound ? downstreamIdentity : upstreamIdentity;
    IstioTcpSeries s = telemetry.tcpSeries(cluster, peer, id, overrides);
    s.opened.increment();
    if (received > 0) {
      s.received.add(received);
    }
    if (sent > 0) {
      s.sent.add(sent);
    }
    received = 0;
    sent = 0;
    series = s;
  }

  /**
   * A handler for the upstream connection of a byte tunnel that has no TCP proxy session of its own
   * (an HTTP/1.1 CONNECT, the local runtime's way to reach a TCP service): counts the bytes read
   * from the upstream as sent, those written to it as received, and the close. Put it between the
   * connection's {@link TcpMetadataExchange} and the relay.
   */
  public io.netty.channel.ChannelHandler upstreamCounter() {
    return new io.netty.channel.ChannelDuplexHandler() {
      @Override
      public void channelRead(io.netty.channel.ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof io.netty.buffer.ByteBuf b) {
          bytes(0, b.readableBytes());
        }
        ctx.fireChannelRead(msg);
      }

      @Override
      public void write(
          io.netty.channel.ChannelHandlerContext ctx,
          Object msg,
          io.netty.channel.ChannelPromise promise) {
        if (msg instanceof io.netty.buffer.ByteBuf b) {
          bytes(b.readableBytes(), 0);
        }
        ctx.write(msg, promise);
      }

      @Override
      public void channelInactive(io.netty.channel.ChannelHandlerContext ctx) {
        closed();
        ctx.fireChannelInactive();
      }
    };
  }
}
