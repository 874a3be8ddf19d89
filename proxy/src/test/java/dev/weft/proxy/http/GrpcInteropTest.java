package dev.weft.proxy.http;

import static dev.weft.proxy.testing.TestAdsServer.CDS;
import static dev.weft.proxy.testing.TestAdsServer.LDS;
import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.proxy.Proxy;
import dev.weft.proxy.ProxyBootstrap;
import dev.weft.proxy.testing.TestAdsServer;
import dev.weft.proxy.testing.Xds;
import dev.weft.xds.NodeId;
import io.grpc.ManagedChannelBuilder;
import io.grpc.ServerBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.testing.integration.AbstractInteropTest;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * grpc-java's interop cases (its own client code and test service, {@code grpc-interop-testing})
 * through the proxy: the client speaks h2c with prior knowledge to a listener whose route goes to
 * an HTTP/2 cluster, chained through a second listener as a sidecar pair would be (client →
 * "outbound" listener → "inbound" listener → the gRPC server), so both the downstream and the
 * upstream HTTP/2 sides carry every case twice.
 */
class GrpcInteropTest {
  @TempDir Path tmp;
  TestAdsServer ads;
  Proxy proxy;
  Interop interop;

  /** The interop cases with a channel to the proxy and a server on a known port. */
  static final class Interop extends AbstractInteropTest {
    final int serverPort = Xds.freePort();
    int proxyPort;

    @Override
    protected ServerBuilder<?> getServerBuilder() {
      return NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", serverPort))
          .maxInboundMessageSize(AbstractInteropTest.MAX_MESSAGE_SIZE);
    }

    @Override
    protected ManagedChannelBuilder<?> createChannelBuilder() {
      return NettyChannelBuilder.forAddress("127.0.0.1", proxyPort)
          .usePlaintext()
          .maxInboundMessageSize(AbstractInteropTest.MAX_MESSAGE_SIZE);
    }

    @Override
    protected boolean metricsExpected() {
      return false;
    }
  }

  @BeforeEach
  void setUp() throws Exception {
    ads = TestAdsServer.start();
    interop = new Interop();
    int outbound = Xds.freePort();
    int inbound = Xds.freePort();
    interop.proxyPort = outbound;
    ads.set(
        CDS,
        "c1",
        Xds.http2(Xds.staticCluster("hop", new InetSocketAddress("127.0.0.1", inbound))),
        Xds.http2(
            Xds.staticCluster("app", new InetSocketAddress("127.0.0.1", interop.serverPort))));
    ads.set(LDS, "l1", listener(outbound, "hop"), listener(inbound, "app"));
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
    interop.setUp();
  }

  static io.envoyproxy.envoy.config.listener.v3.Listener listener(int port, String cluster) {
    return Xds.listener(
        "127.0.0.1_" + port,
        port,
        Xds.hcm()
            .setRouteConfig(
                Xds.routes(cluster, Xds.vhost("v", List.of("*"), Xds.prefixRoute("/", cluster))))
            .build());
  }

  @AfterEach
  void tearDown() throws Exception {
    if (interop != null) {
      interop.tearDown();
    }
    if (proxy != null) {
      proxy.close();
    }
    ads.close();
    if (System.getenv("DEBUG_LOG") != null) {
      System.err.println("ACCESS " + java.nio.file.Files.readString(tmp.resolve("access.log")));
    }
  }

  @Test
  void emptyUnary() throws Exception {
    interop.emptyUnary();
  }

  @Test
  void largeUnary() throws Exception {
    interop.largeUnary();
  }

  @Test
  void clientStreaming() throws Exception {
    interop.clientStreaming();
  }

  @Test
  void serverStreaming() throws Exception {
    interop.serverStreaming();
  }

  @Test
  void pingPong() throws Exception {
    interop.pingPong();
  }

  @Test
  void customMetadata() throws Exception {
    interop.customMetadata();
  }

  @Test
  void statusCodeAndMessage() throws Exception {
    interop.statusCodeAndMessage();
  }

  @Test
  void emptyStream() throws Exception {
    interop.emptyStream();
  }

  // One case per test: a case's checks read what its own setUp started (as under JUnit 4).

  @Test
  void cancelAfterBegin() throws Exception {
    interop.cancelAfterBegin();
  }

  @Test
  void cancelAfterFirstResponse() throws Exception {
    interop.cancelAfterFirstResponse();
  }

  @Test
  void veryLargeRequest() throws Exception {
    interop.veryLargeRequest();
  }

  @Test
  void veryLargeResponse() throws Exception {
    interop.veryLargeResponse();
  }
}
