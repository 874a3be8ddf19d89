package dev.weft.proxy.xds;

import static dev.weft.proxy.testing.Conditions.await;
import static dev.weft.proxy.testing.TestAdsServer.CDS;
import static dev.weft.proxy.testing.TestAdsServer.EDS;
import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.proxy.config.RuntimeConfig;
import dev.weft.proxy.stats.ProxyStats;
import dev.weft.proxy.testing.TestAdsServer;
import dev.weft.proxy.testing.Xds;
import dev.weft.proxy.xds.resource.ConfigCompiler;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The xDS client's second line for issue #5: a new stream's first updates may not take all the
 * endpoints of a cluster for a bounded warm-up; a real removal still applies after it.
 */
class XdsClientTest {
  private static final String CLUSTER = "outbound|80|v1|podinfo.demo.svc.cluster.local";
  private static final InetSocketAddress A = new InetSocketAddress("127.0.1.2", 9898);
  private static final InetSocketAddress B = new InetSocketAddress("127.0.1.3", 9898);
  private static final Duration WARMING = Duration.ofSeconds(30);

  /** A clock the test moves. */
  static final class ManualClock extends Clock {
    private volatile Instant now = Instant.parse("2026-11-30T10:00:00Z");

    void advance(Duration d) {
      now = now.plus(d);
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  }

  private final ManualClock clock = new ManualClock();
  private TestAdsServer ads;
  private XdsClient client;
  private volatile RuntimeConfig applied;

  @AfterEach
  void stop() {
    if (client != null) {
      client.close();
    }
    if (ads != null) {
      ads.close();
    }
  }

  private void start(Clock clock, Duration warming) throws Exception {
    ads = TestAdsServer.start();
    client =
        XdsClient.builder()
            .server(new InetSocketAddress("127.0.0.1", ads.port()))
            .node(
                Node.newBuilder()
                    .setId(
                        "router~127.0.0.1~istio-ingressgateway.istio-system~istio-system.svc.cluster.local")
                    .build())
            .compiler(new ConfigCompiler(new ProxyStats()))
            .stats(new ProxyStats())
            .sink(
                config -> {
                  applied = config;
                  return Map.of();
                })
            .backoff(new Backoff(10, 50, 0, new SplittableRandom(1)))
            .clock(clock)
            .endpointWarming(warming)
            .build();
    client.start();
    ads.set(CDS, "c1", Xds.edsCluster(CLUSTER));
    ads.set(EDS, "e1", Xds.assignment(CLUSTER, A));
    await("the first endpoints", () -> addresses().equals(List.of("127.0.1.2")));
  }

  /** The control plane dies and a new one, knowing the same clusters, starts on its port. */
  private void restartControlPlane(String edsVersion, InetSocketAddress... endpoints)
      throws Exception {
    int port = ads.port();
    ads.close();
    await("the stream to fail", () -> !client.connected());
    ads = TestAdsServer.start(port);
    ads.set(CDS, "c1", Xds.edsCluster(CLUSTER));
    ads.set(EDS, edsVersion, Xds.assignment(CLUSTER, endpoints));
    await("the new control plane's endpoints to be ACKed", () -> ads.acked(EDS, edsVersion));
  }

  /** The endpoints of the cluster as the data plane has them (the last applied config). */
  private List<String> addresses() {
    List<String> out = new ArrayList<>();
    XdsSnapshot.Held held = client.snapshot().resources().getOrDefault(EDS, Map.of()).get(CLUSTER);
    if (held == null) {
      return out;
    }
    for (var locality : ((ClusterLoadAssignment) held.resource()).getEndpointsList()) {
      for (LbEndpoint e : locality.getLbEndpointsList()) {
        out.add(e.getEndpoint().getAddress().getSocketAddress().getAddress());
      }
    }
    return out;
  }

  /** The cluster's endpoints in the configuration the data plane was last given. */
  private List<String> dataPlaneEndpoints() {
    return applied.clusters().get(CLUSTER).endpoints().stream().map(Object::toString).toList();
  }

  @Test
  void aNewControlPlaneWithoutEndpointsYetDoesNotEmptyAClusterDuringWarmUp() throws Exception {
    start(clock, WARMING);
    restartControlPlane("e2");
    // ACKed, but the cluster keeps its endpoints, in the data plane too.
    assertThat(addresses()).containsExactly("127.0.1.2");
    assertThat(dataPlaneEndpoints()).containsExactly("127.0.1.2:9898");

    // Endpoints from the new control plane apply at once, as always.
    ads.set(EDS, "e3", Xds.assignment(CLUSTER, B));
    await("new endpoints", () -> addresses().equals(List.of("127.0.1.3")));
    // Emptied again within the warm-up: held back again.
    ads.set(EDS, "e4", Xds.assignment(CLUSTER));
    await("e4 ACKed", () -> ads.acked(EDS, "e4"));
    assertThat(addresses()).containsExactly("127.0.1.3");

    // Once the warm-up is over, the removal applies (here on the next update the proxy gets).
    clock.advance(WARMING);
    ads.set(CDS, "c2", Xds.edsCluster(CLUSTER));
    await("the held-back removal to apply", () -> addresses().isEmpty());
    assertThat(dataPlaneEndpoints()).isEmpty();

    // After the warm-up an update without endpoints applies at once.
    ads.set(EDS, "e5", Xds.assignment(CLUSTER, A));
    await("endpoints again", () -> addresses().equals(List.of("127.0.1.2")));
    ads.set(EDS, "e6", Xds.assignment(CLUSTER));
    await("the removal", () -> addresses().isEmpty());
  }

  @Test
  void endpointsAreHeldBackAtMostTheWarmUpHoweverOftenTheStreamReconnects() throws Exception {
    start(clock, WARMING);
    restartControlPlane("e2");
    assertThat(addresses()).containsExactly("127.0.1.2");

    // 20 s later the control plane restarts again (a new warm-up for the stream), still without
    // endpoints: the cluster's hold ends 30 s after it began all the same.
    clock.advance(Duration.ofSeconds(20));
    restartControlPlane("e3");
    assertThat(addresses()).containsExactly("127.0.1.2");
    clock.advance(Duration.ofSeconds(10));
    ads.set(CDS, "c2", Xds.edsCluster(CLUSTER));
    await("the held-back removal to apply", () -> addresses().isEmpty());
  }

  @Test
  void withoutWarmUpARemovalAppliesAtOnce() throws Exception {
    start(clock, Duration.ZERO);
    restartControlPlane("e2");
    await("the removal", () -> addresses().isEmpty());
  }

  @Test
  void theHeldBackRemovalAppliesWhenTheWarmUpEndsWithoutAnotherUpdate() throws Exception {
    Duration warming = Duration.ofMillis(200);
    start(clock, warming);
    restartControlPlane("e2");
    assertThat(addresses()).containsExactly("127.0.1.2");
    // No further update comes: the client's own timer applies it once the clock says so.
    clock.advance(warming);
    await("the held-back removal to apply", () -> addresses().isEmpty());
  }
}
