package dev.weft.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.controlplane.ControlPlane;
import dev.weft.proxy.Proxy;
import dev.weft.xds.NodeId;
import io.grpc.ManagedChannelBuilder;
import io.grpc.ServerBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.testing.integration.AbstractInteropTest;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * gRPC through the local mesh in one JVM, configured only through the control plane's API:
 * grpc-java's interop client and server ({@code grpc-interop-testing}) through the ingress gateway
 * (h2c to its HTTP port, a VirtualService to a {@code grpc} Service port) and through a sidecar
 * pair. Local mode's outbound for HTTP is the sidecar's {@code http_proxy} listener (15001): a gRPC
 * client connects to it with h2c prior knowledge and names the service as its {@code :authority},
 * by which the listener routes (as an HTTP/1.1 client names it in the request line). The control
 * plane makes the {@code grpc} port's clusters HTTP/2, so both hops are HTTP/2 end to end.
 */
class GrpcMeshIntegrationTest {
  @TempDir Path tmp;

  private final List<AutoCloseable> closeables = new ArrayList<>();
  private StateDir meshState;

  @AfterEach
  void closeAll() throws Exception {
    for (int i = closeables.size() - 1; i >= 0; i--) {
      closeables.get(i).close();
    }
  }

  /** The interop cases against a server on {@code app} through a channel from {@code channel}. */
  static final class Interop extends AbstractInteropTest {
    private final InetSocketAddress app;
    private final Supplier<ManagedChannelBuilder<?>> channel;

    Interop(InetSocketAddress app, Supplier<ManagedChannelBuilder<?>> channel) {
      this.app = app;
      this.channel = channel;
    }

    @Override
    protected ServerBuilder<?> getServerBuilder() {
      return NettyServerBuilder.forAddress(app)
          .maxInboundMessageSize(AbstractInteropTest.MAX_MESSAGE_SIZE);
    }

    @Override
    protected ManagedChannelBuilder<?> createChannelBuilder() {
      return channel.get();
    }

    @Override
    protected boolean metricsExpected() {
      return false;
    }
  }

  /** The interop cases, each as JUnit 4 runs it: a fresh instance, set up, run, torn down. */
  static final List<String> CASES =
      List.of(
          "emptyUnary",
          "largeUnary",
          "clientStreaming",
          "serverStreaming",
          "pingPong",
          "customMetadata",
          "statusCodeAndMessage");

  @Test
  void interopCasesThroughTheGatewayAndASidecarPair() throws Exception {
    StateDir state = StateDir.of(tmp.resolve("state")).create();
    meshState = state;
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
    int ingressPort = WorkloadAllocator.freePort("127.0.0.1");
    assertThat(client.apply(Installer.ingressManifests(ingressPort), "install").errors()).isEmpty();
    assertThat(
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
                .errors())
        .isEmpty();

    Proxy gateway =
        start(
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
    InetSocketAddress appAddress = new InetSocketAddress(app.appAddress(), 7071);

    // Through the gateway: h2c to its HTTP port.
    runInterop(
        appAddress, () -> NettyChannelBuilder.forAddress("127.0.0.1", ingressPort).usePlaintext());
    // Through the sidecar pair: h2c to the caller's outbound listener, the service as authority.
    runInterop(
        appAddress,
        () ->
            NettyChannelBuilder.forAddress(caller.podIp(), 15001)
                .overrideAuthority("interop.demo.svc.cluster.local:7070")
                .usePlaintext());
  }

  /**
   * Runs the cases once the route is in place: before the server starts, a probe waits until the
   * proxies answer with the app's connection failure (Envoy's gRPC local reply: UNAVAILABLE,
   * "upstream connect error ... connection failure"), which only a routed request gets.
   */
  private static void runInterop(InetSocketAddress app, Supplier<ManagedChannelBuilder<?>> channel)
      throws Exception {
    io.grpc.ManagedChannel probe = channel.get().build();
    try {
      io.grpc.MethodDescriptor<byte[], byte[]> missing =
          io.grpc.MethodDescriptor.<byte[], byte[]>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName("grpc.testing.TestService/NoSuchMethod")
              .setRequestMarshaller(BYTES)
              .setResponseMarshaller(BYTES)
              .build();
      Instant deadline = Instant.now().plusSeconds(30);
      while (true) {
        io.grpc.Status st;
        try {
          io.grpc.stub.ClientCalls.blockingUnaryCall(
              probe, missing, io.grpc.CallOptions.DEFAULT, new byte[0]);
          st = io.grpc.Status.OK;
        } catch (io.grpc.StatusRuntimeException e) {
          st = e.getStatus();
        }
        if (String.valueOf(st.getDescription()).contains("connection failure")) {
          break;
        }
        if (Instant.now().isAfter(deadline)) {
          throw new AssertionError("not routed in time: " + st);
        }
        Thread.sleep(50); // polling a condition with a deadline
      }
      for (String name : CASES) {
        Interop interop = new Interop(app, channel);
        interop.setUp();
        try {
          AbstractInteropTest.class.getMethod(name).invoke(interop);
        } catch (java.lang.reflect.InvocationTargetException e) {
          throw new AssertionError(name + " failed", e.getCause());
        } finally {
          interop.tearDown();
        }
      }
    } finally {
      probe.shutdownNow();
    }
  }

  static final io.grpc.MethodDescriptor.Marshaller<byte[]> BYTES =
      new io.grpc.MethodDescriptor.Marshaller<>() {
        @Override
        public java.io.InputStream stream(byte[] value) {
          return new java.io.ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(java.io.InputStream stream) {
          try {
            return stream.readAllBytes();
          } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
          }
        }
      };

  private Proxy start(ProxySpec spec, HostPort xds, HostPort admin) {
    Proxy p =
        ProxyCommand.start(meshState, spec, xds, admin, tmp.resolve(spec.name() + ".access.log"));
    closeables.add(p);
    return p;
  }

  private static void awaitReady(Proxy p) {
    assertThat(p.awaitReady(Duration.ofSeconds(30))).as("ready: %s", p.failure()).isTrue();
  }
}
