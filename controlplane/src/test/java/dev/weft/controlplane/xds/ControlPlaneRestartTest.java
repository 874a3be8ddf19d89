package dev.weft.controlplane.xds;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import dev.weft.controlplane.ControlPlane;
import dev.weft.controlplane.Fixtures;
import dev.weft.xds.TypeUrls;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #5: a control plane that restarts after a crash must not tell the first proxy back (the
 * gateway) that the services' endpoints are gone because their sidecars have not reconnected yet.
 */
class ControlPlaneRestartTest {
  private static final String V1_SUBSET = "outbound|80|v1|podinfo.demo.svc.cluster.local";

  @TempDir Path dir;
  private final List<AutoCloseable> open = new ArrayList<>();

  @AfterEach
  void stop() throws Exception {
    for (AutoCloseable c : open.reversed()) {
      c.close();
    }
  }

  private ControlPlane start(Path state, Duration grace) throws Exception {
    ControlPlane cp =
        Fixtures.startWithPodinfo(Fixtures.controlPlane(state).workloadGracePeriod(grace));
    open.add(cp);
    return cp;
  }

  private AdsClient connect(ControlPlane cp, io.envoyproxy.envoy.config.core.v3.Node node) {
    AdsClient c = AdsClient.forNode(cp, node);
    open.add(c);
    return c;
  }

  /**
   * The first control plane with the v1 sidecar connected, then "killed": its registry file is
   * taken as it is (a SIGKILL writes nothing more) into a second state directory.
   */
  private Path crashedStateWithV1Registered() throws Exception {
    Path first = dir.resolve("first");
    ControlPlane cp = start(first, Duration.ofSeconds(40));
    AdsClient v1 = connect(cp, Fixtures.v1Node());
    v1.request(TypeUrls.CLUSTER, List.of(), "", "");
    v1.next();
    Path registry = first.resolve(ControlPlane.REGISTRY_FILE);
    await(
        "the v1 sidecar in the registry file",
        () -> {
          try {
            return Files.exists(registry) && Files.readString(registry).contains("podinfo-v1");
          } catch (java.io.IOException e) {
            return false;
          }
        });
    Path second = dir.resolve("second");
    Files.createDirectories(second.resolve("registry"));
    Files.copy(registry, second.resolve(ControlPlane.REGISTRY_FILE));
    return second;
  }

  /** EDS for every outbound cluster, as a gateway asks for it after CDS. */
  private static List<String> subscribeEndpoints(AdsClient gateway) throws Exception {
    gateway.request(TypeUrls.CLUSTER, List.of(), "", "");
    DiscoveryResponse cds = gateway.next();
    List<String> names = new ArrayList<>();
    for (Any a : cds.getResourcesList()) {
      String name = a.unpack(Cluster.class).getName();
      if (name.startsWith("outbound|")) {
        names.add(name);
      }
    }
    gateway.ack(cds, List.of());
    gateway.request(TypeUrls.ENDPOINT, names, "", "");
    return names;
  }

  @Test
  void theGatewayBackFirstGetsTheEndpointsOfSidecarsNotReconnectedYet() throws Exception {
    Path state = crashedStateWithV1Registered();
    ControlPlane restarted = start(state, Duration.ofSeconds(40));
    AdsClient gateway = connect(restarted, Fixtures.gatewayNode());
    List<String> names = subscribeEndpoints(gateway);

    DiscoveryResponse eds = gateway.next();
    assertThat(eds.getTypeUrl()).isEqualTo(TypeUrls.ENDPOINT);
    assertThat(addresses(eds, V1_SUBSET)).containsExactly("127.0.1.2");
    gateway.ack(eds, names);
    gateway.request(TypeUrls.ROUTE, List.of("http.8080"), "", "");
    DiscoveryResponse rds = gateway.next();
    assertThat(rds.getTypeUrl()).isEqualTo(TypeUrls.ROUTE);
    gateway.ack(rds, List.of("http.8080"));

    // The sidecar reconnects: its workload is confirmed, the endpoints do not change.
    AdsClient v1 = connect(restarted, Fixtures.v1Node());
    v1.request(TypeUrls.CLUSTER, List.of(), "", "");
    v1.next();
    await(
        "the v1 sidecar to reconnect",
        () -> restarted.proxies().stream().anyMatch(p -> p.id().equals(Fixtures.V1_ID)));
    // A route change: had the endpoints changed, EDS would come first (Envoy's order).
    String allV2 =
        """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: podinfo, namespace: demo}
        spec:
          hosts: ["*"]
          gateways: ["podinfo-gw"]
          http:
          - route:
            - destination: {host: podinfo.demo.svc.cluster.local, subset: v2}
        """;
    assertThat(restarted.store().apply("all-v2.yaml", Fixtures.parse("all-v2.yaml", allV2)).ok())
        .isTrue();
    assertThat(gateway.next().getTypeUrl()).isEqualTo(TypeUrls.ROUTE);
  }

  @Test
  void aWorkloadWhoseProxyStaysAwayIsRemovedAfterTheGracePeriod() throws Exception {
    Path state = crashedStateWithV1Registered();
    ControlPlane restarted = start(state, Duration.ofMillis(200));
    AdsClient gateway = connect(restarted, Fixtures.gatewayNode());
    List<String> names = subscribeEndpoints(gateway);

    DiscoveryResponse eds = gateway.next();
    while (!addresses(eds, V1_SUBSET).isEmpty()) {
      gateway.ack(eds, names);
      eds = gateway.next(); // the push after the grace period
    }
    assertThat(eds.getTypeUrl()).isEqualTo(TypeUrls.ENDPOINT);
    Path file = state.resolve(ControlPlane.REGISTRY_FILE);
    await( // the control plane coalesces its registry writes (a second)
        "the registry file without the v1 sidecar",
        () -> {
          try {
            return !Files.readString(file).contains("podinfo-v1");
          } catch (java.io.IOException e) {
            return false;
          }
        });
  }

  private static List<String> addresses(DiscoveryResponse eds, String cluster) throws Exception {
    List<String> out = new ArrayList<>();
    for (Any a : eds.getResourcesList()) {
      ClusterLoadAssignment cla = a.unpack(ClusterLoadAssignment.class);
      if (cla.getClusterName().equals(cluster)) {
        for (var locality : cla.getEndpointsList()) {
          for (LbEndpoint e : locality.getLbEndpointsList()) {
            out.add(e.getEndpoint().getAddress().getSocketAddress().getAddress());
          }
        }
      }
    }
    return out;
  }

  private static void await(String what, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!condition.getAsBoolean()) {
      assertThat(System.nanoTime()).as("waiting for " + what).isLessThan(deadline);
      Thread.sleep(5); // polling interval of a condition wait, not synchronisation
    }
  }
}
