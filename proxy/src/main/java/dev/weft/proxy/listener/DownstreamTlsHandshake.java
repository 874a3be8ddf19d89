package dev.weft.proxy.listener;

import dev.weft.proxy.tls.PeerIdentity;
import dev.weft.proxy.tls.TlsStats;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.function.BiConsumer;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLPeerUnverifiedException;

/**
 * Follows a downstream TLS handshake (after the chain's {@link SslHandler}): on success it counts
 * {@code ssl.handshake} (and {@code ssl.session_reused}, {@code ssl.no_certificate}), gives the
 * network filter (the connection manager; the TCP proxy ignores it) the peer's {@link PeerIdentity}
 * and removes itself, so it costs nothing per read afterwards; on failure it counts {@code
 * ssl.connection_error} and closes the connection, as Envoy does. One per connection, on its event
 * loop.
 */
final class DownstreamTlsHandshake extends ChannelInboundHandlerAdapter {
  private final TlsStats stats;
  private final BiConsumer<PeerIdentity, String> manager;
  private final String serverName;

  DownstreamTlsHandshake(
      TlsStats stats, BiConsumer<PeerIdentity, String> manager, String serverName) {
    this.stats = stats;
    this.manager = manager;
    this.serverName = serverName;
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt instanceof SslHandshakeCompletionEvent e) {
      if (e.isSuccess()) {
        SSLEngine engine = ctx.pipeline().get(SslHandler.class).engine();
        PeerIdentity peer = peer(engine);
        stats.handshake(engine, peer.mutual());
        manager.accept(peer, serverName);
        ctx.pipeline().remove(this);
      } else {
        stats.connectionError();
        ctx.close();
      }
    }
    ctx.fireUserEventTriggered(evt);
  }

  static PeerIdentity peer(SSLEngine engine) {
    try {
      Certificate[] chain = engine.getSession().getPeerCertificates();
      if (chain.length > 0 && chain[0] instanceof X509Certificate leaf) {
        return PeerIdentity.of(leaf);
      }
    } catch (SSLPeerUnverifiedException e) {
      // no client certificate
    }
    return PeerIdentity.NO_CERTIFICATE;
  }
}
