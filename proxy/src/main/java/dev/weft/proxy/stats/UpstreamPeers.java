package dev.weft.proxy.stats;

import dev.weft.proxy.tls.PeerIdentity;
import io.netty.channel.Channel;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.AttributeKey;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLPeerUnverifiedException;

/**
 * The verified server certificate of an upstream connection, as Istio's source reporter uses it
 * ({@code destination_principal} is the upstream peer's URI SAN, {@code source_principal} the
 * proxy's own). Read once per connection (the certificate's SANs are parsed at its first request
 * and kept on the channel), so a pooled connection's later requests pay one attribute lookup.
 */
public final class UpstreamPeers {
  /** The peer's URI SAN, or {@link #NONE} for a plaintext connection or one without a SAN. */
  private static final AttributeKey<String> URI_SAN =
      AttributeKey.valueOf(UpstreamPeers.class, "uriSan");

  private static final String NONE = "";

  private UpstreamPeers() {}

  /**
   * The upstream peer's URI SAN of {@code ch} (a connection, or an HTTP/2 stream whose parent is
   * the connection), or null when it is plaintext or the peer has none. Call on its event loop.
   */
  public static String uriSan(Channel ch) {
    Channel conn = ch.parent() != null ? ch.parent() : ch;
    var attr = conn.attr(URI_SAN);
    String v = attr.get();
    if (v == null) {
      v = read(conn);
      attr.set(v);
    }
    return v.isEmpty() ? null : v;
  }

  private static String read(Channel conn) {
    SslHandler ssl = conn.pipeline().get(SslHandler.class);
    if (ssl == null || !ssl.handshakeFuture().isSuccess()) {
      return NONE;
    }
    try {
      Certificate[] chain = ssl.engine().getSession().getPeerCertificates();
      if (chain.length > 0 && chain[0] instanceof X509Certificate leaf) {
        String san = PeerIdentity.of(leaf).uriSan();
        return san == null ? NONE : san;
      }
    } catch (SSLPeerUnverifiedException e) {
      // no certificate
    }
    return NONE;
  }
}
