package dev.weft.cli.run;

import dev.weft.cli.common.ControlPlaneClient;
import dev.weft.cli.common.HostPort;
import dev.weft.cli.common.KeyValues;
import dev.weft.cli.common.StateDir;
import dev.weft.cli.install.Installer;
import dev.weft.controlplane.ControlPlane;
import dev.weft.proxy.Proxy;
import dev.weft.xds.NodeId;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A local mesh in one JVM for gRPC tests and benchmarks, set up through the control plane's API:
 * the ingress gateway with an HTTP/2 server on port 80 (its listener on a free port) routing to the
 * Service {@code interop.demo} ({@code grpc} port 7070 → target 7071), the app's sidecar (the app
 * itself is the caller's to start on {@link #appAddress()}), and a client workload's sidecar whose
 * outbound listener ({@link #callerOutbound()}) routes by authority.
 */
public final class MeshForTests implements AutoCloseable {
  public static final String GRPC_AUTHORITY = "interop.demo.svc.cluster.local:7070";

  private final List<AutoCloseable> closeables = new ArrayList<>();
  private int ingressPort;
  private InetSocketAddress appAddress;
  private InetSocketAddress callerOutbound;
  private InetSocketAddress appInbound;

  private MeshForTests() {}

  /** Starts the mesh, its state under {@code dir}; returns once every proxy is ready. */
  public static MeshForTests grpc(Path dir) throws Exception {
    MeshForTests m = new MeshForTests();
    try {
      m.start(dir);
    } catch (Exception | Error e) {
      m.close();
      throw e;
    }
    return m;
  }

  private void start(Path dir) throws Exception {
    StateDir state = StateDir.of(dir.resolve("state")).create();
    ControlPlane cp =
        ControlPlane.builder()
            .stateDir(state.root())
            .xdsAddress(new InetSocketAddress("127.0.0.1", 0))
            .apiAddress(new InetSocketAddress("127.0.0.1", 0))
            .debounce(Duration.ofMillis(20))
            .build();
    cp.start();
    closeables.add(cp);
    ControlPlaneClient client = ControlPlaneClient.connect(state);
    HostPort xds = HostPort.of(cp.xdsAddress());
    ingressPort = WorkloadAllocator.freePort("127.0.0.1");
    check(client.apply(Installer.ingressManifests(ingressPort), "install").errors());
    check(
        client
            .apply(
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
                "grpc.yaml")
            .errors());
    Proxy gateway =
        start(
            state,
            dir,
            new ProxySpec(
                NodeId.ROUTER,
                "istio-ingressgateway",
                "istio-system",
                KeyValues.labels(List.of(Installer.GATEWAY_LABELS)),
                "127.0.0.1",
                "127.0.0.1",
                List.of(),
                "default"),
            xds,
            new HostPort("127.0.0.1", WorkloadAllocator.freePort("127.0.0.1")));
    List<KeyValues.NamedPort> ports = KeyValues.ports(List.of("grpc:7071"));
    WorkloadAllocator.Addresses app =
        WorkloadAllocator.allocate(state, "demo", "interop-v1", ports, Map.of());
    awaitReady(
        start(
            state,
            dir,
            new ProxySpec(
                NodeId.SIDECAR,
                "interop-v1",
                "demo",
                KeyValues.labels(List.of("app=interop,version=v1")),
                app.podIp(),
                app.appAddress(),
                ports,
                "default"),
            xds,
            new HostPort(app.podIp(), 15000)));
    WorkloadAllocator.Addresses caller =
        WorkloadAllocator.allocate(state, "demo", "caller", List.of(), Map.of());
    awaitReady(
        start(
            state,
            dir,
            new ProxySpec(
                NodeId.SIDECAR,
                "caller",
                "demo",
                KeyValues.labels(List.of("app=caller")),
                caller.podIp(),
                caller.appAddress(),
                List.of(),
                "default"),
            xds,
            new HostPort(caller.podIp(), 15000)));
    awaitReady(gateway);
    appAddress = new InetSocketAddress(app.appAddress(), 7071);
    callerOutbound = new InetSocketAddress(caller.podIp(), 15001);
    appInbound = new InetSocketAddress(app.podIp(), 7071);
  }

  private static void check(List<?> errors) {
    if (!errors.isEmpty()) {
      throw new IllegalStateException("apply failed: " + errors);
    }
  }

  private Proxy start(StateDir state, Path dir, ProxySpec spec, HostPort xds, HostPort admin) {
    Proxy p = ProxyCommand.start(state, spec, xds, admin, dir.resolve(spec.name() + ".access.log"));
    closeables.add(p);
    return p;
  }

  private static void awaitReady(Proxy p) {
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
    return new HostPort(appInbound.getHostString(), 15000);
  }

  /** The client sidecar's admin address. */
  public HostPort callerAdmin() {
    return new HostPort(callerOutbound.getHostString(), 15000);
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
