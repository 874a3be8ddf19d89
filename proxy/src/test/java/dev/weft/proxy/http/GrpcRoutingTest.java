package dev.weft.proxy.http;

import static dev.weft.proxy.testing.TestAdsServer.CDS;
import static dev.weft.proxy.testing.TestAdsServer.LDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.weft.proxy.Proxy;
import dev.weft.proxy.ProxyBootstrap;
import dev.weft.proxy.testing.TestAdsServer;
import dev.weft.proxy.testing.Xds;
import dev.weft.xds.NodeId;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
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
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * gRPC semantics through the proxy with grpc-java on both ends (and curl for an HTTP/1.1 client):
 * retry_on gRPC conditions, {@code grpc-timeout} under {@code max_grpc_timeout}, gRPC local
 * replies, and trailers reaching an HTTP/1.1 client as chunked trailers.
 */
class GrpcRoutingTest {
  static final MethodDescriptor.Marshaller<byte[]> BYTES =
      new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(byte[] value) {
          return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
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

  static final MethodDescriptor<byte[], byte[]> FLAKY = method("Flaky");
  static final MethodDescriptor<byte[], byte[]> ECHO = method("Echo");
  static final MethodDescriptor<byte[], byte[]> HANG = method("Hang");

  @TempDir Path tmp;
  TestAdsServer ads;
  Proxy proxy;
  Server server;
  ManagedChannel channel;
  int port;
  final AtomicInteger flakyCalls = new AtomicInteger();
  final List<String> flakyBodies = new CopyOnWriteArrayList<>();

  @BeforeEach
  void setUp() throws Exception {
    ServerServiceDefinition svc =
        ServerServiceDefinition.builder("test.Svc")
            .addMethod(
                FLAKY,
                ServerCalls.asyncUnaryCall(
                    (req, out) -> {
                      flakyBodies.add(new String(req, StandardCharsets.UTF_8));
                      if (flakyCalls.getAndIncrement() == 0) {
                        out.onError(Status.UNAVAILABLE.withDescription("try again").asException());
                      } else {
                        out.onNext(("ok " + new String(req, StandardCharsets.UTF_8)).getBytes());
                        out.onCompleted();
                      }
                    }))
            .addMethod(
                ECHO,
                ServerCalls.asyncUnaryCall(
                    (req, out) -> {
                      out.onNext(req);
                      out.onCompleted();
                    }))
            .addMethod(HANG, ServerCalls.asyncUnaryCall((req, out) -> {}))
            .build();
    server =
        NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
            .addService(svc)
            .build()
            .start();
    ads = TestAdsServer.start();
    port = Xds.freePort();
    InetSocketAddress app = new InetSocketAddress("127.0.0.1", server.getPort());
    ads.set(
        CDS, "c1", Xds.http2(Xds.staticCluster("app", app)), Xds.http2(Xds.staticCluster("empty")));
    RouteAction.Builder retry =
        RouteAction.newBuilder()
            .setCluster("app")
            .setRetryPolicy(
                io.envoyproxy.envoy.config.route.v3.RetryPolicy.newBuilder()
                    .setRetryOn("unavailable,cancelled")
                    .setNumRetries(com.google.protobuf.UInt32Value.of(2)));
    ads.set(
        LDS,
        "l1",
        Xds.listener(
            "127.0.0.1_" + port,
            port,
            Xds.hcm()
                .setRouteConfig(
                    Xds.routes(
                        "r",
                        Xds.vhost(
                            "v",
                            List.of("*"),
                            route("/test.Svc/Flaky", retry),
                            // Istio's setTimeout: max_grpc_timeout is the route timeout (0: none).
                            route(
                                "/test.Svc/Hang",
                                RouteAction.newBuilder()
                                    .setCluster("app")
                                    .setTimeout(seconds(0))
                                    .setMaxGrpcTimeout(seconds(0))),
                            route(
                                "/capped/",
                                RouteAction.newBuilder()
                                    .setCluster("app")
                                    .setPrefixRewrite("/test.Svc/")
                                    .setTimeout(seconds(0))
                                    .setMaxGrpcTimeout(
                                        com.google.protobuf.Duration.newBuilder()
                                            .setNanos(300_000_000))),
                            route("/empty/", RouteAction.newBuilder().setCluster("empty")),
                            Xds.prefixRoute("/", "app"))))
                .build()));
    proxy =
        Proxy.start(
            ProxyBootstrap.builder()
                .nodeId(new NodeId(NodeId.SIDECAR, "127.0.0.1", "app-v1", "demo"))
                .metadata(Map.of("NAMESPACE", "demo"))
                .xdsServer(new InetSocketAddress("127.0.0.1", ads.port()))
                .adminAddress(new InetSocketAddress("127.0.0.1", 0))
                .accessLogPath(tmp.resolve("access.log"))
                .build());
    assertThat(proxy.awaitReady(Duration.ofSeconds(30))).as("%s", proxy.failure()).isTrue();
    channel = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
  }

  static com.google.protobuf.Duration seconds(long s) {
    return com.google.protobuf.Duration.newBuilder().setSeconds(s).build();
  }

  static Route route(String prefix, RouteAction.Builder action) {
    return Route.newBuilder()
        .setMatch(RouteMatch.newBuilder().setPrefix(prefix))
        .setRoute(action)
        .build();
  }

  @AfterEach
  void tearDown() throws Exception {
    if (channel != null) {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    if (proxy != null) {
      proxy.close();
    }
    ads.close();
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }

  @Test
  void retryOnUnavailableReplaysTheRequestBody() {
    byte[] reply =
        ClientCalls.blockingUnaryCall(
            channel, FLAKY, CallOptions.DEFAULT, "hello".getBytes(StandardCharsets.UTF_8));
    assertThat(new String(reply, StandardCharsets.UTF_8)).isEqualTo("ok hello");
    assertThat(flakyCalls.get()).isEqualTo(2);
    assertThat(flakyBodies).containsExactly("hello", "hello");
  }

  @Test
  void statusAndMessageOfTheUpstreamReachTheClient() {
    // Unretried (the Echo route has no retry policy), a status from the server passes as is.
    byte[] big = new byte[200_000];
    assertThat(ClientCalls.blockingUnaryCall(channel, ECHO, CallOptions.DEFAULT, big))
        .hasSize(big.length);
  }

  @Test
  void grpcTimeoutIsTheRouteTimeoutUnderMaxGrpcTimeout() throws Exception {
    assumeTrue(Http2DownstreamTest.has("curl"), "curl is not installed");
    // No route timeout, no cap: the client's grpc-timeout (250 ms) ends the call at the proxy.
    String out = curlGrpc("/test.Svc/Hang", "grpc-timeout: 250m", "--http2-prior-knowledge");
    assertThat(out)
        .contains("HTTP/2 200", "grpc-status: 14", "grpc-message: upstream request timeout");
    // max_grpc_timeout 300 ms caps a client's 60 s.
    out = curlGrpc("/capped/Hang", "grpc-timeout: 60S", "--http2-prior-knowledge");
    assertThat(out).contains("grpc-status: 14");
    awaitLog("\"POST /capped/Hang HTTP/2\" 200 UT");
  }

  @Test
  void localRepliesToGrpcRequestsAreGrpcStatuses() {
    MethodDescriptor<byte[], byte[]> m = ECHO.toBuilder().setFullMethodName("empty/Echo").build();
    assertThatThrownBy(
            () -> ClientCalls.blockingUnaryCall(channel, m, CallOptions.DEFAULT, new byte[1]))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> {
              assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
              assertThat(e.getStatus().getDescription()).isEqualTo("no healthy upstream");
            });
  }

  @Test
  void anHttp1ClientGetsTheTrailersAsChunkedTrailers() throws Exception {
    assumeTrue(Http2DownstreamTest.has("curl"), "curl is not installed");
    String out = curlGrpc("/test.Svc/Echo", "x-a: b", "--http1.1");
    assertThat(out)
        .contains("HTTP/1.1 200", "transfer-encoding: chunked")
        // The message echoed, then the trailers after the last chunk.
        .containsPattern("(?s)hey.*\r\n0\r\ngrpc-status: 0\r\n");
  }

  /** A unary gRPC call with curl (body: the length-prefixed message "hey"); headers and body. */
  String curlGrpc(String path, String header, String version) throws Exception {
    Path body = tmp.resolve("msg");
    Files.write(body, new byte[] {0, 0, 0, 0, 3, 'h', 'e', 'y'});
    return Http2DownstreamTest.run(
        "curl",
        "-sS",
        "-i",
        "--raw",
        version,
        "-m",
        "20",
        "-H",
        "content-type: application/grpc",
        "-H",
        "te: trailers",
        "-H",
        header,
        "--data-binary",
        "@" + body,
        "http://127.0.0.1:" + port + path);
  }

  void awaitLog(String fragment) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    String log = "";
    while (System.nanoTime() < deadline) {
      Path p = tmp.resolve("access.log");
      log = Files.exists(p) ? Files.readString(p) : "";
      if (log.contains(fragment)) {
        return;
      }
      Thread.sleep(20);
    }
    assertThat(log).contains(fragment);
  }
}
