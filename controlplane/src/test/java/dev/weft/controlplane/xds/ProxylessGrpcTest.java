package dev.weft.controlplane.xds;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.weft.controlplane.ControlPlane;
import dev.weft.controlplane.Fixtures;
import dev.weft.xds.TypeUrls;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.ServerCalls;
import io.grpc.xds.XdsNameResolverProvider;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real grpc-java xDS client ({@code xds:///podinfo-grpc.demo.svc.cluster.local:9000}, bootstrap
 * from {@link GrpcBootstrap}) against the control plane's proxyless port, calling two real gRPC
 * backends registered as workloads v1 and v2 (through the secure ADS port, as sidecars register),
 * following the VirtualService in {@code fixtures/grpc-proxyless.yaml}: the 90/10 split, a header
 * match to v2, a fault abort, a route timeout.
 */
@Timeout(120)
class ProxylessGrpcTest {
  private static final String TARGET = "xds:///podinfo-grpc.demo.svc.cluster.local:9000";

  /** A unary method whose request and response are UTF-8 strings. */
  private static final MethodDescriptor<String, String> WHO = method("weft.test.Who/Who");

  /** A method the backends never answer (for the route timeout). */
  private static final MethodDescriptor<String, String> HANG = method("weft.test.Who/Hang");

  /** A method that fails UNAVAILABLE on every other call to a backend (for retries). */
  private static final MethodDescriptor<String, String> FLAKY = method("weft.test.Who/Flaky");

  @TempDir static Path dir;
  static ControlPlane cp;
  static final List<Server> backends = new ArrayList<>();
  static final List<AdsClient> sidecars = new ArrayList<>();
  static ManagedChannel channel;
  static final java.util.concurrent.atomic.AtomicInteger flakyCalls =
      new java.util.concurrent.atomic.AtomicInteger();

  @BeforeAll
  static void start() throws Exception {
    // Two backends on the same port of two loopback addresses (one Service targetPort).
    Server v1 = backend("v1", new InetSocketAddress("127.0.0.2", 0));
    int port = v1.getPort();
    Server v2 = backend("v2", new InetSocketAddress("127.0.0.3", port));
    backends.add(v1);
    backends.add(v2);
    cp =
        ControlPlane.builder()
            .stateDir(dir)
            .xdsAddress(new InetSocketAddress("127.0.0.1", 0))
            .apiAddress(new InetSocketAddress("127.0.0.1", 0))
            .dashboardAddress(null)
            .debounce(Duration.ZERO)
            .build();
    cp.start();
    String yaml = Fixtures.text("grpc-proxyless.yaml").replace("TARGET_PORT", "" + port);
    assertThat(cp.store().apply("grpc.yaml", Fixtures.parse("grpc.yaml", yaml)).ok()).isTrue();
    register("v1", "127.0.0.2", port);
    register("v2", "127.0.0.3", port);

    Map<String, ?> bootstrap =
        (Map<String, ?>)
            io.grpc.internal.JsonParser.parse(
                GrpcBootstrap.json(
                    cp.grpcXdsAddress().orElseThrow(), "client", "demo", "127.0.0.1"));
    @SuppressWarnings("deprecation")
    ManagedChannel c =
        ManagedChannelBuilder.forTarget(TARGET)
            .nameResolverFactory(XdsNameResolverProvider.createForTest("xds", bootstrap))
            .usePlaintext()
            .build();
    channel = c;
  }

  @AfterAll
  static void stop() throws Exception {
    if (channel != null) {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    for (AdsClient s : sidecars) {
      s.close();
    }
    for (Server s : backends) {
      s.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    if (cp != null) {
      cp.close();
    }
  }

  /** Registers a workload of version {@code version} at {@code ip:port} over the secure port. */
  private static void register(String version, String ip, int port) throws Exception {
    String id = "sidecar~" + ip + "~podinfo-grpc-" + version + ".demo~demo.svc.cluster.local";
    Node node =
        Fixtures.node(
            id, Map.of("app", "podinfo-grpc", "version", version), ip, "grpc:" + port, ip);
    AdsClient sidecar = AdsClient.forNode(cp, node);
    sidecars.add(sidecar);
    sidecar.request(TypeUrls.CLUSTER, List.of(), "", "");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (cp.proxies().stream().noneMatch(p -> p.id().equals(id))) {
      assertThat(System.nanoTime()).as("registered " + id).isLessThan(deadline);
      Thread.sleep(20);
    }
  }

  private static Server backend(String version, InetSocketAddress address) throws IOException {
    ServerServiceDefinition svc =
        ServerServiceDefinition.builder("weft.test.Who")
            .addMethod(
                WHO,
                ServerCalls.asyncUnaryCall(
                    (req, out) -> {
                      out.onNext(version);
                      out.onCompleted();
                    }))
            .addMethod(HANG, ServerCalls.asyncUnaryCall((req, out) -> {}))
            .addMethod(
                FLAKY,
                ServerCalls.asyncUnaryCall(
                    (req, out) -> {
                      if (flakyCalls.incrementAndGet() % 2 == 1) {
                        out.onError(
                            Status.UNAVAILABLE.withDescription("flaky").asRuntimeException());
                      } else {
                        out.onNext(version);
                        out.onCompleted();
                      }
                    }))
            .build();
    return NettyServerBuilder.forAddress(address).addService(svc).build().start();
  }

  private static MethodDescriptor<String, String> method(String fullName) {
    MethodDescriptor.Marshaller<String> utf8 =
        new MethodDescriptor.Marshaller<>() {
          @Override
          public InputStream stream(String value) {
            return new ByteArrayInputStream(value.getBytes(StandardCharsets.UTF_8));
          }

          @Override
          public String parse(InputStream stream) {
            try {
              return new String(stream.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
              throw new java.io.UncheckedIOException(e);
            }
          }
        };
    return MethodDescriptor.<String, String>newBuilder()
        .setType(MethodDescriptor.MethodType.UNARY)
        .setFullMethodName(fullName)
        .setRequestMarshaller(utf8)
        .setResponseMarshaller(utf8)
        .build();
  }

  private static String call(MethodDescriptor<String, String> m, String header, String value) {
    Metadata md = new Metadata();
    if (header != null) {
      md.put(Metadata.Key.of(header, Metadata.ASCII_STRING_MARSHALLER), value);
    }
    io.grpc.Channel ch =
        io.grpc.ClientInterceptors.intercept(
            channel, MetadataUtils.newAttachHeadersInterceptor(md));
    return ClientCalls.blockingUnaryCall(ch, m, CallOptions.DEFAULT.withWaitForReady(), "hi");
  }

  @Test
  void weightsSplitNinetyTen() {
    int n = 400;
    int v1 = 0;
    for (int i = 0; i < n; i++) {
      String who = call(WHO, null, null);
      assertThat(who).isIn("v1", "v2");
      if (who.equals("v1")) {
        v1++;
      }
    }
    // Binomial(400, 0.9) at 1 - 1e-6, computed exactly as the cli's BinomialBounds (and
    // DemoE2ETest's): [328, 386]. The former mean ± 5 sd failed a correct split 1.6 times in a
    // million runs (the distribution's lower tail is the longer one).
    assertThat(v1).isBetween(328, 386);
  }

  @Test
  void retriesFollowTheRoutesPolicy() {
    // Every other call fails UNAVAILABLE at the backend: with retries on unavailable every call
    // succeeds; with attempts: 0 (no retries) half of them fail.
    synchronized (FLAKY) {
      for (int i = 0; i < 10; i++) {
        assertThat(call(FLAKY, "x-flaky", "retry")).isEqualTo("v1");
      }
      int failed = 0;
      for (int i = 0; i < 10; i++) {
        try {
          call(FLAKY, "x-flaky", "once");
        } catch (StatusRuntimeException e) {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
          failed++;
        }
      }
      assertThat(failed).isEqualTo(5);
    }
  }

  @Test
  void headerMatchSendsToV2() {
    for (int i = 0; i < 20; i++) {
      assertThat(call(WHO, "x-version", "v2")).isEqualTo("v2");
    }
  }

  @Test
  void faultAbortAnswersTheConfiguredStatus() {
    StatusRuntimeException e =
        catchThrowableOfType(StatusRuntimeException.class, () -> call(WHO, "x-fault", "1"));
    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
  }

  @Test
  void routeTimeoutEndsAHangingCall() {
    // The backend never answers Hang; without the route's 0.5 s timeout (max_stream_duration)
    // the call would wait for ever and the test's @Timeout fail it.
    StatusRuntimeException e =
        catchThrowableOfType(StatusRuntimeException.class, () -> call(HANG, "x-slow", "1"));
    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
  }

  @Test
  void theProxylessPortRegistersNobodyAndServesNoSecrets() throws Exception {
    ManagedChannel raw =
        io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder.forAddress(
                cp.grpcXdsAddress().orElseThrow())
            .usePlaintext()
            .build();
    try {
      var stub =
          io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc.newStub(raw);
      java.util.concurrent.BlockingQueue<Object> got =
          new java.util.concurrent.LinkedBlockingQueue<>();
      var requests =
          stub.streamAggregatedResources(
              new io.grpc.stub.StreamObserver<
                  io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse>() {
                @Override
                public void onNext(io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse r) {
                  got.add(r);
                }

                @Override
                public void onError(Throwable t) {
                  got.add(t);
                }

                @Override
                public void onCompleted() {
                  got.add("completed");
                }
              });
      // A stranger claiming to be podinfo-grpc v1 asks for its listener, then for its secrets.
      Node claims =
          Fixtures.node(
              "sidecar~127.0.0.9~podinfo-grpc-v1.demo~demo.svc.cluster.local",
              Map.of("app", "podinfo-grpc", "version", "v1"),
              "127.0.0.9",
              "grpc:1",
              "127.0.0.9");
      requests.onNext(
          io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest.newBuilder()
              .setNode(claims)
              .setTypeUrl(TypeUrls.LISTENER)
              .addResourceNames("podinfo-grpc.demo.svc.cluster.local:9000")
              .build());
      Object lds = got.poll(30, TimeUnit.SECONDS);
      assertThat(lds)
          .isInstanceOf(io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse.class);
      assertThat(
              ((io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse) lds)
                  .getResourcesCount())
          .isEqualTo(1);
      requests.onNext(
          io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest.newBuilder()
              .setTypeUrl(TypeUrls.SECRET)
              .addResourceNames("default")
              .build());
      Object sds = got.poll(30, TimeUnit.SECONDS);
      assertThat(sds).isInstanceOf(StatusRuntimeException.class);
      assertThat(Status.fromThrowable((Throwable) sds).getCode())
          .isEqualTo(Status.Code.PERMISSION_DENIED);
      // Never an endpoint: the registry knows only the two sidecars.
      assertThat(cp.proxies()).extracting(p -> p.id()).noneMatch(id -> id.contains("127.0.0.9"));
    } finally {
      raw.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void theProxylessPortBindsOnlyLoopback() {
    assertThat(
            catchThrowableOfType(
                IllegalArgumentException.class,
                () -> ControlPlane.builder().grpcXdsAddress(new InetSocketAddress("0.0.0.0", 0))))
        .hasMessageContaining("loopback");
  }
}
