package dev.weft.cli.run;

import io.grpc.ManagedChannelBuilder;
import io.grpc.ServerBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.testing.integration.AbstractInteropTest;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
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
    MeshForTests mesh = MeshForTests.grpc(tmp);
    closeables.add(mesh);
    // Through the gateway: h2c to its HTTP port.
    runInterop(
        mesh.appAddress(),
        () -> NettyChannelBuilder.forAddress("127.0.0.1", mesh.ingressPort()).usePlaintext());
    // Through the sidecar pair: h2c to the caller's outbound listener, the service as authority.
    runInterop(
        mesh.appAddress(),
        () ->
            NettyChannelBuilder.forAddress(mesh.callerOutbound())
                .overrideAuthority(MeshForTests.GRPC_AUTHORITY)
                .usePlaintext());
    aTrailersOnlyGrpcStatusIsLabelledAtBothReporters(mesh);
  }

  /**
   * (Part of {@link #interopCasesThroughTheGatewayAndASidecarPair}, on its mesh.) Istio's gRPC
   * labels from a real trailers-only response: a gRPC server without the method answers
   * UNIMPLEMENTED in its one HEADERS frame (status 200, {@code grpc-status: 12}, no body, no
   * trailers); both reporters of the sidecar pair label it {@code request_protocol="grpc"}, {@code
   * grpc_response_status="12"}.
   */
  private void aTrailersOnlyGrpcStatusIsLabelledAtBothReporters(MeshForTests mesh)
      throws Exception {
    io.grpc.Server server = NettyServerBuilder.forAddress(mesh.appAddress()).build().start();
    closeables.add(server::shutdownNow);
    io.grpc.ManagedChannel ch =
        NettyChannelBuilder.forAddress(mesh.callerOutbound())
            .overrideAuthority(MeshForTests.GRPC_AUTHORITY)
            .usePlaintext()
            .build();
    closeables.add(ch::shutdownNow);
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
            ch, missing, io.grpc.CallOptions.DEFAULT, new byte[0]);
        st = io.grpc.Status.OK;
      } catch (io.grpc.StatusRuntimeException e) {
        st = e.getStatus();
      }
      if (st.getCode() == io.grpc.Status.Code.UNIMPLEMENTED) {
        break;
      }
      if (Instant.now().isAfter(deadline)) {
        throw new AssertionError("not routed in time: " + st);
      }
      Thread.sleep(50); // polling a condition with a deadline
    }
    String labels = "request_protocol=\"grpc\",response_code=\"200\",grpc_response_status=\"12\",";
    // A proxy counts a stream once it has ended it, after its last frame went out (as Envoy does):
    // the client may hold the answer before either reporter counted it, and a busy machine can
    // hold a proxy's event loop between the two. So the series is awaited, not read once.
    java.util.regex.Pattern destination =
        java.util.regex.Pattern.compile(
            "istio_requests_total\\{reporter=\"destination\",source_workload=\"caller\""
                + "[^}]*destination_service=\"interop\\.demo\\.svc\\.cluster\\.local\"[^}]*"
                + java.util.regex.Pattern.quote(labels));
    java.util.regex.Pattern source =
        java.util.regex.Pattern.compile(
            "istio_requests_total\\{reporter=\"source\",source_workload=\"caller\""
                + "[^}]*destination_workload=\"interop-v1\"[^}]*"
                + java.util.regex.Pattern.quote(labels));
    String[] seen = {"", ""};
    Conditions.await(
        () ->
            "both reporters to count the UNIMPLEMENTED call:\n"
                + seen[0]
                + "\n-- caller --\n"
                + seen[1],
        Conditions.DEFAULT_TIMEOUT,
        () -> {
          seen[0] = scrapeQuietly(mesh.appAdmin());
          seen[1] = scrapeQuietly(mesh.callerAdmin());
          return destination.matcher(seen[0]).find() && source.matcher(seen[1]).find();
        });
  }

  private static String scrapeQuietly(dev.weft.cli.common.HostPort admin) {
    try {
      return scrape(admin);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "";
    } catch (Exception e) {
      return "";
    }
  }

  private static String scrape(dev.weft.cli.common.HostPort admin) throws Exception {
    try (java.net.http.HttpClient c = java.net.http.HttpClient.newHttpClient()) {
      return c.send(
              java.net.http.HttpRequest.newBuilder(
                      java.net.URI.create("http://" + admin + "/stats/prometheus"))
                  .build(),
              java.net.http.HttpResponse.BodyHandlers.ofString())
          .body();
    }
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
}
