package dev.weft.proxy.identity;

import io.grpc.Attributes;
import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.InternalChannelz;
import io.grpc.SecurityLevel;
import io.grpc.internal.GrpcAttributes;
import io.grpc.netty.GrpcHttp2ConnectionHandler;
import io.grpc.netty.InternalNettyChannelCredentials;
import io.grpc.netty.InternalProtocolNegotiationEvent;
import io.grpc.netty.InternalProtocolNegotiator;
import io.grpc.netty.InternalProtocolNegotiators;
import io.grpc.netty.ProtocolNegotiationEvent;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.AsciiString;
import java.util.Objects;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLParameters;

/**
 * gRPC channel credentials for the control plane's port that negotiate TLS as Envoy does: with no
 * handshake timeout of their own. Envoy's xDS cluster ({@code xds-grpc} in Istio's bootstrap) sets
 * no {@code transport_socket_connect_timeout}, so a handshake the control plane is slow to serve
 * (it admits connections at a bounded rate in a connect storm, leaving the rest in its listen
 * queue) is waited for; gRPC-Java's own TLS negotiator gives every handshake Netty's default 10 s
 * from the TCP connect and has no option to change it (grpc-java 1.85: {@code
 * ProtocolNegotiators.ClientTlsHandler} builds its {@code SslHandler} itself), so a proxy queued
 * longer failed its stream, backed off and queued again. A connection that never completes is still
 * ended by TCP (a reset, or the peer closing) and the stream's backoff opens another.
 *
 * <p>Otherwise the same steps as gRPC-Java's client TLS: SNI and host name verification against the
 * authority, ALPN {@code h2} required, then gRPC's negotiation event carrying the TLS session (so
 * {@code Grpc.TRANSPORT_ATTR_SSL_SESSION} and channelz see it). Built on grpc-netty's {@code
 * Internal*} negotiator API, the hook gRPC offers for custom transports' security.
 */
final class EnvoyLikeTlsNegotiator implements InternalProtocolNegotiator.ProtocolNegotiator {
  private static final AsciiString HTTPS = AsciiString.of("https");

  private final SslContext ssl;
  private final String authority;

  private EnvoyLikeTlsNegotiator(SslContext ssl, String authority) {
    this.ssl = ssl;
    this.authority = authority;
  }

  /**
   * Channel credentials negotiating TLS with {@code ssl} (a client context with ALPN {@code h2},
   * e.g. from {@code GrpcSslContexts.forClient()}) for {@code authority}, without a handshake
   * timeout. Only the unshaded grpc-netty transport ({@code NettyChannelBuilder}) accepts them.
   */
  static ChannelCredentials credentials(SslContext ssl, String authority) {
    Objects.requireNonNull(ssl, "ssl");
    Objects.requireNonNull(authority, "authority");
    return InternalNettyChannelCredentials.create(
        new InternalProtocolNegotiator.ClientFactory() {
          @Override
          public InternalProtocolNegotiator.ProtocolNegotiator newNegotiator() {
            return new EnvoyLikeTlsNegotiator(ssl, authority);
          }

          @Override
          public int getDefaultPort() {
            return 443;
          }
        });
  }

  @Override
  public AsciiString scheme() {
    return HTTPS;
  }

  @Override
  public ChannelHandler newHandler(GrpcHttp2ConnectionHandler grpcHandler) {
    ChannelHandler next = InternalProtocolNegotiators.grpcNegotiationHandler(grpcHandler);
    return InternalProtocolNegotiators.waitUntilActiveHandler(
        new Handshake(next, ssl, authority), grpcHandler.getNegotiationLogger());
  }

  @Override
  public void close() {}

  /** Starts TLS once the channel is active, then hands over to gRPC with the session. */
  private static final class Handshake extends ChannelInboundHandlerAdapter {
    private final ChannelHandler next;
    private final SslContext ssl;
    private final String authority;
    private ProtocolNegotiationEvent pne;

    Handshake(ChannelHandler next, SslContext ssl, String authority) {
      this.next = next;
      this.ssl = ssl;
      this.authority = authority;
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
      if (evt instanceof ProtocolNegotiationEvent e && pne == null) {
        pne = e; // the channel is active (gRPC's WaitUntilActive): start the handshake
        SSLEngine engine = ssl.newEngine(ctx.alloc(), authority, 443);
        SSLParameters params = engine.getSSLParameters();
        params.setEndpointIdentificationAlgorithm("HTTPS");
        engine.setSSLParameters(params);
        SslHandler tls = new SslHandler(engine, false);
        tls.setHandshakeTimeoutMillis(0); // Envoy: no transport_socket_connect_timeout
        ctx.pipeline().addBefore(ctx.name(), null, tls);
      } else if (evt instanceof SslHandshakeCompletionEvent done) {
        if (!done.isSuccess()) {
          ctx.fireExceptionCaught(done.cause());
          return;
        }
        SslHandler tls = ctx.pipeline().get(SslHandler.class);
        if (!"h2".equals(tls.applicationProtocol())) {
          ctx.fireExceptionCaught(
              new SSLHandshakeException(
                  "the control plane did not negotiate ALPN h2: " + tls.applicationProtocol()));
          return;
        }
        Attributes attrs =
            InternalProtocolNegotiationEvent.getAttributes(pne).toBuilder()
                .set(GrpcAttributes.ATTR_SECURITY_LEVEL, SecurityLevel.PRIVACY_AND_INTEGRITY)
                .set(Grpc.TRANSPORT_ATTR_SSL_SESSION, tls.engine().getSession())
                .build();
        ProtocolNegotiationEvent completed =
            InternalProtocolNegotiationEvent.withSecurity(
                InternalProtocolNegotiationEvent.withAttributes(pne, attrs),
                new InternalChannelz.Security(new InternalChannelz.Tls(tls.engine().getSession())));
        ctx.pipeline().replace(ctx.name(), null, next);
        ctx.fireUserEventTriggered(completed);
      } else {
        ctx.fireUserEventTriggered(evt);
      }
    }
  }
}
