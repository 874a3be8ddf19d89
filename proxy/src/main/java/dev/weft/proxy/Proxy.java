package dev.weft.proxy;

import dev.weft.proxy.accesslog.AccessLogger;
import dev.weft.proxy.admin.AdminServer;
import dev.weft.proxy.admin.PrometheusServer;
import dev.weft.proxy.http.DataPlane;
import dev.weft.proxy.http.Http2Downstream;
import dev.weft.proxy.identity.GrpcCertificateClient;
import dev.weft.proxy.identity.WorkloadCertificates;
import dev.weft.proxy.listener.ListenerManager;
import dev.weft.proxy.net.Transport;
import dev.weft.proxy.stats.ProxyStats;
import dev.weft.proxy.tls.SecretStore;
import dev.weft.proxy.xds.NodeStructs;
import dev.weft.proxy.xds.XdsClient;
import dev.weft.proxy.xds.resource.ConfigCompiler;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A running Weft proxy (sidecar or gateway): an admin interface, an xDS client that keeps the
 * configuration current, and Netty listeners that serve HTTP/1.1 with it. Start one with {@link
 * #start}; it is ready once the first clusters and listeners arrived and every listener is bound,
 * and, when it announces mTLS ({@link ProxyBootstrap#mutualTls()}), once its secret store holds the
 * workload certificate {@code default} and the roots {@code ROOTCA}.
 *
 * <p>A proxy that announces mTLS and gets its certificate from the control plane's CA opens its xDS
 * stream only after the first certificate arrived: the stream registers its workload (peers then
 * send it mTLS) and brings the listeners whose TLS needs {@code default}, so neither may come
 * before the certificate (Envoy keeps such listeners warming until their SDS secrets arrive;
 * Istio's sidecar is not ready before then either).
 */
public final class Proxy implements AutoCloseable {
  private final ProxyBootstrap bootstrap;
  private final ProxyStats stats = new ProxyStats();
  private final SecretStore secrets = new SecretStore();
  private final CompletableFuture<Void> terminated = new CompletableFuture<>();
  private final Object readyLock = new Object();
  private AccessLogger accessLog;
  private Transport transport;
  private DataPlane dataPlane;
  private ListenerManager listeners;
  private volatile XdsClient xds; // null until start built it (the admin may ask before)
  private AdminServer admin;
  private WorkloadCertificates certificates;
  private GrpcCertificateClient caClient;

  /** The one connection to the control plane, shared by caClient and xds; null without them. */
  private io.grpc.ManagedChannel controlPlane;

  private PrometheusServer prometheus;
  private java.util.concurrent.ExecutorService adminRenderer;
  private final Object xdsLock = new Object();
  private boolean xdsStarted; // guarded by xdsLock
  private volatile boolean closing;
  private dev.weft.proxy.tracing.SpanExporter spans;
  private dev.weft.proxy.accesslog.AccessLogSinks accessLogSinks;

  private Proxy(ProxyBootstrap bootstrap) {
    this.bootstrap = bootstrap;
  }

  /**
   * Starts, on threads of their own, the parts of a proxy's start that need nothing of its
   * bootstrap, so they overlap what its process does first (reading its state, asking the control
   * plane's API for its workload token): the first workload key ({@link
   * WorkloadCertificates#prepareKey}), and the loading of Netty's native transport (the one {@link
   * Transport} runs on) and TLS (BoringSSL), which {@link #start} needs for its event loops and its
   * channel to the CA (issue #10). Optional: {@link #start} works without it. Idempotent.
   */
  public static void prepare() {
    WorkloadCertificates.prepareKey();
    if (PREPARED.compareAndSet(false, true)) {
      Thread.ofPlatform()
          .name("weft-prepare")
          .daemon()
          .start(
              () -> {
                try {
                  Transport.prepare();
                } catch (IllegalArgumentException e) {
                  // A bad -Dweft.transport: start's Transport.create says so.
                }
                io.netty.handler.ssl.OpenSsl.isAvailable();
              });
    }
  }

  private static final java.util.concurrent.atomic.AtomicBoolean PREPARED =
      new java.util.concurrent.atomic.AtomicBoolean();

  /**
   * Binds the admin address and starts connecting to the control plane in the background.
   *
   * @throws IOException when the admin address cannot be bound (the message names {@code
   *     host:port}) or the access log cannot be opened
   */
  public static Proxy start(ProxyBootstrap b) throws IOException {
    StartTrace.markOnce("proxy-start");
    Proxy p = new Proxy(b);
    p.stats.telemetry(
        new dev.weft.proxy.stats.IstioTelemetry(
            dev.weft.proxy.stats.PeerMetadata.ofNode(
                b.metadata(), b.nodeId().name(), b.nodeId().namespace()),
            b.nodeId().toString(),
            b.telemetry()));
    // The event loops first: the admin and metrics ports are served on them.
    p.transport = Transport.create(b.concurrency(), b.transport().orElse(null));
    p.stats.concurrency(p.transport.group().executorCount());
    p.adminRenderer = dev.weft.proxy.admin.AdminServer.renderer();
    // The workload certificate first (an EC key, its CSR, the CA's answer: ~0.3 s of CPU at a
    // cold start), on the identity thread while this one binds the ports and builds the rest.
    if (b.credentials().isPresent()) {
      Object sa = b.metadata().get(dev.weft.xds.NodeMetadata.SERVICE_ACCOUNT);
      String spiffe =
          dev.weft.xds.identity.SpiffeId.of(
                  b.nodeId().namespace(), sa instanceof String s ? s : "default")
              .uri();
      // One connection to the control plane for the certificate and the xDS stream: one TLS
      // handshake (and one TLS context) at start, not two, and the connection the stream opens
      // on is the one that brought the certificate (issue #10).
      p.controlPlane =
          dev.weft.proxy.xds.ControlPlaneChannels.open(
              b.xdsServer(),
              b.credentials().get(),
              p.transport,
              Runnable::run,
              r -> Thread.ofPlatform().name("weft-xds-resolve").daemon().start(r));
      p.caClient = new GrpcCertificateClient(p.controlPlane, b.credentials().get());
      p.certificates =
          WorkloadCertificates.builder()
              .ca(p.caClient)
              .spiffeId(spiffe)
              .rootPem(b.credentials().get().rootPem())
              .ttl(b.certificateTtl())
              .build();
      // The data plane's TLS reads these from the secret store (in-process SDS).
      WorkloadCertificates wc = p.certificates;
      wc.addListener(name -> wc.secret(name).ifPresent(p.secrets::register));
      p.certificates.start();
    }
    try {
      p.admin =
          AdminServer.start(
              b.adminAddress(),
              p.transport,
              p.adminRenderer,
              p::ready,
              () -> p.failure().orElse(null),
              () -> p.dataPlane == null ? null : p.dataPlane.config(),
              () -> p.xds.snapshot(),
              p.stats,
              p::close);
    } catch (IOException | RuntimeException e) {
      p.stopLoops();
      throw e;
    }
    StartTrace.markOnce("admin-bound");
    p.admin.secrets(p.secrets);
    if (b.prometheusAddress().isPresent()) {
      try {
        p.prometheus =
            PrometheusServer.start(
                b.prometheusAddress().get(), p.transport, p.adminRenderer, p.stats);
      } catch (IOException e) {
        p.admin.close();
        p.stopLoops();
        throw e;
      }
    }
    // The node as sent, advertising the bound metrics port (ENVOY_PROMETHEUS_PORT).
    io.envoyproxy.envoy.config.core.v3.Node node =
        NodeStructs.node(
            b.nodeId(),
            NodeStructs.withPrometheusPort(
                b.nodeId(), b.metadata(), p.prometheus == null ? null : p.prometheus.address()),
            b.mutualTls());
    p.admin.bootstrap(
        dev.weft.proxy.admin.BootstrapDump.of(node, p.admin.address(), b.xdsServer()));
    try {
      p.accessLog = AccessLogger.open(b.accessLogPath().orElse(null), p.stats);
    } catch (IOException e) {
      p.admin.close();
      if (p.prometheus != null) {
        p.prometheus.close();
      }
      p.stopLoops();
      throw new IOException("cannot open access log " + b.accessLogPath().get() + ": " + e, e);
    }
    p.dataPlane = new DataPlane(p.stats, p.accessLog, p.transport, null);
    p.dataPlane.defaultAccessLog(b.defaultAccessLog());
    p.accessLogSinks = new dev.weft.proxy.accesslog.AccessLogSinks(p.accessLog, p.stats);
    DataPlane dp = p.dataPlane;
    p.spans =
        new dev.weft.proxy.tracing.SpanExporter(
            dev.weft.proxy.tracing.SpanExporter.Options.defaults(),
            cluster -> collectorAddress(dp, cluster),
            p.stats.tracing());
    dev.weft.proxy.stats.PeerMetadata self = p.stats.telemetry().self();
    p.dataPlane.tracer(
        new dev.weft.proxy.tracing.Tracer(
            p.spans,
            b.nodeId().toString(),
            "",
            self.canonicalService() + "." + b.nodeId().namespace(),
            b.nodeId().ip()));
    p.listeners = new ListenerManager(p.transport, p.dataPlane, b.maxDownstreamConnections());
    if (p.certificates != null) {
      p.admin.certs(p.certificates::certsJson);
    }
    p.xds =
        XdsClient.builder()
            .server(b.xdsServer())
            .transport(p.transport)
            .credentials(b.credentials().orElse(null))
            .channel(p.controlPlane)
            .node(node)
            .compiler(
                new ConfigCompiler(p.stats, b.httpFilters(), p.secrets, b.scheduler())
                    .router(b.nodeId().type().equals(dev.weft.xds.NodeId.ROUTER))
                    .accessLogSinks(p.accessLogSinks))
            .stats(p.stats)
            .sink(
                config -> {
                  p.dataPlane.publish(config);
                  return p.listeners.apply(config.listeners());
                })
            .build();
    StartTrace.markOnce("proxy-built");
    p.xds.onChange(p::signal);
    p.secrets.addListener(name -> p.identityChanged());
    if (p.certificates == null || !b.mutualTls()) {
      p.startXds();
    } else {
      // The connection to the control plane is made while the certificate is asked for; the
      // stream (which announces the proxy) opens once the certificate is there.
      p.xds.preconnect();
      p.identityChanged(); // the certificate may have arrived already
    }
    return p;
  }

  /** Stops the identity agent, the event loops and the admin's renderer (a start that failed). */
  private void stopLoops() {
    if (certificates != null) {
      certificates.close();
      caClient.close();
    }
    closeControlPlane();
    transport.group().shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5_000);
    adminRenderer.shutdownNow();
  }

  /** Closes the connection to the control plane, once the CA client and xDS are closed. */
  private void closeControlPlane() {
    if (controlPlane == null) {
      return;
    }
    controlPlane.shutdownNow();
    try {
      controlPlane.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** The first endpoint of {@code cluster} in the current configuration, or null. */
  private static java.net.InetSocketAddress collectorAddress(DataPlane dp, String cluster) {
    dev.weft.proxy.config.ClusterConfig c = dp.config().clusters().get(cluster);
    if (c == null || c.endpoints().isEmpty()) {
      return null;
    }
    return c.endpoints().get(0).address();
  }

  /**
   * A secret changed: wakes {@link #awaitReady} and, once the workload certificate is there, starts
   * the xDS stream that waited for it (on the changing thread: the identity agent's).
   */
  private void identityChanged() {
    if (xds != null && identityReady()) {
      startXds();
    }
    signal();
  }

  private void startXds() {
    synchronized (xdsLock) {
      if (!closing && !xdsStarted) {
        xdsStarted = true;
        xds.start();
      }
    }
  }

  /**
   * Whether the TLS secrets this proxy's mTLS configuration refers to are there: always, when it
   * does not announce mTLS.
   */
  private boolean identityReady() {
    return !bootstrap.mutualTls()
        || (secrets.secret(SecretStore.DEFAULT) != null
            && secrets.secret(SecretStore.ROOTCA) != null);
  }

  private boolean ready() {
    XdsClient x = xds;
    return !closing
        && identityReady()
        && x != null
        && x.initialConfigApplied()
        && x.bindFailures().isEmpty();
  }

  private void signal() {
    synchronized (readyLock) {
      readyLock.notifyAll();
    }
  }

  /** Waits until the proxy is ready; true if it is, false on timeout or when it stopped. */
  public boolean awaitReady(Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    synchronized (readyLock) {
      while (!ready()) {
        long left = deadline - System.nanoTime();
        if (left <= 0 || terminated.isDone()) {
          return false;
        }
        try {
          TimeUnit.NANOSECONDS.timedWait(readyLock, Math.min(left, 100_000_000L));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return false;
        }
      }
      return true;
    }
  }

  /** Why the proxy is not ready (empty when it is). */
  public Optional<String> failure() {
    if (closing) {
      return Optional.of("proxy stopped");
    }
    if (ready()) {
      return Optional.empty();
    }
    if (!identityReady()) {
      String why = certificates == null ? null : certificates.lastError();
      return Optional.of(
          "waiting for the workload certificate (SDS secrets "
              + SecretStore.DEFAULT
              + " and "
              + SecretStore.ROOTCA
              + ")"
              + (certificates == null
                  ? ""
                  : " from the control plane's CA at "
                      + bootstrap.xdsServer().getHostString()
                      + ":"
                      + bootstrap.xdsServer().getPort())
              + (why == null ? "" : ": " + why));
    }
    if (xds == null) {
      return Optional.of("starting");
    }
    Map<String, String> bind = xds.bindFailures();
    if (!bind.isEmpty()) {
      return Optional.of(String.join("; ", bind.values()));
    }
    String err = xds.streamError();
    if (err != null) {
      return Optional.of(err);
    }
    Map<String, String> rejected = xds.snapshot().errors();
    if (!rejected.isEmpty()) {
      StringBuilder sb = new StringBuilder();
      rejected.forEach(
          (type, why) ->
              sb.append(sb.isEmpty() ? "" : "; ")
                  .append("xds: rejected ")
                  .append(dev.weft.xds.TypeUrls.shortName(type))
                  .append(": ")
                  .append(why));
      return Optional.of(sb.toString());
    }
    return Optional.of(
        "waiting for clusters and listeners from the control plane at "
            + bootstrap.xdsServer().getHostString()
            + ":"
            + bootstrap.xdsServer().getPort());
  }

  /**
   * The proxy's TLS secrets: the identity agent registers the workload certificate ({@code
   * default}) and the roots ({@code ROOTCA}) here; SDS over ADS fills it too.
   */
  public SecretStore secrets() {
    return secrets;
  }

  /**
   * The proxy's workload certificates (from the control plane's CA), when its bootstrap has control
   * plane credentials; they are registered in {@link #secrets()} as {@code default} and {@code
   * ROOTCA} each time they change.
   */
  public Optional<WorkloadCertificates> certificates() {
    return Optional.ofNullable(certificates);
  }

  /**
   * The Netty transport the proxy runs on: {@code io_uring}, {@code epoll} or {@code nio} (the one
   * asked for, or its fallback).
   */
  public String transport() {
    return transport.name();
  }

  /** Where the admin interface listens (with the actual port if 0 was configured). */
  public InetSocketAddress adminAddress() {
    return admin.address();
  }

  /** Where Istio's metrics port listens, if the bootstrap asked for one. */
  public Optional<InetSocketAddress> prometheusAddress() {
    return Optional.ofNullable(prometheus).map(PrometheusServer::address);
  }

  /** Completes when the proxy has stopped (after {@link #close} or {@code /quitquitquit}). */
  public CompletableFuture<Void> terminationFuture() {
    return terminated;
  }

  /**
   * Istio's default {@code terminationDrainDuration}: how long a stopping proxy lets its
   * connections finish.
   */
  public static final Duration DEFAULT_DRAIN = Duration.ofSeconds(5);

  /**
   * Drains, as Envoy does before it exits (Istio's agent calls {@code /drain_listeners} on
   * SIGTERM): the drained listeners stop accepting (new connections are refused), their HTTP/1.1
   * connections close when idle and answer requests in progress with {@code Connection: close};
   * returns once every one of their connections has closed or {@code period} has passed, whichever
   * is first. The proxy keeps running (the xDS stream, the other listeners); {@link #close} ends
   * it.
   *
   * @param period the longest wait (Istio's {@code terminationDrainDuration})
   * @param inboundOnly drain only the listeners whose {@code traffic_direction} is {@code INBOUND}
   *     (a sidecar: its app may still call out while it stops), else every listener (a gateway)
   * @return whether every drained connection closed within {@code period}
   */
  public boolean drain(Duration period, boolean inboundOnly) {
    if (closing) {
      return true;
    }
    CompletableFuture<Void> drained = listeners.drain(inboundOnly);
    try {
      drained.get(period.toNanos(), TimeUnit.NANOSECONDS);
      return true;
    } catch (java.util.concurrent.TimeoutException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    } catch (java.util.concurrent.ExecutionException e) {
      return false;
    }
  }

  /** Stops everything: xDS, listeners, event loops, admin, access log. Idempotent. */
  @Override
  public void close() {
    synchronized (this) {
      if (closing) {
        terminated.join();
        return;
      }
      closing = true;
    }
    synchronized (xdsLock) {
      // a start in progress finishes first; none begins after (closing is set)
    }
    try {
      if (xds != null) {
        xds.close();
      }
      if (certificates != null) {
        certificates.close();
        caClient.close();
      }
      closeControlPlane();
      listeners.close();
      // HTTP/2 clients learn of the shutdown (GOAWAY) rather than seeing their connection drop.
      dataPlane.goAway(Http2Downstream.DRAIN_MILLIS + 500);
      admin.close();
      if (prometheus != null) {
        prometheus.close();
      }
      transport.group().shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5_000);
      adminRenderer.shutdownNow();
      accessLog.close();
      if (accessLogSinks != null) {
        accessLogSinks.close();
      }
      if (spans != null) {
        spans.close();
      }
    } finally {
      signal();
      terminated.complete(null);
    }
  }
}
