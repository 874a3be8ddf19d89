package dev.weft.cli.run;

import dev.weft.cli.common.ControlPlaneClient;
import dev.weft.cli.common.HostPort;
import dev.weft.cli.common.KeyValues;
import dev.weft.cli.common.StateDir;
import dev.weft.cli.install.Installer;
import dev.weft.controlplane.ControlPlane;
import dev.weft.controlplane.mesh.MeshConfig;
import dev.weft.proxy.Proxy;
import dev.weft.xds.NodeId;
import dev.weft.xds.WellKnownPorts;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A local mesh in one JVM for integration tests and benchmarks, set up only through the control
 * plane's API, as {@code weft install} and {@code weft run} would: a control plane on free ports
 * (its state under the given directory), the manifests a test applies, and sidecars on addresses
 * from {@link WorkloadAllocator} (reserved machine-wide, so meshes of other test runs on this
 * machine never share one), each writing its access log to {@code <dir>/<name>.access.log}.
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
   * @param name the workload's name (namespace {@code demo})
   * @param podIp the sidecar's address: its inbound listeners, outbound, admin and metrics
   * @param appAddress where the app listens
   * @param ports the workload's named ports ({@code name:port})
   */
  public record Workload(
      String name, String podIp, String appAddress, List<KeyValues.NamedPort> ports) {
    /** The sidecar's admin address (its {@code /stats/prometheus}). */
    public HostPort admin() {
      return new HostPort(podIp, WellKnownPorts.PROXY_ADMIN);
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

  /** A control plane with state under {@code dir}: apply manifests, then add workloads. */
  public static MeshForTests start(Path dir) throws Exception {
    return start(dir, null);
  }

  /** {@link #start(Path)} with this MeshConfig. */
  public static MeshForTests start(Path dir, MeshConfig meshConfig) throws Exception {
    MeshForTests m = new MeshForTests(dir);
    try {
      m.startControlPlane(meshConfig);
    } catch (Exception | Error e) {
      m.close();
      throw e;
    }
    return m;
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

  private void startControlPlane(MeshConfig meshConfig) throws Exception {
    state = StateDir.of(dir.resolve("state")).create();
    ControlPlane.Builder b =
        ControlPlane.builder()
            .stateDir(state.root())
            .xdsAddress(new InetSocketAddress("127.0.0.1", 0))
            .apiAddress(new InetSocketAddress("127.0.0.1", 0))
            .debounce(Duration.ofMillis(20));
    if (meshConfig != null) {
      b.meshConfig(meshConfig);
    }
    ControlPlane cp = b.build();
    cp.start();
    closeables.add(cp);
    client = ControlPlaneClient.connect(state);
    xds = HostPort.of(cp.xdsAddress());
  }

  /** Applies {@code yaml} (named {@code source} in errors); throws when it has errors. */
  public void apply(String yaml, String source) {
    check(client.apply(yaml, source).errors());
  }

  /**
   * Applies the ingress gateway's manifests (its Service's port 80 on a free port, {@link
   * #ingressPort()}) and starts it; not awaited ({@link #awaitReady}), so that it comes up while
   * the sidecars do.
   */
  public Proxy gateway() {
    ingressPort = WorkloadAllocator.freePort("127.0.0.1");
    apply(Installer.ingressManifests(ingressPort), "install");
    return start(
        new ProxySpec(
            NodeId.ROUTER,
            "istio-ingressgateway",
            "istio-system",
            KeyValues.labels(List.of(Installer.GATEWAY_LABELS)),
            "127.0.0.1",
            "127.0.0.1",
            List.of(),
            "default"),
        new HostPort("127.0.0.1", WorkloadAllocator.freePort("127.0.0.1")));
  }

  /**
   * Allocates addresses for the workload {@code demo/<name>} with these ports ({@code name:port});
   * start its app on {@link Workload#app}, then its {@link #sidecar}.
   */
  public Workload allocate(String name, String... ports) {
    List<KeyValues.NamedPort> named = KeyValues.ports(List.of(ports));
    WorkloadAllocator.Addresses a =
        WorkloadAllocator.allocate(state, "demo", name, named, Map.of());
    return new Workload(name, a.podIp(), a.appAddress(), named);
  }

  /** Starts the sidecar of {@code w} with these labels ({@code k=v,...}); returns once ready. */
  public Proxy sidecar(Workload w, String labels) {
    Proxy p =
        start(
            new ProxySpec(
                NodeId.SIDECAR,
                w.name(),
                "demo",
                KeyValues.labels(List.of(labels)),
                w.podIp(),
                w.appAddress(),
                w.ports(),
                "default"),
            w.admin());
    awaitReady(p);
    return p;
  }

  /** A workload without ports of its own, {@code app=<name>}: only its sidecar, ready. */
  public Workload client(String name) {
    Workload w = allocate(name);
    sidecar(w, "app=" + name);
    return w;
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

  private Proxy start(ProxySpec spec, HostPort admin) {
    Proxy p =
        ProxyCommand.start(state, spec, xds, admin, null, dir.resolve(spec.name() + ".access.log"));
    closeables.add(p);
    return p;
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
