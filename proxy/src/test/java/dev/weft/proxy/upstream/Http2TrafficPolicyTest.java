package dev.weft.proxy.upstream;

import static dev.weft.proxy.testing.Conditions.await;
import static dev.weft.proxy.testing.TestAdsServer.CDS;
import static dev.weft.proxy.testing.TestAdsServer.LDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.common.util.concurrent.ListenableFuture;
import com.google.protobuf.UInt32Value;
import dev.weft.proxy.Proxy;
import dev.weft.proxy.ProxyBootstrap;
import dev.weft.proxy.testing.ManualScheduler;
import dev.weft.proxy.testing.RawHttp;
import dev.weft.proxy.testing.TestAdsServer;
import dev.weft.proxy.testing.Xds;
import dev.weft.xds.NodeId;
import io.envoyproxy.envoy.config.cluster.v3.CircuitBreakers;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.cluster.v3.OutlierDetection;
import io.envoyproxy.envoy.type.v3.Percent;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * DestinationRule circuit breakers and outlier detection on an HTTP/2 (gRPC) cluster: the router's
 * {@code max_requests} slots count HTTP/2 streams as HTTP/1.1 requests, and a trailers-only gRPC
 * error counts for outlier detection as the HTTP status Envoy maps it to ({@code
 * Grpc::Utility::grpcToHttpStatus}: UNAVAILABLE is 503).
 */
class Http2TrafficPolicyTest {
  static final MethodDescriptor.Marshaller<byte[]> BYTES =
      new MethodDescriptor.Marshaller<>() {
        @Override
        public java.io.InputStream stream(byte[] value) {
          return new java.io.ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(java.io.InputStream stream) {
          try {
            return stream.readAllBytes();
          } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
          }
        }
      };

  static MethodDescriptor<byte[], byte[]> method(String name) {
    return MethodDescriptor.<byte[], byte[]>newBuilder()
        .setType(MethodDescriptor.MethodType.UNARY)
        .setFullMethodName("test.Svc/" + name)
        .setRequestMarshaller(BYTES)
        .setResponseMarshaller(BYTES)
        .build();
  }

  static final MethodDescriptor<byte[], byte[]> ECHO = method("Echo");
  static final MethodDescriptor<byte[], byte[]> HANG = method("Hang");

  /** A gRPC upstream: Echo answers (or fails UNAVAILABLE when {@code failing}), Hang never does. */
  static final class Backend implements AutoCloseable {
    final Server server;
    final AtomicInteger echoes = new AtomicInteger();
    final AtomicInteger hanging = new AtomicInteger();
    volatile boolean failing;

    Backend() throws IOException {
      ServerServiceDefinition svc =
          ServerServiceDefinition.builder("test.Svc")
              .addMethod(
                  ECHO,
                  ServerCalls.asyncUnaryCall(
                      (req, out) -> {
                        echoes.incrementAndGet();
                        if (failing) {
                          // Before any message: a trailers-only response.
                          out.onError(Status.UNAVAILABLE.asException());
                        } else {
                          out.onNext(req);
                          out.onCompleted();
                        }
                      }))
              .addMethod(HANG, ServerCalls.asyncUnaryCall((req, out) -> hanging.incrementAndGet()))
              .build();
      server =
          NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
              .addService(svc)
              .build()
              .start();
    }

    InetSocketAddress address() {
      return new InetSocketAddress("127.0.0.1", server.getPort());
    }

    @Override
    public void close() {
      server.shutdownNow();
    }
  }

  @TempDir Path tmp;
  TestAdsServer ads;
  Proxy proxy;
  ManagedChannel channel;
  ManualScheduler clock;
  final List<Backend> backends = new ArrayList<>();
  int port;

  @BeforeEach
  void start() throws IOException {
    ads = TestAdsServer.start();
    clock = new ManualScheduler();
    port = Xds.freePort();
  }

  @AfterEach
  void stop() throws Exception {
    if (channel != null) {
      channel.shutdownNow();
    }
    if (proxy != null) {
      proxy.close();
    }
    ads.close();
    for (Backend b : backends) {
      b.close();
    }
    clock.close();
  }

  void serve(Cluster cluster) throws IOException {
    ads.set(CDS, "c1", cluster);
    ads.set(
        LDS,
        "l1",
        Xds.listener(
            "127.0.0.1_" + port,
            port,
            Xds.hcm()
                .setRouteConfig(
                    Xds.routes(
                        "r", Xds.vhost("v", List.of("*"), Xds.prefixRoute("/", cluster.getName()))))
                .build()));
    proxy =
        Proxy.start(
            ProxyBootstrap.builder()
                .nodeId(new NodeId(NodeId.SIDECAR, "127.0.0.1", "client", "demo"))
                .metadata(Map.of("NAMESPACE", "demo"))
                .xdsServer(new InetSocketAddress("127.0.0.1", ads.port()))
                .adminAddress(new InetSocketAddress("127.0.0.1", 0))
                .accessLogPath(tmp.resolve("access.log"))
                .scheduler(clock)
                .build());
    assertThat(proxy.awaitReady(Duration.ofSeconds(30))).as("%s", proxy.failure()).isTrue();
    assertThat(ads.nacks()).isEmpty();
    channel = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
  }

  byte[] echo(String s) {
    return ClientCalls.blockingUnaryCall(
        channel, ECHO, CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS), s.getBytes());
  }

  long stat(String name) throws IOException {
    RawHttp.Response r = RawHttp.get(proxy.adminAddress().getPort(), "localhost", "/stats");
    for (String line : r.body().split("\n")) {
      if (line.startsWith(name + ": ")) {
        return Long.parseLong(line.substring(name.length() + 2).trim());
      }
    }
    throw new AssertionError("no stat " + name + " in " + r.body());
  }

  @Test
  void http2StreamsBeyondMaxRequestsFailWithOverflow() throws Exception {
    Backend b = new Backend();
    backends.add(b);
    // connectionPool.http.http2MaxRequests: 2 → max_requests 2.
    serve(
        Xds.http2(Xds.staticCluster("app", b.address())).toBuilder()
            .setCircuitBreakers(
                CircuitBreakers.newBuilder()
                    .addThresholds(
                        CircuitBreakers.Thresholds.newBuilder()
                            .setMaxRequests(UInt32Value.of(2))
                            .setTrackRemaining(true)))
            .build());
    ListenableFuture<byte[]> first =
        ClientCalls.futureUnaryCall(channel.newCall(HANG, CallOptions.DEFAULT), new byte[0]);
    ListenableFuture<byte[]> second =
        ClientCalls.futureUnaryCall(channel.newCall(HANG, CallOptions.DEFAULT), new byte[0]);
    await(() -> b.hanging.get() == 2);

    // Both slots are held by HTTP/2 streams: the third fails at once.
    assertThatThrownBy(() -> echo("three"))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
    assertThat(b.echoes.get()).isZero();
    assertThat(stat("cluster.app.upstream_rq_pending_overflow")).isEqualTo(1);

    // Cancelled streams give their slots back.
    first.cancel(true);
    second.cancel(true);
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (true) {
      try {
        assertThat(new String(echo("four"))).isEqualTo("four");
        break;
      } catch (StatusRuntimeException e) {
        // The resets may still be on their way to the proxy.
        assertThat(System.nanoTime()).as("slots freed in time").isLessThan(deadline);
      }
    }
  }

  @Test
  void trailersOnlyUnavailableCountsAsA503ForOutlierDetection() throws Exception {
    Backend bad = new Backend();
    Backend good = new Backend();
    backends.add(bad);
    backends.add(good);
    bad.failing = true;
    serve(
        Xds.http2(Xds.staticCluster("app", bad.address(), good.address())).toBuilder()
            .setOutlierDetection(
                OutlierDetection.newBuilder()
                    .setConsecutive5Xx(UInt32Value.of(3))
                    .setEnforcingConsecutive5Xx(UInt32Value.of(100))
                    .setInterval(com.google.protobuf.Duration.newBuilder().setSeconds(10))
                    .setBaseEjectionTime(com.google.protobuf.Duration.newBuilder().setSeconds(30))
                    .setMaxEjectionPercent(UInt32Value.of(100))
                    .setEnforcingSuccessRate(UInt32Value.of(0)))
            .setCommonLbConfig(
                Cluster.CommonLbConfig.newBuilder()
                    .setHealthyPanicThreshold(Percent.newBuilder().setValue(0)))
            .build());
    String ejections = "cluster.app.outlier_detection.ejections_active";
    int sent = 0;
    // Until the bad endpoint has answered its third UNAVAILABLE; then no more requests: the
    // ejection is carried out on the cluster's scheduler after that answer (as Envoy posts it to
    // the main thread), so under load a request sent at once could still reach the bad host.
    while (bad.echoes.get() < 3) {
      assertThat(sent++).as("requests before the third failure").isLessThan(20);
      try {
        echo("x");
      } catch (StatusRuntimeException e) {
        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
      }
    }
    await(
        () -> {
          try {
            return stat(ejections) == 1;
          } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
          }
        });
    assertThat(bad.echoes.get()).isEqualTo(3);
    // Ejected: every call goes to the good endpoint.
    for (int i = 0; i < 10; i++) {
      assertThat(new String(echo("ok" + i))).isEqualTo("ok" + i);
    }
    assertThat(bad.echoes.get()).isEqualTo(3);
  }
}
