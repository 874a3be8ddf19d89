package dev.weft.controlplane.xds;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import dev.weft.controlplane.ControlPlane;
import dev.weft.controlplane.Fixtures;
import dev.weft.xds.IstioMtls;
import dev.weft.xds.TypeUrls;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Extension;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.Resource;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #10, CDS twice in a connect storm: registrations are debounced (up to Istio's 10 s in a
 * storm), and a stream's first answers came from the context built before the storm, so a sidecar
 * got every Service's clusters without the service accounts (SANs) of the workloads registered
 * since, then the same clusters again from the rebuild's push. A stream that registers while other
 * registrations wait now waits for the context that holds them and gets each cluster once.
 */
class RegistrationStormTest {
  private static final String PODINFO = "outbound|80||podinfo.demo.svc.cluster.local";
  private static final String PODINFO_SAN = "spiffe://cluster.local/ns/demo/sa/default";

  @TempDir Path dir;

  /** A node as a TLS-capable sidecar sends it (Envoy's TLS transport socket, TLS inspector). */
  private static Node withTls(Node node) {
    return node.toBuilder()
        .addExtensions(Extension.newBuilder().setName(IstioMtls.TLS_TRANSPORT))
        .addExtensions(Extension.newBuilder().setName(IstioMtls.TLS_INSPECTOR))
        .build();
  }

  private static Cluster cluster(DeltaDiscoveryResponse r, String name) throws Exception {
    for (Resource res : r.getResourcesList()) {
      if (res.getName().equals(name)) {
        return res.getResource().unpack(Cluster.class);
      }
    }
    return null;
  }

  private static Cluster cluster(DiscoveryResponse r, String name) throws Exception {
    for (Any any : r.getResourcesList()) {
      Cluster c = any.unpack(Cluster.class);
      if (c.getName().equals(name)) {
        return c;
      }
    }
    return null;
  }

  private static List<String> sans(Cluster c) throws Exception {
    UpstreamTlsContext tls =
        c.getTransportSocketMatches(0)
            .getTransportSocket()
            .getTypedConfig()
            .unpack(UpstreamTlsContext.class);
    @SuppressWarnings("deprecation")
    List<StringMatcher> m =
        tls.getCommonTlsContext()
            .getCombinedValidationContext()
            .getDefaultValidationContext()
            .getMatchSubjectAltNamesList();
    List<String> out = new ArrayList<>();
    m.forEach(s -> out.add(s.getExact()));
    return out;
  }

  /** A client of podinfo (B in both tests), in another namespace. */
  private static Node sleepNode() {
    return withTls(
        Fixtures.node(
            "sidecar~127.0.1.9~sleep.other~other.svc.cluster.local",
            Map.of("app", "sleep"),
            "127.0.1.9",
            "",
            ""));
  }

  /** A started control plane holding podinfo, its config's context current. */
  private ControlPlane controlPlane() throws Exception {
    InetSocketAddress any = new InetSocketAddress("127.0.0.1", 0);
    ControlPlane cp =
        ControlPlane.builder()
            .stateDir(dir)
            .xdsAddress(any)
            .apiAddress(any)
            .dashboardAddress(null)
            // Long enough that the two registrations below wait for one rebuild together.
            .debounce(Duration.ofSeconds(2))
            .build();
    cp.start();
    assertThat(cp.store().apply("podinfo.yaml", Fixtures.fixtures("podinfo.yaml")).ok()).isTrue();
    while (cp.pushContext().config().version() == 0) {
      Thread.sleep(20); // polls the condition: the applied config's context is current
    }
    return cp;
  }

  @Test
  void aStreamRegisteringDuringOthersRegistrationsGetsEachClusterOnceWithItsSans()
      throws Exception {
    try (ControlPlane cp = controlPlane()) {
      // A: podinfo's only workload (service account default); B: a client of it.
      DeltaAdsClient a = new DeltaAdsClient(cp, withTls(Fixtures.v1Node()));
      DeltaAdsClient b = new DeltaAdsClient(cp, sleepNode());
      try {
        a.subscribe(TypeUrls.CLUSTER, "*");
        while (cp.proxies().stream().noneMatch(p -> p.id().equals(Fixtures.V1_ID))) {
          Thread.sleep(5); // polls the condition: A registered (its first request handled)
        }
        b.subscribe(TypeUrls.CLUSTER, "*");

        // A's registration was the only one waiting: answered at once, from the context before
        // it, where podinfo has no workload and so no SAN; the rebuild then sends it again.
        Cluster first = cluster(a.nextAcked(TypeUrls.CLUSTER), PODINFO);
        assertThat(first).isNotNull();
        assertThat(sans(first)).isEmpty();

        // B registered while A's registration waited: its first answer is the rebuild's, with
        // podinfo's SAN (A's service account).
        Cluster bFirst = cluster(b.nextAcked(TypeUrls.CLUSTER), PODINFO);
        assertThat(bFirst).as("podinfo's cluster in B's first CDS").isNotNull();
        assertThat(sans(bFirst)).containsExactly(PODINFO_SAN);

        Cluster again = cluster(a.nextAcked(TypeUrls.CLUSTER), PODINFO);
        assertThat(again).isNotNull();
        assertThat(sans(again)).containsExactly(PODINFO_SAN);

        // Nothing more for B's clusters: the next thing on its stream is its listeners' answer
        // (a CDS push queued before it would come first; the stream's responses keep order).
        b.subscribe(TypeUrls.LISTENER, "*");
        assertThat(b.next().getTypeUrl()).isEqualTo(TypeUrls.LISTENER);
      } finally {
        a.close();
        b.close();
      }
    }
  }

  /** The same storm on state-of-the-world streams ({@link AdsService}). */
  @Test
  void aStateOfTheWorldStreamRegisteringDuringOthersRegistrationsGetsItsClustersOnce()
      throws Exception {
    try (ControlPlane cp = controlPlane()) {
      AdsClient a = AdsClient.forNode(cp, withTls(Fixtures.v1Node()));
      AdsClient b = AdsClient.forNode(cp, sleepNode());
      try {
        a.request(TypeUrls.CLUSTER, List.of(), "", "");
        while (cp.proxies().stream().noneMatch(p -> p.id().equals(Fixtures.V1_ID))) {
          Thread.sleep(5); // polls the condition: A registered (its first request handled)
        }
        b.request(TypeUrls.CLUSTER, List.of(), "", "");

        // A alone: answered at once, without podinfo's SAN; then again from the rebuild.
        DiscoveryResponse aFirst = a.next();
        assertThat(sans(cluster(aFirst, PODINFO))).isEmpty();
        a.ack(aFirst, List.of());

        // B registered while A's registration waited: its first CDS is the rebuild's.
        DiscoveryResponse bFirst = b.next();
        assertThat(bFirst.getTypeUrl()).isEqualTo(TypeUrls.CLUSTER);
        Cluster podinfo = cluster(bFirst, PODINFO);
        assertThat(podinfo).as("podinfo's cluster in B's first CDS").isNotNull();
        assertThat(sans(podinfo)).containsExactly(PODINFO_SAN);
        b.ack(bFirst, List.of());

        DiscoveryResponse aAgain = a.next();
        assertThat(aAgain.getTypeUrl()).isEqualTo(TypeUrls.CLUSTER);
        assertThat(sans(cluster(aAgain, PODINFO))).containsExactly(PODINFO_SAN);

        // Nothing more for B's clusters: its next response answers its listeners' request.
        b.request(TypeUrls.LISTENER, List.of(), "", "");
        assertThat(b.next().getTypeUrl()).isEqualTo(TypeUrls.LISTENER);
      } finally {
        a.close();
        b.close();
      }
    }
  }
}
