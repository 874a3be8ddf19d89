package dev.weft.proxy;

import static dev.weft.proxy.testing.Conditions.await;
import static dev.weft.proxy.testing.TestAdsServer.CDS;
import static dev.weft.proxy.testing.TestAdsServer.LDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.weft.proxy.testing.RawHttp;
import dev.weft.proxy.testing.TestAdsServer;
import dev.weft.proxy.testing.TestUpstream;
import dev.weft.proxy.testing.Xds;
import dev.weft.xds.NodeId;
import io.envoyproxy.envoy.config.core.v3.TrafficDirection;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Graceful drain on stop, as Envoy drains before it exits (Istio's agent calls {@code
 * /drain_listeners?inboundonly} on SIGTERM): over real sockets, a request in progress on an inbound
 * listener completes during the drain with {@code Connection: close}, new connections to it are
 * refused, an idle keep-alive connection is closed, and an outbound listener keeps serving.
 */
class ProxyDrainTest {
  static final String CLUSTER = "inbound|9898||";

  @TempDir Path tmp;
  TestAdsServer ads;
  TestUpstream app;
  Proxy proxy;
  int inboundPort;
  int outboundPort;

  @BeforeEach
  void setUp() throws Exception {
    ads = TestAdsServer.start();
    app = new TestUpstream("app");
    inboundPort = Xds.freePort();
    outboundPort = Xds.freePort();
    ads.set(CDS, "c1", Xds.staticCluster(CLUSTER, app.address()));
    ads.set(LDS, "l1", listeners());
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
  }

  /** An inbound and an outbound listener, both routing to the app. */
  io.envoyproxy.envoy.config.listener.v3.Listener[] listeners() {
    var hcm =
        Xds.hcm()
            .setRouteConfig(
                Xds.routes(
                    CLUSTER, Xds.vhost("inbound", List.of("*"), Xds.prefixRoute("/", CLUSTER))))
            .build();
    return new io.envoyproxy.envoy.config.listener.v3.Listener[] {
      Xds.listener("127.0.0.1_" + inboundPort, inboundPort, hcm).toBuilder()
          .setTrafficDirection(TrafficDirection.INBOUND)
          .build(),
      Xds.listener("127.0.0.1_" + outboundPort, outboundPort, hcm).toBuilder()
          .setTrafficDirection(TrafficDirection.OUTBOUND)
          .build()
    };
  }

  @AfterEach
  void tearDown() throws Exception {
    app.release.countDown();
    proxy.close();
    ads.close();
    app.close();
  }

  @Test
  void inFlightRequestCompletesWhileNewConnectionsAreRefused() throws Exception {
    try (RawHttp slow = new RawHttp(inboundPort);
        RawHttp idle = new RawHttp(inboundPort)) {
      assertThat(idle.send("GET /hello HTTP/1.1\r\nHost: app\r\n\r\n").status()).isEqualTo(200);
      slow.write("GET /slow HTTP/1.1\r\nHost: app\r\n\r\n".getBytes());
      await(() -> app.slowArrived.get() == 1);

      CompletableFuture<Boolean> drained =
          CompletableFuture.supplyAsync(() -> proxy.drain(Duration.ofSeconds(60), true));

      // New connections to the drained listener are refused; the idle one is closed.
      await(() -> refused(inboundPort));
      assertThat(idle.closedByPeer()).isTrue();
      // The outbound listener still serves (the app may call out while it stops).
      assertThat(RawHttp.get(outboundPort, "app", "/out").status()).isEqualTo(200);
      assertThat(drained).isNotDone();

      // The request in progress completes, told to close; then the drain ends.
      app.release.countDown();
      RawHttp.Response r = slow.read();
      assertThat(r.status()).isEqualTo(200);
      assertThat(r.header("connection")).isEqualToIgnoringCase("close");
      assertThat(slow.closedByPeer()).isTrue();
      assertThat(drained.get()).isTrue();
    }
    // A later configuration does not bind the drained listener again.
    ads.set(LDS, "l2", listeners());
    await(() -> ads.acked(LDS, "l2"));
    assertThatThrownBy(() -> new Socket("127.0.0.1", inboundPort).close())
        .isInstanceOf(ConnectException.class);
  }

  @Test
  void drainEndsAtItsPeriodWhenARequestOutlastsIt() throws Exception {
    try (RawHttp slow = new RawHttp(inboundPort)) {
      slow.write("GET /slow HTTP/1.1\r\nHost: app\r\n\r\n".getBytes());
      await(() -> app.slowArrived.get() == 1);
      assertThat(proxy.drain(Duration.ofMillis(200), true)).isFalse();
    }
  }

  private static boolean refused(int port) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
      return false;
    } catch (ConnectException e) {
      return true;
    } catch (java.io.IOException e) {
      return false;
    }
  }
}
