package dev.weft.controlplane;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.weft.analysis.Message;
import dev.weft.controlplane.analysis.MeshAnalysis;
import dev.weft.controlplane.api.ApiServer;
import dev.weft.controlplane.ca.CaException;
import dev.weft.controlplane.ca.CaService;
import dev.weft.controlplane.ca.CallerAuthenticator;
import dev.weft.controlplane.ca.CertificateAuthority;
import dev.weft.controlplane.ca.ServingKeyManager;
import dev.weft.controlplane.ca.WorkloadTokens;
import dev.weft.controlplane.dashboard.Dashboard;
import dev.weft.controlplane.push.PushController;
import dev.weft.controlplane.registry.WorkloadRegistry;
import dev.weft.controlplane.store.ConfigStore;
import dev.weft.controlplane.xds.AdsService;
import dev.weft.controlplane.xds.ConnectionAdmission;
import dev.weft.controlplane.xds.DeltaAdsService;
import dev.weft.controlplane.xds.GenerationPool;
import dev.weft.controlplane.xds.ProxyStatus;
import dev.weft.controlplane.xds.ProxyTracker;
import dev.weft.controlplane.xds.ProxyTrackers;
import dev.weft.controlplane.xds.ProxylessAdsService;
import dev.weft.controlplane.xds.SyncReport;
import dev.weft.controlplane.xds.XdsServer;
import dev.weft.xds.WellKnownPorts;
import dev.weft.xds.identity.SecretNames;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Weft's control plane in local mode: the config store in a state directory, the service registry,
 * debounced push contexts, the CA, the secure xDS server (gRPC over TLS: ADS and Istio's
 * certificate service, every call authenticated by a workload token), the HTTP API and the
 * dashboard (loopback, Kiali's port 20001; {@link Dashboard}), all in one process.
 *
 * <pre>{@code
 * try (ControlPlane cp = ControlPlane.builder().stateDir(dir).build()) {
 *   cp.start();   // writes <stateDir>/token and ca/ (if absent) and <stateDir>/controlplane.json
 *   ...
 * }
 * }</pre>
 *
 * <p>One serializing executor owns the mutable state of the push machinery and of every xDS stream;
 * store writes are serialised by the store's lock.
 */
public final class ControlPlane implements AutoCloseable {
  private static final System.Logger logger = System.getLogger(ControlPlane.class.getName());

  /** The key of the proxyless xDS address in {@code controlplane.json}. */
  public static final String GRPC_XDS_INFO = "grpcXds";

  /** The token file's name in the state directory. */
  public static final String TOKEN_FILE = "token";

  /** The file, in the state directory, that tells clients where the control plane listens. */
  public static final String INFO_FILE = "controlplane.json";

  /** The workload registry's file, in the state directory (survives a restart). */
  public static final String REGISTRY_FILE = "registry/workloads.json";

  /** The CA directory in the state directory (Istio's plug-in layout, plus {@code token-key}). */
  public static final String CA_DIR = "ca";

  /** The DNS names of the control plane's serving certificate; proxies verify the first. */
  public static final List<String> SERVING_NAMES =
      List.of(SecretNames.CONTROL_PLANE_SAN, SecretNames.CONTROL_PLANE_SAN + ".cluster.local");

  private final Path stateDir;
  private final dev.weft.controlplane.mesh.MeshConfig meshConfig;
  private final InetSocketAddress requestedXds;
  private final InetSocketAddress requestedGrpcXds;
  private final InetSocketAddress requestedApi;
  private final Duration debounce;
  private final int pushThrottle;
  private final int generators;
  private final Duration workloadGracePeriod;
  private final Clock clock;
  private final Duration certificateTtl;
  private final Duration tokenTtl;
  private final InetSocketAddress requestedDashboard;
  private final Duration scrapeInterval;
  private final Duration dashboardWindow;
  private final java.net.URI prometheusUrl;
  private final ConnectionAdmission admission;

  private ScheduledExecutorService executor;
  private Dashboard dashboard;
  private PushController pushController;
  private CertificateAuthority ca;
  private WorkloadTokens tokens;
  private XdsServer xds;
  private XdsServer grpcXds;
  private ApiServer api;
  private ConfigStore store;
  private MeshAnalysis analysis;
  private WorkloadRegistry registry;
  private AdsService ads;
  private DeltaAdsService deltaAds;
  private GenerationPool generation;

  /** Both ADS services' proxies (state of the world and delta). */
  private ProxyTracker proxyTracker;

  private boolean wroteInfo;
  private boolean closed;

  private ControlPlane(Builder b) {
    this.stateDir = b.stateDir;
    this.requestedXds = b.xdsAddress;
    this.requestedGrpcXds = b.grpcXdsAddress;
    this.requestedApi = b.apiAddress;
    this.debounce = b.debounce;
    this.pushThrottle = b.pushThrottle;
    this.generators = b.generators;
    this.workloadGracePeriod = b.workloadGracePeriod;
    this.clock = b.clock;
    this.certificateTtl = b.certificateTtl;
    this.tokenTtl = b.tokenTtl;
    this.requestedDashboard = b.dashboardAddress;
    this.scrapeInterval = b.scrapeInterval;
    this.dashboardWindow = b.dashboardWindow;
    this.prometheusUrl = b.prometheusUrl;
    this.meshConfig = b.meshConfig;
    this.admission = b.admission != null ? b.admission : ConnectionAdmission.defaults();
  }

  /**
   * The state directory's mesh config ({@link dev.weft.controlplane.mesh.MeshConfig#load}); each
   * field of it Weft does not read is logged as ignored, as {@code weft install} says of {@code
   * --set}, so that a hand-edited {@code mesh.yaml} loses nothing silently either.
   */
  private static dev.weft.controlplane.mesh.MeshConfig loadMeshConfig(Path stateDir)
      throws IOException {
    dev.weft.controlplane.mesh.MeshConfig mesh =
        dev.weft.controlplane.mesh.MeshConfig.load(stateDir);
    Path file = stateDir.resolve(dev.weft.controlplane.mesh.MeshConfig.FILE);
    if (Files.exists(file)) {
      for (String field :
          dev.weft.controlplane.mesh.MeshConfig.unreadFields(Files.readString(file))) {
        logger.log(
            Level.WARNING,
            file + ": meshConfig." + field + " is not supported by Weft and is ignored");
      }
    }
    return mesh;
  }

  /**
   * A builder with the defaults: xDS on 127.0.0.1:15012 (TLS), API on 127.0.0.1:15080, the
   * dashboard on 127.0.0.1:20001, 100 ms.
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Loads the store and the CA, binds the secure xDS server and the API, and writes {@code token}
   * and {@code ca/} (only if absent) and {@code controlplane.json} in the state directory.
   *
   * @throws IOException when the state directory or the CA's material cannot be used (the message
   *     names the file) or an address is in use (the message names {@code host:port}); nothing is
   *     left running
   */
  public synchronized void start() throws IOException {
    if (executor != null) {
      throw new IllegalStateException("already started");
    }
    Files.createDirectories(stateDir);
    String token = ensureToken(stateDir.resolve(TOKEN_FILE));
    ScheduledThreadPoolExecutor exec =
        new ScheduledThreadPoolExecutor(
            1,
            r -> {
              Thread t = new Thread(r, "weft-controlplane");
              t.setDaemon(true);
              return t;
            });
    exec.setRemoveOnCancelPolicy(true);
    executor = exec;
    try {
      store = ConfigStore.open(stateDir.resolve("store"), clock);
      // Before serving: the workloads of the previous control plane stay endpoints until their
      // proxies reconnect (or their grace period ends), whoever reconnects first.
      registry = WorkloadRegistry.open(stateDir.resolve(REGISTRY_FILE), clock, workloadGracePeriod);
      registry.coalesceWrites(task -> exec.schedule(task, 1, TimeUnit.SECONDS));
      scheduleExpiry(registry.nextExpiry());
      PushController push =
          new PushController(
              store,
              registry,
              clock,
              debounce,
              (task, delay) -> executor.schedule(task, delay.toNanos(), TimeUnit.NANOSECONDS),
              meshConfig != null ? meshConfig : loadMeshConfig(stateDir));
      generation =
          GenerationPool.of(
              generators >= 0 ? generators : GenerationPool.defaultThreads(), "weft-xds-generate");
      ads = new AdsService(executor, push, registry, pushThrottle, generation);
      deltaAds = new DeltaAdsService(executor, push, registry, pushThrottle, generation);
      proxyTracker = ProxyTrackers.combine(ads, deltaAds);
      pushController = push;
      // A connect storm's handshakes: some still running, another finished within the last second.
      push.registrationsUnderWay(() -> admission.handshakesUnderWay(Duration.ofSeconds(1)));
      Path caDir = stateDir.resolve(CA_DIR);
      try {
        ca =
            CertificateAuthority.loadOrCreate(
                caDir,
                CertificateAuthority.Options.defaults()
                    .withClock(clock)
                    .withDefaultTtl(certificateTtl));
      } catch (CaException e) {
        throw new IOException("cannot load the CA from " + caDir + ": " + e.getMessage(), e);
      }
      tokens = WorkloadTokens.open(caDir, clock);
      xds =
          XdsServer.startSecure(
              requestedXds,
              new ServingKeyManager(ca, SERVING_NAMES, certificateTtl, clock),
              new CallerAuthenticator(tokens),
              List.of(ProxyTrackers.adsDefinition(ads, deltaAds), new CaService(ca).definition()),
              admission);
      if (requestedGrpcXds != null) {
        grpcXds =
            XdsServer.startLoopbackPlaintext(
                requestedGrpcXds, new ProxylessAdsService(executor, push).bindService());
      }
      WorkloadRegistry workloads = registry;
      analysis = new MeshAnalysis(store, workloads::workloads);
      api =
          ApiServer.start(
              requestedApi,
              token,
              store,
              proxyTracker,
              analysis,
              (ns, sa, name) -> {
                WorkloadTokens.Issued t = tokens.issue(ns, sa, name, tokenTtl);
                return new ApiServer.WorkloadToken(
                    t.token(),
                    t.identity().expiresAt(),
                    t.identity().spiffeId(ca.trustDomain()).uri(),
                    ca.rootPem());
              });
      api.meshConfig(push.meshConfig());
      startDashboard();
      writeInfo();
      logger.log(
          Level.INFO,
          "control plane started: xDS and CA (TLS) "
              + hostPort(xds.address())
              + (ca.selfSigned() ? ", self-signed root" : ", plug-in CA certificates")
              + ", API "
              + hostPort(api.address())
              + (dashboard == null ? "" : ", dashboard " + dashboard.url()));
    } catch (IOException | RuntimeException e) {
      close();
      closed = false;
      executor = null;
      throw e;
    }
  }

  /**
   * Starts the dashboard on its address; when that is taken (another local mesh has Kiali's port),
   * on a free loopback port instead, since the dashboard is not worth failing the control plane
   * for: {@code controlplane.json} records where it is.
   */
  private void startDashboard() throws IOException {
    if (requestedDashboard == null) {
      return;
    }
    PushController push = pushController;
    ProxyTracker streams = proxyTracker;
    MeshAnalysis meshAnalysis = analysis;
    Dashboard.Builder b =
        Dashboard.builder(
                new Dashboard.Sources() {
                  @Override
                  public dev.weft.controlplane.push.PushContext context() {
                    return push.current();
                  }

                  @Override
                  public List<ProxyStatus> proxies() {
                    return streams.proxies();
                  }

                  @Override
                  public List<Message> analysis() {
                    return meshAnalysis.current();
                  }
                })
            .scrapeInterval(scrapeInterval)
            .window(dashboardWindow)
            .prometheus(prometheusUrl);
    try {
      dashboard = b.address(requestedDashboard).start();
    } catch (IOException e) {
      if (requestedDashboard.getPort() == 0) {
        throw e;
      }
      logger.log(Level.WARNING, e.getMessage() + "; serving the dashboard on a free port instead");
      dashboard = b.address(new InetSocketAddress(requestedDashboard.getAddress(), 0)).start();
    }
  }

  /** The dashboard's bound address, or empty when it is off. */
  public java.util.Optional<InetSocketAddress> dashboardAddress() {
    return java.util.Optional.ofNullable(dashboard).map(Dashboard::address);
  }

  /** Removes restored workloads whose grace period ended, on the executor, when it ends. */
  private void scheduleExpiry(java.util.Optional<java.time.Instant> at) {
    at.ifPresent(
        when -> {
          long delay = Math.max(0, Duration.between(clock.instant(), when).toNanos());
          executor.schedule(
              () -> scheduleExpiry(registry.expire()), delay + 1_000_000, TimeUnit.NANOSECONDS);
        });
  }

  /**
   * A workload token for {@code namespace/name} with {@code serviceAccount}, as {@code POST
   * /api/v1/workload-tokens} issues (available after {@link #start()}).
   */
  public WorkloadTokens.Issued issueWorkloadToken(
      String namespace, String serviceAccount, String name, Duration ttl) {
    if (tokens == null) {
      throw new IllegalStateException("not started");
    }
    return tokens.issue(namespace, serviceAccount, name, ttl);
  }

  /** The CA (available after {@link #start()}). */
  public CertificateAuthority ca() {
    if (ca == null) {
      throw new IllegalStateException("not started");
    }
    return ca;
  }

  /** The proxyless (loopback, plaintext) xDS server's bound address, if it serves. */
  public java.util.Optional<InetSocketAddress> grpcXdsAddress() {
    return java.util.Optional.ofNullable(grpcXds).map(XdsServer::address);
  }

  /** The secure xDS server's bound address (the actual port when 0 was asked for). */
  public InetSocketAddress xdsAddress() {
    return xds == null ? requestedXds : xds.address();
  }

  /**
   * The secure xDS port's failed TLS handshakes so far, by the failure's class ({@link
   * XdsServer#handshakeFailures}); empty before start.
   */
  public Map<String, Long> xdsHandshakeFailures() {
    return xds == null ? Map.of() : xds.handshakeFailures();
  }

  /** The API's bound address (the actual port when 0 was asked for). */
  public InetSocketAddress apiAddress() {
    return api == null ? requestedApi : api.address();
  }

  /** The state directory. */
  public Path stateDir() {
    return stateDir;
  }

  /** The latest push context (what every proxy is generated from now); for tests and tools. */
  public dev.weft.controlplane.push.PushContext pushContext() {
    return pushController.current();
  }

  /**
   * The delta xDS streams' flow-control state, a line per stream, for diagnosing a sync that does
   * not finish (see {@code DeltaAdsService#flowState}).
   */
  public String xdsFlowState() {
    return deltaAds == null ? "(not started)" : deltaAds.flowState();
  }

  /** The config store (available after {@link #start()}). */
  public ConfigStore store() {
    return store;
  }

  /** The sync state of connected (and recently disconnected) proxies, as the API lists it. */
  public List<ProxyStatus> proxies() {
    return proxyTracker == null ? List.of() : proxyTracker.proxies();
  }

  /**
   * Waits until config {@code generation} reaches every connected proxy it changed (ACK), one
   * rejects it (NACK) or {@code timeout} passes, as {@code GET /api/v1/wait} does.
   */
  public SyncReport awaitSync(long generation, Duration timeout) throws InterruptedException {
    if (proxyTracker == null) {
      throw new IllegalStateException("not started");
    }
    return proxyTracker.awaitSync(generation, timeout);
  }

  /**
   * Stops both servers and the executor, and removes the {@code controlplane.json} this instance
   * wrote. Idempotent.
   */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    // First, so that the streams ending as we stop are not taken for proxies leaving. One that
    // failed to start leaves the file alone: it may be the running control plane's.
    if (registry != null) {
      if (wroteInfo) {
        registry.close();
      } else {
        registry.stopPersisting();
      }
    }
    if (dashboard != null) {
      dashboard.close();
    }
    if (api != null) {
      api.close();
    }
    if (xds != null) {
      xds.close();
    }
    if (grpcXds != null) {
      grpcXds.close();
    }
    if (executor != null) {
      executor.shutdownNow();
    }
    if (ads != null) {
      ads.close();
    }
    if (generation != null) {
      generation.close();
    }
    if (deltaAds != null) {
      deltaAds.close();
    }
    if (store != null) {
      store.close();
    }
    // Only our own: a second control plane that failed to bind must not hide the running one.
    if (wroteInfo) {
      try {
        Files.deleteIfExists(stateDir.resolve(INFO_FILE));
      } catch (IOException e) {
        logger.log(Level.DEBUG, "cannot remove " + INFO_FILE, e);
      }
    }
  }

  private void writeInfo() throws IOException {
    ObjectNode info = new ObjectMapper().createObjectNode();
    info.put("xds", hostPort(xds.address()));
    if (grpcXds != null) {
      info.put(GRPC_XDS_INFO, hostPort(grpcXds.address()));
    }
    info.put("api", hostPort(api.address()));
    if (dashboard != null) {
      info.put("dashboard", hostPort(dashboard.address()));
    }
    info.put("pid", ProcessHandle.current().pid());
    Path file = stateDir.resolve(INFO_FILE);
    Path tmp = stateDir.resolve(INFO_FILE + ".tmp");
    Files.writeString(
        tmp, new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(info) + "\n");
    try {
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
    }
    wroteInfo = true;
  }

  private static String hostPort(InetSocketAddress a) {
    return a.getHostString() + ":" + a.getPort();
  }

  /** Reads the API token, creating it (32 random bytes, hex, mode 0600) if absent. */
  static String ensureToken(Path file) throws IOException {
    if (!Files.exists(file)) {
      byte[] bytes = new byte[32];
      new SecureRandom().nextBytes(bytes);
      String token = HexFormat.of().formatHex(bytes);
      try {
        try {
          Files.createFile(
              file,
              PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        } catch (UnsupportedOperationException e) {
          Files.createFile(file);
        }
        Files.writeString(file, token + "\n", StandardCharsets.UTF_8);
        return token;
      } catch (FileAlreadyExistsException e) {
        // created concurrently: read it below
      }
    }
    String token = Files.readString(file, StandardCharsets.UTF_8).trim();
    if (token.isEmpty()) {
      throw new IOException("the API token file " + file + " is empty");
    }
    return token;
  }

  /** Options of a {@link ControlPlane}. */
  public static final class Builder {
    private Path stateDir;
    private InetSocketAddress grpcXdsAddress = new InetSocketAddress("127.0.0.1", 0);
    private InetSocketAddress xdsAddress =
        new InetSocketAddress("127.0.0.1", WellKnownPorts.XDS_TLS);
    private InetSocketAddress apiAddress = new InetSocketAddress("127.0.0.1", WellKnownPorts.API);
    private Duration debounce = Duration.ofMillis(100);
    private int pushThrottle; // 0: the services' default
    private int generators = -1; // -1: the system property's, else one per core
    private Duration workloadGracePeriod = WorkloadRegistry.DEFAULT_GRACE_PERIOD;
    private Clock clock = Clock.systemUTC();
    private Duration certificateTtl = CertificateAuthority.DEFAULT_TTL;
    private Duration tokenTtl = WorkloadTokens.DEFAULT_TTL;
    private InetSocketAddress dashboardAddress =
        new InetSocketAddress("127.0.0.1", Dashboard.DEFAULT_PORT);
    private Duration scrapeInterval = Duration.ofSeconds(5);
    private Duration dashboardWindow = Duration.ofSeconds(60);
    private java.net.URI prometheusUrl;

    private Builder() {}

    /**
     * Where to serve the dashboard: a loopback address, port 0 for any free port, null for no
     * dashboard. Default 127.0.0.1:20001 (Kiali's port; a free port when that is taken).
     */
    public Builder dashboardAddress(InetSocketAddress address) {
      if (address != null
          && (address.getAddress() == null || !address.getAddress().isLoopbackAddress())) {
        throw new IllegalArgumentException(
            "the dashboard has no authentication and binds only loopback addresses, not "
                + address.getHostString());
      }
      this.dashboardAddress = address;
      return this;
    }

    /** How often the dashboard scrapes the proxies' metrics. Default 5 s. */
    public Builder scrapeInterval(Duration interval) {
      if (interval.isNegative() || interval.isZero()) {
        throw new IllegalArgumentException("the scrape interval must be positive");
      }
      this.scrapeInterval = interval;
      return this;
    }

    /** The window the dashboard's rates are over. Default 60 s (Kiali's "last 1m"). */
    public Builder dashboardWindow(Duration window) {
      if (window.isNegative() || window.isZero()) {
        throw new IllegalArgumentException("the dashboard window must be positive");
      }
      this.dashboardWindow = window;
      return this;
    }

    /**
     * A Prometheus the dashboard queries instead of scraping the proxies itself (Kiali's {@code
     * external_services.prometheus.url}); null (the default) scrapes.
     */
    public Builder prometheusUrl(java.net.URI url) {
      this.prometheusUrl = url;
      return this;
    }

    private dev.weft.controlplane.mesh.MeshConfig meshConfig;
    private ConnectionAdmission admission;

    /**
     * How new xDS connections are admitted (rate and concurrent TLS handshakes; {@link
     * ConnectionAdmission}). Default {@link ConnectionAdmission#defaults()}.
     */
    public Builder connectionAdmission(ConnectionAdmission admission) {
      this.admission = Objects.requireNonNull(admission, "admission");
      return this;
    }

    /**
     * The mesh config; by default the state directory's {@code mesh.yaml} (Istio's defaults when it
     * is absent).
     */
    public Builder meshConfig(dev.weft.controlplane.mesh.MeshConfig mesh) {
      this.meshConfig = mesh;
      return this;
    }

    /** The state directory (required): token, controlplane.json, store/, registry/. */
    public Builder stateDir(Path stateDir) {
      this.stateDir = Objects.requireNonNull(stateDir, "stateDir");
      return this;
    }

    /**
     * Where to serve xDS and the CA (TLS, token-authenticated); port 0 picks a free port. Default
     * 127.0.0.1:15012.
     */
    public Builder xdsAddress(InetSocketAddress address) {
      this.xdsAddress = Objects.requireNonNull(address, "address");
      return this;
    }

    /**
     * Where to serve xDS to proxyless gRPC clients (plaintext, loopback only, no registration, no
     * secrets); port 0 picks a free port; null turns it off. Default 127.0.0.1:0.
     *
     * @throws IllegalArgumentException when {@code address} is not a loopback address
     */
    public Builder grpcXdsAddress(InetSocketAddress address) {
      if (address != null
          && (address.getAddress() == null || !address.getAddress().isLoopbackAddress())) {
        throw new IllegalArgumentException(
            "the proxyless xDS address must be on loopback, not " + address.getHostString());
      }
      this.grpcXdsAddress = address;
      return this;
    }

    /** Where to serve the API; port 0 picks a free port. Default 127.0.0.1:15080. */
    public Builder apiAddress(InetSocketAddress address) {
      this.apiAddress = Objects.requireNonNull(address, "address");
      return this;
    }

    /**
     * How many xDS streams may have responses their proxies have not read yet, as Istio's {@code
     * PILOT_PUSH_THROTTLE} (default 40); the others wait for a slot. Tests set it low to make
     * streams wait.
     */
    public Builder pushThrottle(int maxBusy) {
      if (maxBusy < 1) {
        throw new IllegalArgumentException("pushThrottle must be at least 1");
      }
      this.pushThrottle = maxBusy;
      return this;
    }

    /**
     * How many threads generate xDS streams' resources ahead of their responses, beside the
     * executor that answers them; 0 for none (the executor generates everything). Default: the
     * system property {@code weft.xds.generators}, else one per core.
     */
    public Builder generators(int threads) {
      if (threads < 0) {
        throw new IllegalArgumentException("generators must not be negative");
      }
      this.generators = threads;
      return this;
    }

    /** The quiet period before a config change is pushed. Default 100 ms. */
    public Builder debounce(Duration debounce) {
      if (debounce.isNegative()) {
        throw new IllegalArgumentException("debounce must not be negative");
      }
      this.debounce = debounce;
      return this;
    }

    /**
     * How long the workloads of a previous control plane (its {@code registry/workloads.json}) stay
     * endpoints after the start without their proxy reconnecting. Default 40 s, which outlasts the
     * proxies' reconnect backoff.
     */
    public Builder workloadGracePeriod(Duration gracePeriod) {
      if (gracePeriod.isNegative()) {
        throw new IllegalArgumentException("the workload grace period must not be negative");
      }
      this.workloadGracePeriod = gracePeriod;
      return this;
    }

    /**
     * The default lifetime of workload certificates (Istio's {@code DEFAULT_WORKLOAD_CERT_TTL}),
     * also the control plane's serving certificate's. Default 24 h.
     */
    public Builder certificateTtl(Duration ttl) {
      if (ttl.isNegative() || ttl.isZero()) {
        throw new IllegalArgumentException("certificate TTL must be positive");
      }
      this.certificateTtl = ttl;
      return this;
    }

    /** The lifetime of the workload tokens the API issues. Default 24 h. */
    public Builder tokenTtl(Duration ttl) {
      if (ttl.isNegative() || ttl.isZero()) {
        throw new IllegalArgumentException("token TTL must be positive");
      }
      this.tokenTtl = ttl;
      return this;
    }

    /**
     * The clock for creation timestamps, the debounce, certificates and tokens. Default the system
     * clock (UTC).
     */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /** The control plane (not started). */
    public ControlPlane build() {
      if (stateDir == null) {
        throw new IllegalStateException("stateDir is required");
      }
      return new ControlPlane(this);
    }
  }
}
