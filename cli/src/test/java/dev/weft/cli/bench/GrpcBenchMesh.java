package dev.weft.cli.bench;

import dev.weft.cli.run.MeshForTests;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.testing.integration.TestServiceImpl;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Executors;

/**
 * The mesh of {@code benchmarks/h2-hop.sh}: a control plane, the ingress gateway, a gRPC app (grpc-
 * java's interop {@code TestService}) behind its sidecar and a client sidecar, all in this JVM, set
 * up through the control plane's API as {@code GrpcMeshIntegrationTest} does. Prints one line
 * {@code READY direct=H:P pair=H:P inbound=H:P authority=A gateway=H:P} and runs until its standard
 * input closes.
 */
public final class GrpcBenchMesh {
  private GrpcBenchMesh() {}

  public static void main(String[] args) throws Exception {
    Path dir = Files.createTempDirectory("weft-h2-bench");
    try (MeshForTests mesh = MeshForTests.grpc(dir)) {
      InetSocketAddress app = mesh.appAddress();
      Server server =
          NettyServerBuilder.forAddress(app)
              .addService(new TestServiceImpl(Executors.newScheduledThreadPool(1)))
              .build()
              .start();
      try {
        System.out.println(
            "READY direct="
                + app.getHostString()
                + ":"
                + app.getPort()
                + " pair="
                + mesh.callerOutbound().getHostString()
                + ":"
                + mesh.callerOutbound().getPort()
                + " inbound="
                + mesh.appInbound().getHostString()
                + ":"
                + mesh.appInbound().getPort()
                + " authority="
                + MeshForTests.GRPC_AUTHORITY
                + " gateway=127.0.0.1:"
                + mesh.ingressPort());
        System.out.flush();
        System.in.transferTo(java.io.OutputStream.nullOutputStream());
      } finally {
        server.shutdownNow();
      }
    }
  }
}
