package dev.weft.controlplane.xds;

import io.grpc.Server;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.InternalNettyServerCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.ChannelOption;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.WriteBufferWaterMark;
import io.grpc.netty.shaded.io.netty.channel.nio.NioEventLoopGroup;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import javax.net.ssl.KeyManager;

/**
 * The gRPC server that serves ADS, and Istio's CA service, on one address: over TLS with the
 * control plane's serving certificate, every call authenticated by an interceptor (Istio's 15012).
 * Weft serves no plaintext xDS (Istio's 15010): a plaintext stream could register a workload under
 * any name.
 */
public final class XdsServer implements AutoCloseable {
  private final Server server;
  private final InetSocketAddress address;
  private final List<EventLoopGroup> groups;
  private final Map<String, LongAdder> handshakeFailures;

  private XdsServer(
      Server server,
      InetSocketAddress address,
      List<EventLoopGroup> groups,
      Map<String, LongAdder> handshakeFailures) {
    this.server = server;
    this.address = address;
    this.groups = groups;
    this.handshakeFailures = handshakeFailures;
  }

  /**
   * Binds {@code address} (port 0: any free port) and serves {@code services} over TLS with {@code
   * serverKey}, every call through {@code authenticator} first.
   *
   * @throws IOException when the address cannot be bound; the message names {@code host:port}
   */
  public static XdsServer startSecure(
      InetSocketAddress address,
      KeyManager serverKey,
      ServerInterceptor authenticator,
      List<ServerServiceDefinition> services)
      throws IOException {
    return startSecure(address, serverKey, authenticator, services, ConnectionAdmission.defaults());
  }

  /**
   * As {@link #startSecure(InetSocketAddress, KeyManager, ServerInterceptor, List)}, accepting new
   * connections only as {@code admission} admits them ({@link AdmittingServerChannel}): a connect
   * storm waits in the listen queue and is handshaken at a bounded rate and concurrency, never
   * timed out by the server while it waits. An admitted connection's TLS handshake times out only
   * after {@link ConnectionAdmission#handshakeTimeout} ({@link ServerTlsNegotiator}), not gRPC's
   * fixed 10 s. Accepting runs on one thread, the connections on one event loop per core.
   */
  public static XdsServer startSecure(
      InetSocketAddress address,
      KeyManager serverKey,
      ServerInterceptor authenticator,
      List<ServerServiceDefinition> services,
      ConnectionAdmission admission)
      throws IOException {
    // As gRPC's TlsServerCredentials with a key manager: its default provider, ALPN h2, no client
    // certificate asked for (callers authenticate with tokens, CallerAuthenticator).
    SslContext ssl = GrpcSslContexts.configure(SslContextBuilder.forServer(serverKey)).build();
    Map<String, LongAdder> failures = ServerTlsNegotiator.newFailureCounts();
    NettyServerBuilder b =
        NettyServerBuilder.forAddress(
            address,
            InternalNettyServerCredentials.create(
                ServerTlsNegotiator.factory(ssl, admission.handshakeTimeout(), failures)));
    for (ServerServiceDefinition s : services) {
      b.addService(ServerInterceptors.intercept(s, authenticator));
    }
    EventLoopGroup boss = new NioEventLoopGroup(1, daemonThreads("weft-xds-accept"));
    EventLoopGroup workers =
        new NioEventLoopGroup(
            Math.max(2, Runtime.getRuntime().availableProcessors()), daemonThreads("weft-xds-io"));
    b.channelFactory(() -> new AdmittingServerChannel(admission))
        .bossEventLoopGroup(boss)
        .workerEventLoopGroup(workers)
        // Short: see ConnectionAdmission.listenBacklog (Linux caps it at somaxconn).
        .withOption(ChannelOption.SO_BACKLOG, admission.listenBacklog())
        .withChildOption(ChannelOption.WRITE_BUFFER_WATER_MARK, RESPONSE_WATER_MARK);
    try {
      return start(b, address, List.of(boss, workers), failures);
    } catch (IOException | RuntimeException e) {
      boss.shutdownGracefully(0, 0, TimeUnit.SECONDS);
      workers.shutdownGracefully(0, 0, TimeUnit.SECONDS);
      throw e;
    }
  }

  /**
   * When a connection stops taking more of its responses' bytes and when it takes them again:
   * Netty's default (64 KiB high, 32 KiB low) had the HTTP/2 flow controller hand over a 2 MB CDS
   * response 64 KiB at a time, each round a writability event, a flush through TLS and a {@code
   * writev}: about 110,000 rounds for the 7.2 GB of the 2000-sidecar sync, whose writing was half
   * of the I/O threads' time (async-profiler, docs/benchmarks.md "Control plane at scale",
   * 2026-12-01 scale/cp). What is written is bounded all the same: by the proxy's HTTP/2
   * flow-control window (gRPC's 1 MiB; Envoy's 256 MiB) and by {@link PushThrottle}'s busy streams,
   * each of which holds its whole response anyway.
   */
  static final WriteBufferWaterMark RESPONSE_WATER_MARK =
      new WriteBufferWaterMark(256 << 10, 512 << 10);

  private static ThreadFactory daemonThreads(String prefix) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }

  /**
   * Binds a loopback {@code address} and serves {@code service} in plaintext: the proxyless gRPC
   * port ({@link ProxylessAdsService}), which registers nobody and serves no secrets.
   *
   * @throws IllegalArgumentException when {@code address} is not a loopback address
   * @throws IOException when the address cannot be bound; the message names {@code host:port}
   */
  public static XdsServer startLoopbackPlaintext(
      InetSocketAddress address, ServerServiceDefinition service) throws IOException {
    if (address.getAddress() == null || !address.getAddress().isLoopbackAddress()) {
      throw new IllegalArgumentException(
          "the proxyless xDS port must be a loopback address, not " + address.getHostString());
    }
    NettyServerBuilder b =
        NettyServerBuilder.forAddress(address, io.grpc.InsecureServerCredentials.create())
            .addService(service);
    return start(b, address, List.of(), ServerTlsNegotiator.newFailureCounts());
  }

  private static XdsServer start(
      NettyServerBuilder builder,
      InetSocketAddress address,
      List<EventLoopGroup> groups,
      Map<String, LongAdder> handshakeFailures)
      throws IOException {
    Server server =
        builder
            .directExecutor()
            .compressorRegistry(XdsCompression.REGISTRY)
            .maxInboundMessageSize(16 << 20)
            // Proxies keep their stream alive with pings; accept them (Envoy's default interval).
            .permitKeepAliveTime(5, TimeUnit.SECONDS)
            .permitKeepAliveWithoutCalls(true)
            .build();
    try {
      server.start();
    } catch (IOException e) {
      throw new IOException(
          "cannot bind the xDS server to "
              + address.getHostString()
              + ":"
              + address.getPort()
              + ": "
              + rootMessage(e),
          e);
    }
    InetSocketAddress bound = address;
    if (!server.getListenSockets().isEmpty()
        && server.getListenSockets().get(0) instanceof InetSocketAddress a) {
      bound = new InetSocketAddress(address.getAddress(), a.getPort());
    }
    return new XdsServer(server, bound, groups, handshakeFailures);
  }

  static String rootMessage(Throwable t) {
    Throwable c = t;
    while (c.getCause() != null) {
      c = c.getCause();
    }
    return c.getMessage() == null ? c.toString() : c.getMessage();
  }

  /** The bound address. */
  public InetSocketAddress address() {
    return address;
  }

  /**
   * The TLS handshakes that failed so far, by the failure's class (e.g. {@code
   * SslHandshakeTimeoutException}, {@code SSLHandshakeException}); empty for a plaintext server.
   */
  public Map<String, Long> handshakeFailures() {
    return ServerTlsNegotiator.snapshot(handshakeFailures);
  }

  @Override
  public void close() {
    server.shutdownNow();
    try {
      server.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    for (EventLoopGroup g : groups) {
      g.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }
  }
}
