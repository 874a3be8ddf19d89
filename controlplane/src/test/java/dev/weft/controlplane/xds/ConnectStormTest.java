package dev.weft.controlplane.xds;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import dev.weft.controlplane.ControlPlane;
import dev.weft.controlplane.Fixtures;
import dev.weft.xds.TypeUrls;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A connect storm in one JVM: many sidecars open their TLS xDS stream at the same moment against a
 * control plane that admits two handshakes at a time at a low rate. Every one must be admitted once
 * (no stream failed and was opened again), sync all four types, and the bound must have held.
 */
class ConnectStormTest {
  private static final int CLIENTS = 40;
  private static final int SLOTS = 2;

  @TempDir Path dir;

  private enum Type {
    CDS,
    EDS,
    LDS,
    RDS
  }

  @Test
  void concurrentTlsSidecarsAllSyncThroughTheAdmissionWithNoneFailing() throws Exception {
    ConnectionAdmission admission =
        ConnectionAdmission.builder().rate(40, 4).maxHandshakes(SLOTS).build();
    InetSocketAddress any = new InetSocketAddress("127.0.0.1", 0);
    List<AdsClient> clients = new ArrayList<>();
    ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();
    try (ControlPlane cp =
        ControlPlane.builder()
            .stateDir(dir)
            .xdsAddress(any)
            .apiAddress(any)
            .dashboardAddress(null)
            .debounce(Duration.ofMillis(20))
            .connectionAdmission(admission)
            .build()) {
      cp.start();
      assertThat(cp.store().apply("podinfo.yaml", Fixtures.fixtures("podinfo.yaml")).ok()).isTrue();
      List<Node> nodes = new ArrayList<>();
      for (int i = 0; i < CLIENTS; i++) {
        nodes.add(
            Fixtures.node(
                "sidecar~127.0.3." + (i + 2) + "~wl-" + i + ".demo~demo.svc.cluster.local",
                Map.of("app", "podinfo", "version", i % 2 == 0 ? "v1" : "v2"),
                "127.0.3." + (i + 2),
                "http:9898",
                "127.0.4." + (i + 2)));
      }
      // Every stream at once: each client's channel connects as it is made.
      for (Node n : nodes) {
        clients.add(AdsClient.forNode(cp, n));
      }
      List<Future<EnumSet<Type>>> synced = new ArrayList<>();
      for (AdsClient c : clients) {
        synced.add(threads.submit(() -> sync(c)));
      }
      for (Future<EnumSet<Type>> f : synced) {
        assertThat(f.get(120, TimeUnit.SECONDS)).containsExactlyInAnyOrder(Type.values());
      }
      for (AdsClient c : clients) {
        assertThat(c.closed).as("no stream failed").isNotDone();
      }
      // Each connection was admitted exactly once (none failed and came back), two at a time.
      assertThat(admission.admitted()).isEqualTo(CLIENTS);
      assertThat(admission.peakHandshaking()).isBetween(1, SLOTS);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (admission.handshaking() != 0) {
        assertThat(System.nanoTime()).as("every slot freed").isLessThan(deadline);
        Thread.sleep(5); // polling interval of a condition wait
      }
    } finally {
      threads.shutdownNow();
      for (AdsClient c : clients) {
        c.close();
      }
    }
  }

  /** Subscribes and ACKs as Envoy does until the client holds all four types. */
  private static EnumSet<Type> sync(AdsClient c) throws Exception {
    EnumSet<Type> have = EnumSet.noneOf(Type.class);
    c.request(TypeUrls.CLUSTER, List.of(), "", "");
    c.request(TypeUrls.LISTENER, List.of(), "", "");
    List<String> eds = List.of();
    List<String> rds = List.of();
    while (have.size() < 4) {
      DiscoveryResponse r = c.next();
      switch (r.getTypeUrl()) {
        case TypeUrls.CLUSTER -> {
          have.add(Type.CDS);
          c.ack(r, List.of());
          List<String> names = new ArrayList<>();
          for (Any a : r.getResourcesList()) {
            Cluster cluster = a.unpack(Cluster.class);
            if (cluster.getType() == Cluster.DiscoveryType.EDS) {
              names.add(cluster.getName());
            }
          }
          if (!names.equals(eds)) {
            eds = names;
            c.request(TypeUrls.ENDPOINT, eds, "", "");
          }
        }
        case TypeUrls.LISTENER -> {
          have.add(Type.LDS);
          c.ack(r, List.of());
          if (rds.isEmpty()) {
            rds = List.of("http_proxy");
            c.request(TypeUrls.ROUTE, rds, "", "");
          }
        }
        case TypeUrls.ENDPOINT -> {
          have.add(Type.EDS);
          c.ack(r, eds);
        }
        case TypeUrls.ROUTE -> {
          have.add(Type.RDS);
          c.ack(r, rds);
        }
        default -> {}
      }
    }
    return have;
  }
}
