package dev.weft.cli.run;

import dev.weft.cli.common.ControlPlaneClient;
import dev.weft.cli.common.HostPort;
import dev.weft.cli.common.KeyValues;
import dev.weft.cli.common.StateDir;
import dev.weft.cli.install.Installer;
import dev.weft.cli.install.MeshSettings;
import dev.weft.controlplane.ControlPlane;
import dev.weft.controlplane.mesh.MeshConfig;
import dev.weft.proxy.Proxy;
import dev.weft.samples.PodinfoServer;
import dev.weft.xds.NodeId;
import dev.weft.xds.WellKnownPorts;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * A local mesh in one JVM for integration tests and benchmarks, set up only through the control
 * plane's API, as {@code weft install} and {@code weft run} would: a control plane on free ports
 * (its state in {@code <dir>/state}; more of its options through {@link Builder}), the manifests a
 * test applies, the ingress gateway ({@link #ingress()}), and sidecars on addresses from {@link
 * WorkloadAllocator} (reserved machine-wide, so meshes of other test runs on this machine never
 * share one), each writing its access log to {@code <dir>/<name>.access.log}. Whatever it starts
 * (control plane, proxies, apps) it closes in reverse order.
 *
 * <p>{@link #grpc} is a ready-made one: the ingress gateway with an HTTP/2 server on port 80 (its
 * listener on a free port) routing to the Service {@code interop.demo} ({@code grpc} port 7070 →
 * target 7071), the app's sidecar (the app itself is the caller's to start on {@link
 * #appAddress()}), and a client workload's sidecar whose outbound listener ({@link
 * #callerOutbound()}) routes by authority.
 */
public final class MeshForTests implements AutoCloseable {
  public static final String GRPC_AUTHORITY = "interop.demo.svc.cluster.local:7070";

  private final List<AutoCloseable> closeables = new ArrayList<>();
  private final Path dir;
  private StateDir state;
  private ControlPlane controlPlane;
  private ControlPlaneClient client;
  private HostPort xds;
  private int ingressPort;
  private InetSocketAddress appAddress;
  private InetSocketAddress callerOutbound;
  private InetSocketAddress appInbound;

  private MeshForTests(Path dir) {
    this.dir = dir;
  }

  /**
   * One workload's addresses: its sidecar's pod IP and its app's address.
   *
   * @param name the workload's name
   * @param namespace its namespace
   * @param podIp the sidecar's address: its inbound listeners, outbound, admin and metrics
   * @param appAddress where the app listens
   * @param ports the workload's named ports ({@code name:port})
   */
  public record Workload(
      String name,
      String namespace,
      String podIp,
      String appAddress,
      List<KeyValues.NamedPort> ports) {
    /** The sidecar's admin address (its {@code /config_dump}, {@code /stats/prometheus}). */
    public HostPort admin() {
      return new HostPort(podIp, WellKnownPorts.PROXY_ADMIN);
    }

    /** The sidecar's Istio metrics address when it serves one ({@link Sidecar#metrics()}). */
    public HostPort metrics() {
      return new HostPort(podIp, WellKnownPorts.PROMETHEUS);
    }

    /** The sidecar's outbound HTTP-proxy listener ({@code http_proxy}, 15001). */
    public InetSocketAddress outbound() {
      return new InetSocketAddress(podIp, WellKnownPorts.OUTBOUND);
    }

    /** {@code port} on the app's address. */
    public InetSocketAddress app(int port) {
      return new InetSocketAddress(appAddress, port);
    }
  }

  /**
   * The ingress gateway as {@link Ingress#start()} started it.
   *
   * @param proxy the gateway's proxy (not yet awaited)
   * @param port the Service's HTTP port 80 on loopback
   * @param httpsPort the Service's HTTPS port 443 on loopback
   * @param admin its admin address
   * @param metrics its Istio metrics address, or null when it serves none
   */
  public record Gateway(Proxy proxy, int port, int httpsPort, HostPort admin, HostPort metrics) {
    /** {@code http://127.0.0.1:<port><path>}. */
    public String url(String path) {
      return "http://127.0.0.1:" + port + path;
    }
  }

  /**
   * Options of the mesh's control plane; {@link #start()} starts it. The control plane listens on
   * free loopback ports and debounces 20 ms unless {@link #controlPlane} says otherwise.
   */
  public static final class Builder {
    private final Path dir;
    private MeshConfig meshConfig;
    private final List<String> meshSettings = new ArrayList<>();
    private Consumer<ControlPlane.Builder> controlPlane = b -> {};

    private Builder(Path dir) {
      this.dir = dir;
    }

    /** The control plane's MeshConfig, given as an object. */
    public Builder meshConfig(MeshConfig meshConfig) {
      this.meshConfig = meshConfig;
      return this;
    }

    /**
     * istioctl's {@code --set meshConfig.*} paths, written to the state's {@code mesh.yaml} as
     * {@code weft install --set} writes them ({@link MeshSettings}) before the control plane
     * starts.
     */
    public Builder meshSettings(String... sets) {
      meshSettings.addAll(List.of(sets));
      return this;
    }

    /**
     * More of the control plane's options (clock, dashboard, scrape interval, debounce, ...), given
     * after the fixture's own, so that they may replace them.
     */
    public Builder controlPlane(Consumer<ControlPlane.Builder> options) {
      this.controlPlane = options;
      return this;
    }

    /** Starts the control plane; closes what it started if that fails. */
    public MeshForTests start() throws Exception {
      MeshForTests m = new MeshForTests(dir);
      try {
        m.startControlPlane(this);
      } catch (Exception | Error e) {
        m.close();
        throw e;
      }
      return m;
    }
  }

  /** The options of a mesh with state under {@code <dir>/state}. */
  public static Builder builder(Path dir) {
    return new Builder(dir);
  }

  /** A control plane with state under {@code dir}: apply manifests, then add workloads. */
  public static MeshForTests start(Path dir) throws Exception {
    return builder(dir).start();
  }

  /** {@link #start(Path)} with this MeshConfig. */
  public static MeshForTests start(Path dir, MeshConfig meshConfig) throws Exception {
    return builder(dir).meshConfig(meshConfig).start();
  }

  /** Starts the gRPC mesh, its state under {@code dir}; returns once every proxy is ready. */
  public static MeshForTests grpc(Path dir) throws Exception {
    MeshForTests m = start(dir);
    try {
      m.startGrpc();
    } catch (Exception | Error e) {
      m.close();
      throw e;
    }
    return m;
  }

  private void startControlPlane(Builder options) throws Exception {
    state = StateDir.of(dir.resolve("state")).create();
    MeshSettings.write(state, options.meshSettings, null);
    ControlPlane.Builder b =
        ControlPlane.builder()
            .stateDir(state.root())
            .xdsAddress(new InetSocketAddress("127.0.0.1", 0))
            .apiAddress(new InetSocketAddress("127.0.0.1", 0))
            .debounce(Duration.ofMillis(20));
    if (options.meshConfig != null) {
      b.meshConfig(options.meshConfig);
    }
    options.controlPlane.accept(b);
    controlPlane = b.build();
    controlPlane.start();
    closeables.add(controlPlane);
    client = ControlPlaneClient.connect(state);
    xds = HostPort.of(controlPlane.xdsAddress());
  }

  /** Applies {@code yaml} (named {@code source} in errors); throws when it has errors. */
  public void apply(String yaml, String source) {
    check(client.apply(yaml, source).errors());
  }

  /**
   * The ingress gateway's options (service account {@code default}, no metrics port, HTTPS on a
   * free port); {@link Ingress#start} applies its manifests and starts it.
   */
  public Ingress ingress() {
    return new Ingress();
  }

  /** The ingress gateway's options; {@link #start} applies its manifests and starts it. */
  public final class Ingress {
    private String serviceAccount = "default";
    private boolean metrics;

    private Ingress() {}

    /** The gateway's service account (its SPIFFE id's {@code sa}). */
    public Ingress serviceAccount(String serviceAccount) {
      this.serviceAccount = serviceAccount;
      return this;
    }

    /** Serves Istio's metrics ({@code /stats/prometheus}) on a free loopback port. */
    public Ingress metrics() {
      this.metrics = true;
      return this;
    }

    /**
     * Applies the ingress gateway's manifests (its Service's ports 80 and 443 on free ports) and
     * starts it; not awaited ({@link #awaitReady}), so that it comes up while the sidecars do.
     */
    public Gateway start() {
      int port = WorkloadAllocator.freePort("127.0.0.1");
      int httpsPort = WorkloadAllocator.freePort("127.0.0.1");
      apply(Installer.ingressManifests(port, httpsPort), "install");
      HostPort admin = new HostPort("127.0.0.1", WorkloadAllocator.freePort("127.0.0.1"));
      HostPort prometheus =
          metrics ? new HostPort("127.0.0.1", WorkloadAllocator.freePort("127.0.0.1")) : null;
      Proxy p = proxy(gatewaySpec(serviceAccount), admin, prometheus);
      if (ingressPort == 0) {
        ingressPort = port;
      }
      return new Gateway(p, port, httpsPort, admin, prometheus);
    }
  }

  /**
   * The ingress gateway's proxy as {@code weft install} describes it (router {@code
   * istio-ingressgateway.istio-system} on loopback), with this service account.
   */
  public static ProxySpec gatewaySpec(String serviceAccount) {
    return new ProxySpec(
        NodeId.ROUTER,
        Installer.GATEWAY,
        Installer.GATEWAY_NAMESPACE,
        KeyValues.labels(List.of(Installer.GATEWAY_LABELS)),
        "127.0.0.1",
        "127.0.0.1",
        List.of(),
        serviceAccount);
  }

  /**
   * {@link #ingress()} with its defaults: the gateway's port 80 is {@link #ingressPort()}; not
   * awaited.
   */
  public Proxy gateway() {
    return ingress().start().proxy();
  }

  /**
   * Allocates addresses for the workload {@code demo/<name>} with these ports ({@code name:port});
   * start its app on {@link Workload#app}, then its {@link #sidecar}.
   */
  public Workload allocate(String name, String... ports) {
    return allocateIn("demo", name, ports);
  }

  /** {@link #allocate} in this namespace. */
  public Workload allocateIn(String namespace, String name, String... ports) {
    List<KeyValues.NamedPort> named = KeyValues.ports(List.of(ports));
    WorkloadAllocator.Addresses a =
        WorkloadAllocator.allocate(state, namespace, name, named, Map.of());
    return new Workload(name, namespace, a.podIp(), a.appAddress(), named);
  }

  /**
   * Starts a podinfo app of this version on {@code w}'s app address at its first port, with one IO
   * thread; closed with the mesh.
   */
  public PodinfoServer podinfo(Workload w, String version) throws IOException {
    PodinfoServer app =
        PodinfoServer.builder()
            .address(w.appAddress())
            .port(w.ports().getFirst().port())
            .version(version)
            .ioThreads(1)
            .start();
    closeables.add(app);
    return app;
  }

  /** Starts the sidecar of {@code w} with these labels ({@code k=v,...}); returns once ready. */
  public Proxy sidecar(Workload w, String labels) {
    Proxy p = proxy(sidecarSpec(w, labels), w.admin(), null);
    awaitReady(p);
    return p;
  }

  /**
   * {@link #sidecar(Workload, String)} serving Istio's metrics on {@link Workload#metrics()} (which
   * the control plane then lists among the workload's ports); returns once ready.
   */
  public Proxy sidecarWithMetrics(Workload w, String labels) {
    Proxy p = proxy(sidecarSpec(w, labels), w.admin(), w.metrics());
    awaitReady(p);
    return p;
  }

  /** The sidecar of {@code w} as {@code weft run} describes it, service account {@code default}. */
  public static ProxySpec sidecarSpec(Workload w, String labels) {
    return new ProxySpec(
        NodeId.SIDECAR,
        w.name(),
        w.namespace(),
        KeyValues.labels(List.of(labels)),
        w.podIp(),
        w.appAddress(),
        w.ports(),
        "default");
  }

  /** A workload without ports of its own, {@code app=<name>}: only its sidecar, ready. */
  public Workload client(String name) {
    Workload w = allocate(name);
    sidecar(w, "app=" + name);
    return w;
  }

  /**
   * Starts the proxy {@code spec} with a workload token from the mesh's API, its admin and (unless
   * null) metrics on these addresses; not awaited. Closed with the mesh.
   */
  public Proxy proxy(ProxySpec spec, HostPort admin, HostPort prometheus) {
    Proxy p =
        ProxyCommand.start(
            state, spec, xds, admin, prometheus, dir.resolve(spec.name() + ".access.log"));
    closeables.add(p);
    return p;
  }

  /** Closes {@code c} with the mesh, before what the mesh started until now; returns it. */
  public <T extends AutoCloseable> T closeWithMesh(T c) {
    closeables.add(c);
    return c;
  }

  /** The control plane. */
  public ControlPlane controlPlane() {
    return controlPlane;
  }

  /** The control plane's xDS and CA address. */
  public HostPort xds() {
    return xds;
  }

  /** The mesh's state directory (its API token, workload records). */
  public StateDir state() {
    return state;
  }

  /** A client of the control plane's API. */
  public ControlPlaneClient api() {
    return client;
  }

  private void startGrpc() {
    Proxy gateway = gateway();
    apply(
        """
        apiVersion: v1
        kind: Service
        metadata: {name: interop, namespace: demo}
        spec:
          selector: {app: interop}
          ports:
          - {name: grpc, port: 7070, targetPort: 7071}
        ---
        apiVersion: networking.istio.io/v1
        kind: Gateway
        metadata: {name: grpc-gw, namespace: demo}
        spec:
          selector: {istio: ingressgateway}
          servers:
          - port: {number: 80, name: http2, protocol: HTTP2}
            hosts: ["*"]
        ---
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: interop, namespace: demo}
        spec:
          hosts: ["*"]
          gateways: [grpc-gw]
          http:
          - route: [{destination: {host: interop, port: {number: 7070}}}]
        """,
        "grpc.yaml");
    Workload app = allocate("interop-v1", "grpc:7071");
    sidecar(app, "app=interop,version=v1");
    Workload caller = client("caller");
    awaitReady(gateway);
    appAddress = app.app(7071);
    callerOutbound = caller.outbound();
    appInbound = new InetSocketAddress(app.podIp(), 7071);
  }

  private static void check(List<?> errors) {
    if (!errors.isEmpty()) {
      throw new IllegalStateException("apply failed: " + errors);
    }
  }

  /** Waits until {@code p} holds its certificate and first configuration. */
  public static void awaitReady(Proxy p) {
    if (!p.awaitReady(Duration.ofSeconds(30))) {
      throw new IllegalStateException("proxy not ready: " + p.failure());
    }
  }

  /** The port of the gateway's HTTP/2 server (port 80 of the Gateway). */
  public int ingressPort() {
    return ingressPort;
  }

  /** Where the app is to listen (its sidecar's inbound cluster points there). */
  public InetSocketAddress appAddress() {
    return appAddress;
  }

  /** The app sidecar's inbound listener for the app's port. */
  public InetSocketAddress appInbound() {
    return appInbound;
  }

  /** The app sidecar's admin address (its {@code /stats/prometheus}). */
  public HostPort appAdmin() {
    return new HostPort(appInbound.getHostString(), WellKnownPorts.PROXY_ADMIN);
  }

  /** The client sidecar's admin address. */
  public HostPort callerAdmin() {
    return new HostPort(callerOutbound.getHostString(), WellKnownPorts.PROXY_ADMIN);
  }

  /** The client sidecar's outbound listener ({@code http_proxy}, 15001). */
  public InetSocketAddress callerOutbound() {
    return callerOutbound;
  }

  @Override
  public void close() throws Exception {
    for (int i = closeables.size() - 1; i >= 0; i--) {
      closeables.get(i).close();
    }
  }
}
