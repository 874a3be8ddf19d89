package dev.weft.controlplane.bench;

import io.grpc.Attributes;
import io.grpc.Grpc;
import io.grpc.InternalChannelz;
import io.grpc.SecurityLevel;
import io.grpc.internal.GrpcAttributes;
import io.grpc.netty.shaded.io.grpc.netty.GrpcHttp2ConnectionHandler;
import io.grpc.netty.shaded.io.grpc.netty.InternalNettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.InternalProtocolNegotiationEvent;
import io.grpc.netty.shaded.io.grpc.netty.InternalProtocolNegotiator;
import io.grpc.netty.shaded.io.grpc.netty.InternalProtocolNegotiators;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.ProtocolNegotiationEvent;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandler;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandlerContext;
import io.grpc.netty.shaded.io.netty.channel.ChannelInboundHandlerAdapter;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslHandler;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.grpc.netty.shaded.io.netty.util.AsciiString;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;

/**
 * TLS for the benchmark's simulated sidecars as Envoy does it: no handshake timeout (Envoy's {@code
 * transport_socket_connect_timeout} is unset in Istio's bootstrap), where gRPC-Java's TLS
 * negotiator gives every handshake 10 s from the TCP connect and offers no knob (grpc-java#6971).
 * With it, a connection the control plane holds in its listen queue waits as an Envoy would,
 * instead of failing and coming back. Otherwise the same steps as gRPC-Java's client TLS handler:
 * SNI and host name verification against the authority, then the negotiation event with the TLS
 * session. Uses gRPC's internal negotiator API (test code only).
 *
 * <p>Weft's proxy takes the same steps ({@code proxy/.../identity/EnvoyLikeTlsNegotiator}, plus
 * requiring ALPN {@code h2}), and the control plane's server side the same hand-over ({@code
 * ServerTlsNegotiator}); this is a copy on purpose. The proxy's runs on grpc-netty over unshaded
 * Netty and this on grpc-netty-shaded, and controlplane may not depend on proxy; nor may the
 * benchmark's client call into the control plane's main classes, since {@code CLASSES=} runs it
 * against other builds' classes (a method added there would be missing from an older build).
 */
final class EnvoyLikeTls {
  private EnvoyLikeTls() {}

  /** Makes {@code builder} negotiate TLS with {@code ssl} for {@code authority}, no timeout. */
  static NettyChannelBuilder apply(NettyChannelBuilder builder, SslContext ssl, String authority) {
    InternalNettyChannelBuilder.setProtocolNegotiatorFactory(
        builder,
        new InternalProtocolNegotiator.ClientFactory() {
          @Override
          public InternalProtocolNegotiator.ProtocolNegotiator newNegotiator() {
            return new Negotiator(ssl, authority);
          }

          @Override
          public int getDefaultPort() {
            return 443;
          }
        });
    return builder;
  }

  private static final class Negotiator implements InternalProtocolNegotiator.ProtocolNegotiator {
    private final SslContext ssl;
    private final String authority;

    Negotiator(SslContext ssl, String authority) {
      this.ssl = ssl;
      this.authority = authority;
    }

    @Override
    public AsciiString scheme() {
      return AsciiString.of("https");
    }

    @Override
    public ChannelHandler newHandler(GrpcHttp2ConnectionHandler grpcHandler) {
      ChannelHandler next = InternalProtocolNegotiators.grpcNegotiationHandler(grpcHandler);
      return InternalProtocolNegotiators.waitUntilActiveHandler(
          new Handshake(next, ssl, authority), grpcHandler.getNegotiationLogger());
    }

    @Override
    public void close() {}
  }

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
        pne = e; // the channel is active (WaitUntilActive): start the handshake
        SyncTimeline.TCP_UP.incrementAndGet();
        SSLEngine engine = ssl.newEngine(ctx.alloc(), authority, 443);
        SSLParameters params = engine.getSSLParameters();
        params.setEndpointIdentificationAlgorithm("HTTPS");
        engine.setSSLParameters(params);
        SslHandler tls = new SslHandler(engine, false);
        tls.setHandshakeTimeoutMillis(0); // Envoy: none
        ctx.pipeline().addBefore(ctx.name(), null, tls);
      } else if (evt instanceof SslHandshakeCompletionEvent done) {
        if (!done.isSuccess()) {
          ctx.fireExceptionCaught(done.cause());
          return;
        }
        SyncTimeline.HANDSHAKES.incrementAndGet();
        SslHandler tls = ctx.pipeline().get(SslHandler.class);
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
