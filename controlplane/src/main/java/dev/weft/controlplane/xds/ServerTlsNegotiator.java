package dev.weft.controlplane.xds;

import io.grpc.Attributes;
import io.grpc.Grpc;
import io.grpc.InternalChannelz;
import io.grpc.SecurityLevel;
import io.grpc.internal.GrpcAttributes;
import io.grpc.internal.ObjectPool;
import io.grpc.netty.shaded.io.grpc.netty.GrpcHttp2ConnectionHandler;
import io.grpc.netty.shaded.io.grpc.netty.InternalProtocolNegotiationEvent;
import io.grpc.netty.shaded.io.grpc.netty.InternalProtocolNegotiator;
import io.grpc.netty.shaded.io.grpc.netty.InternalProtocolNegotiators;
import io.grpc.netty.shaded.io.grpc.netty.ProtocolNegotiationEvent;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandler;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandlerContext;
import io.grpc.netty.shaded.io.netty.channel.ChannelInboundHandlerAdapter;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslHandler;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.grpc.netty.shaded.io.netty.util.AsciiString;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.LongAdder;
import javax.net.ssl.SSLHandshakeException;

/**
 * The xDS server's TLS negotiation, as gRPC-Java's server TLS handler does it (a server {@link
 * SslHandler}, ALPN {@code h2} required, then gRPC's negotiation event carrying the TLS session)
 * but with a handshake timeout of its own choosing. gRPC-Java's handler (grpc-java 1.85, {@code
 * ProtocolNegotiators.ServerTlsHandler}) builds its {@code SslHandler} with Netty's default 10 s
 * handshake timeout and no option to change it; in a connect storm of 2000 proxies an admitted
 * connection's handshake waited behind the encryption of gigabytes of responses on the same event
 * loops for longer than that, and the server closed it (the proxy saw "Network closed for unknown
 * reason", backed off, was admitted again and fetched everything again). Envoy's listeners have no
 * TLS handshake timeout by default ({@code transport_socket_connect_timeout} unset); Weft keeps a
 * long one ({@link ConnectionAdmission#handshakeTimeout}) because an admitted connection holds a
 * handshake slot until its handshake ends: a client that connects and never speaks must not hold
 * one for ever.
 *
 * <p>Counts the handshakes that failed, by the failure's class ({@link #failures}), so a connect
 * storm's losses can be told apart (timeouts, resets, protocol errors). Built on grpc-netty's
 * {@code Internal*} negotiator API, the hook gRPC offers for a transport's own security.
 */
final class ServerTlsNegotiator implements InternalProtocolNegotiator.ProtocolNegotiator {
  private static final System.Logger logger = System.getLogger(ServerTlsNegotiator.class.getName());
  private static final AsciiString HTTPS = AsciiString.of("https");

  /**
   * How many bytes of pending writes the {@link SslHandler} encrypts into one outbound buffer
   * ({@link SslHandler#setWrapDataSize}): 64 KiB, four TLS records of the largest plaintext (RFC
   * 8446 section 5.1, 2^14 bytes) each, where Netty's default is one. The records are the same
   * (Netty cuts a larger wrap into 16 KiB records); what changes is the work around each: one
   * buffer allocated for the plaintext and one for the records, one write, one promise and one
   * vector of the {@code writev} per four records instead of per record. The xDS server's writes
   * are mostly DATA frames of 2 MB responses (issue #10: 7.1 GB in the 2000-sidecar sync, where
   * that work per record was a tenth of the I/O threads' time; docs/benchmarks.md, "Control plane
   * at scale", 2026-12-01 scale/cp4). Both buffers stay pooled: well under the 512 KiB chunk.
   */
  static final int WRAP_DATA_SIZE = 64 << 10;

  private final SslContext ssl;
  private final long timeoutMillis;
  private final Executor executor;
  private final Map<String, LongAdder> failures;

  private ServerTlsNegotiator(
      SslContext ssl, long timeoutMillis, Executor executor, Map<String, LongAdder> failures) {
    this.ssl = ssl;
    this.timeoutMillis = timeoutMillis;
    this.executor = executor;
    this.failures = failures;
  }

  /**
   * A server negotiator factory with {@code ssl} (a server context with ALPN {@code h2}, e.g. from
   * {@code GrpcSslContexts.configure}) and {@code handshakeTimeout} (zero: none), counting failed
   * handshakes into {@code failures}.
   */
  static InternalProtocolNegotiator.ServerFactory factory(
      SslContext ssl, Duration handshakeTimeout, Map<String, LongAdder> failures) {
    Objects.requireNonNull(ssl, "ssl");
    Objects.requireNonNull(failures, "failures");
    long millis = handshakeTimeout.toMillis();
    return new InternalProtocolNegotiator.ServerFactory() {
      @Override
      public InternalProtocolNegotiator.ProtocolNegotiator newNegotiator(
          ObjectPool<? extends Executor> offloadExecutorPool) {
        Executor executor = offloadExecutorPool == null ? null : offloadExecutorPool.getObject();
        return new ServerTlsNegotiator(ssl, millis, executor, failures);
      }
    };
  }

  /** A new map for {@link #factory}'s failure counts. */
  static Map<String, LongAdder> newFailureCounts() {
    return new ConcurrentHashMap<>();
  }

  /** A sorted snapshot of {@code failures}: the failure's simple class name → count. */
  static Map<String, Long> snapshot(Map<String, LongAdder> failures) {
    Map<String, Long> out = new TreeMap<>();
    failures.forEach((k, v) -> out.put(k, v.sum()));
    return out;
  }

  @Override
  public AsciiString scheme() {
    return HTTPS;
  }

  @Override
  public ChannelHandler newHandler(GrpcHttp2ConnectionHandler grpcHandler) {
    ChannelHandler next = InternalProtocolNegotiators.grpcNegotiationHandler(grpcHandler);
    return InternalProtocolNegotiators.waitUntilActiveHandler(
        new Handshake(next), grpcHandler.getNegotiationLogger());
  }

  @Override
  public void close() {}

  /** Starts the server side of TLS once the channel is active, then hands over to gRPC. */
  private final class Handshake extends ChannelInboundHandlerAdapter {
    private final ChannelHandler next;
    private ProtocolNegotiationEvent pne;

    Handshake(ChannelHandler next) {
      this.next = next;
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
      if (evt instanceof ProtocolNegotiationEvent e && pne == null) {
        pne = e; // the channel is active (gRPC's WaitUntilActive): add TLS
        SslHandler tls =
            executor == null
                ? new SslHandler(ssl.newEngine(ctx.alloc()), false)
                : new SslHandler(ssl.newEngine(ctx.alloc()), false, executor);
        tls.setHandshakeTimeoutMillis(timeoutMillis); // 0: none, as Envoy's listeners
        tls.setWrapDataSize(WRAP_DATA_SIZE);
        ctx.pipeline().addBefore(ctx.name(), null, tls);
      } else if (evt instanceof SslHandshakeCompletionEvent done) {
        if (!done.isSuccess()) {
          count(ctx, done.cause());
          ctx.fireExceptionCaught(done.cause());
          return;
        }
        SslHandler tls = ctx.pipeline().get(SslHandler.class);
        if (!ssl.applicationProtocolNegotiator().protocols().contains(tls.applicationProtocol())) {
          SSLHandshakeException e =
              new SSLHandshakeException(
                  "the client did not negotiate ALPN h2: " + tls.applicationProtocol());
          count(ctx, e);
          ctx.fireExceptionCaught(e);
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

    private void count(ChannelHandlerContext ctx, Throwable cause) {
      String kind = cause == null ? "unknown" : cause.getClass().getSimpleName();
      failures.computeIfAbsent(kind, k -> new LongAdder()).increment();
      logger.log(
          Level.DEBUG,
          () -> "TLS handshake with " + ctx.channel().remoteAddress() + " failed: " + cause);
    }
  }
}
