package dev.weft.controlplane.xds;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.api.ResourceKey;
import dev.weft.api.ResourceKind;
import dev.weft.controlplane.ControlPlane;
import dev.weft.controlplane.Fixtures;
import dev.weft.xds.TypeUrls;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.Resource;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Delta ADS over real gRPC (TLS, workload token) against a real control plane: a sidecar subscribes
 * as Weft's proxy does; a VirtualService change delivers one virtual host, a removed Service
 * removed resources, a reconnect with the versions held nothing.
 *
 * <p>The sidecar is a client in its own namespace that no Service selects, so that its connecting
 * changes nothing it is sent (no endpoints, no service accounts): every response is the test's.
 */
class DeltaAdsServiceTest {
  private static final String CLIENT_ID = "sidecar~127.0.1.9~sleep.other~other.svc.cluster.local";
  private static final String PODINFO_VHOST = "http_proxy/podinfo.demo.svc.cluster.local:80";

  @TempDir Path dir;
  ControlPlane cp;
  final List<DeltaAdsClient> clients = new ArrayList<>();

  @BeforeEach
  void start() throws Exception {
    cp = Fixtures.startWithPodinfo(Fixtures.controlPlane(dir));
  }

  @AfterEach
  void stop() throws Exception {
    for (DeltaAdsClient c : clients) {
      c.close();
    }
    cp.close();
  }

  private static Node clientNode() {
    return Fixtures.node(CLIENT_ID, Map.of("app", "sleep"), "127.0.1.9", "", "");
  }

  private DeltaAdsClient connect() {
    DeltaAdsClient c = new DeltaAdsClient(cp, clientNode());
    clients.add(c);
    return c;
  }

  /** Subscribes as Weft's proxy does and takes (and ACKs) the first responses. */
  private DeltaAdsClient synced() throws Exception {
    DeltaAdsClient c = connect();
    c.subscribe(TypeUrls.CLUSTER, "*");
    c.nextAcked(TypeUrls.CLUSTER);
    c.subscribe(TypeUrls.LISTENER, "*");
    c.nextAcked(TypeUrls.LISTENER);
    c.subscribe(TypeUrls.VIRTUAL_HOST, "*");
    c.nextAcked(TypeUrls.VIRTUAL_HOST);
    c.subscribe(TypeUrls.ROUTE, "http_proxy");
    c.nextAcked(TypeUrls.ROUTE);
    return c;
  }

  private long apply(String name, String yaml) throws Exception {
    var outcome = cp.store().apply(name, Fixtures.parse(name, yaml));
    assertThat(outcome.ok()).as("%s", outcome).isTrue();
    return Long.parseLong(outcome.results().get(0).resourceVersion());
  }

  private static final String MESH_VS =
      """
      apiVersion: networking.istio.io/v1
      kind: VirtualService
      metadata: {name: podinfo-mesh, namespace: demo}
      spec:
        hosts: [podinfo.demo.svc.cluster.local]
        http:
        - route:
          - destination: {host: podinfo.demo.svc.cluster.local, subset: %s}
      """;

  private static final String OTHER =
      """
      apiVersion: v1
      kind: Service
      metadata: {name: other, namespace: demo}
      spec:
        selector: {app: other}
        ports:
        - {name: http, port: 80, targetPort: 8080}
      """;

  /**
   * Issue #10: a sidecar's available clusters are exactly the generator's (the scope's outbound
   * ones and its own inbound ones), the scope's part one map shared by the proxies of the scope,
   * whose first answers all carry that map's one batch of resources.
   */
  @Test
  void aProxysClustersAreTheGeneratorsAndTheScopesPartIsSharedWithItsBatch() throws Exception {
    // The push context of the applied config (rebuilt after the apply, on the executor).
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    long applied = cp.store().snapshot().version();
    while (cp.pushContext().config().version() < applied) {
      assertThat(System.nanoTime()).as("push of generation " + applied).isLessThan(deadline);
      Thread.sleep(5); // polling interval of a condition wait
    }
    dev.weft.controlplane.push.PushContext context = cp.pushContext();
    List<dev.weft.controlplane.gen.Proxy> proxies = new ArrayList<>();
    for (int i = 1; i <= 2; i++) {
      proxies.add(
          dev.weft.controlplane.gen.Proxy.fromNode(
              Fixtures.node(
                  "sidecar~127.0.1." + i + "~podinfo-" + i + ".demo~demo.svc.cluster.local",
                  Map.of("app", "podinfo"),
                  "127.0.1." + i,
                  "http:9898",
                  "127.0.1." + i + ":9898")));
    }
    List<Map<String, DeltaStream.Versioned>> maps = new ArrayList<>();
    for (dev.weft.controlplane.gen.Proxy p : proxies) {
      Map<String, DeltaStream.Versioned> available =
          DeltaAdsService.available(context, p, TypeUrls.CLUSTER);
      Map<String, String> expected = new HashMap<>();
      for (com.google.protobuf.Message m :
          dev.weft.controlplane.gen.Generators.of(TypeUrls.CLUSTER).generate(context, p)) {
        expected.put(
            dev.weft.controlplane.gen.Generators.name(m),
            DeltaStream.version(context.resources().encode(m).digest()));
      }
      Map<String, String> got = new HashMap<>();
      available.forEach((name, v) -> got.put(name, v.version()));
      assertThat(got).isEqualTo(expected).containsKey("inbound|9898||");
      maps.add(available);
    }
    assertThat(maps.get(0)).isInstanceOf(OverlayMap.class);
    var shared = ((OverlayMap<DeltaStream.Versioned>) maps.get(0)).shared();
    assertThat(((OverlayMap<DeltaStream.Versioned>) maps.get(1)).shared()).isSameAs(shared);
    assertThat(shared).doesNotContainKey("inbound|9898||");
    DeltaStream.Batches batches = DeltaAdsService.batches(context);
    assertThat(batches.of(shared)).isSameAs(batches.of(shared));
    assertThat(batches.of(shared).resources()).containsExactlyElementsOf(shared.values());

    List<DeltaResponse> first = new ArrayList<>();
    for (Map<String, DeltaStream.Versioned> available : maps) {
      DeltaStream stream = new DeltaStream(new SubscriptionNames());
      stream.request(
          io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest.newBuilder()
              .setTypeUrl(TypeUrls.CLUSTER)
              .addResourceNamesSubscribe("*")
              .build());
      DeltaResponse r = stream.respond(TypeUrls.CLUSTER, available, "1", 1, false, null, batches);
      assertThat(r.resources()).containsExactlyInAnyOrderElementsOf(available.values());
      first.add(r);
    }
    assertThat(first.get(0).toProto().getResourcesList())
        .extracting(Resource::getName)
        .containsExactlyInAnyOrderElementsOf(maps.get(0).keySet());
  }

  @Test
  void routeConfigurationsComeWithVhdsAndEachVirtualHostIsAResource() throws Exception {
    DeltaAdsClient c = connect();
    c.subscribe(TypeUrls.VIRTUAL_HOST, "*");
    DeltaDiscoveryResponse vhds = c.nextAcked(TypeUrls.VIRTUAL_HOST);
    c.subscribe(TypeUrls.ROUTE, "http_proxy");
    DeltaDiscoveryResponse rds = c.nextAcked(TypeUrls.ROUTE);

    assertThat(rds.getResourcesList()).extracting(Resource::getName).containsExactly("http_proxy");
    RouteConfiguration rc = rds.getResources(0).getResource().unpack(RouteConfiguration.class);
    assertThat(rc.getVirtualHostsList()).isEmpty();
    assertThat(rc.getVhds().getConfigSource().hasAds()).isTrue();

    Map<String, VirtualHost> hosts = new HashMap<>();
    for (Resource r : vhds.getResourcesList()) {
      VirtualHost vh = r.getResource().unpack(VirtualHost.class);
      assertThat(r.getName()).isEqualTo("http_proxy/" + vh.getName());
      assertThat(r.getVersion()).hasSize(11);
      hosts.put(r.getName(), vh);
    }
    assertThat(hosts).containsKey(PODINFO_VHOST).containsKey("http_proxy/allow_any");
    assertThat(hosts.get(PODINFO_VHOST).getDomainsList())
        .contains("podinfo.demo.svc.cluster.local:80");
  }

  @Test
  void aVirtualServiceChangeSendsExactlyTheChangedVirtualHost() throws Exception {
    DeltaAdsClient c = synced();
    long generation = apply("vs.yaml", MESH_VS.formatted("v2"));

    DeltaDiscoveryResponse change = c.next();
    assertThat(change.getTypeUrl())
        .as("nothing before it in push order (CDS, EDS, LDS, RDS) changed")
        .isEqualTo(TypeUrls.VIRTUAL_HOST);
    assertThat(change.getResourcesList())
        .extracting(Resource::getName)
        .containsExactly(PODINFO_VHOST);
    assertThat(change.getRemovedResourcesList()).isEmpty();
    assertThat(change.getSystemVersionInfo()).isEqualTo(Long.toString(generation));
    assertThat(change.getResources(0).getResource().unpack(VirtualHost.class).toString())
        .contains("outbound|80|v2|podinfo.demo.svc.cluster.local");
    c.ack(change);

    SyncReport report = cp.awaitSync(generation, Duration.ofSeconds(10));
    assertThat(report.done()).as("%s", report).isTrue();
    assertThat(report.proxies()).hasSize(1);
    assertThat(report.proxies().get(0).types()).containsOnlyKeys("VHDS");
    assertThat(c.queued()).as("no other response for the change").isZero();
  }

  @Test
  void aRemovedServiceIsInRemovedResources() throws Exception {
    DeltaAdsClient c = synced();
    apply("other.yaml", OTHER);
    DeltaDiscoveryResponse cds = c.nextAcked(TypeUrls.CLUSTER);
    assertThat(cds.getResourcesList())
        .extracting(Resource::getName)
        .containsExactly("outbound|80||other.demo.svc.cluster.local");
    DeltaDiscoveryResponse vhds = c.nextAcked(TypeUrls.VIRTUAL_HOST);
    assertThat(vhds.getResourcesList())
        .extracting(Resource::getName)
        .contains("http_proxy/other.demo.svc.cluster.local:80");

    var deleted =
        cp.store()
            .delete("other.yaml", List.of(new ResourceKey(ResourceKind.SERVICE, "demo", "other")));
    assertThat(deleted.ok()).isTrue();
    DeltaDiscoveryResponse cdsGone = c.nextAcked(TypeUrls.CLUSTER);
    assertThat(cdsGone.getResourcesList()).isEmpty();
    assertThat(cdsGone.getRemovedResourcesList())
        .containsExactly("outbound|80||other.demo.svc.cluster.local");
    DeltaDiscoveryResponse vhdsGone = c.nextAcked(TypeUrls.VIRTUAL_HOST);
    assertThat(vhdsGone.getRemovedResourcesList())
        .containsExactly("http_proxy/other.demo.svc.cluster.local:80");
    assertThat(c.held.get(TypeUrls.VIRTUAL_HOST))
        .doesNotContainKey("http_proxy/other.demo.svc.cluster.local:80");
  }

  @Test
  void aReconnectWithTheVersionsItHoldsReceivesNothingNew() throws Exception {
    DeltaAdsClient first = synced();
    Map<String, Map<String, String>> held = first.held;
    assertThat(held.get(TypeUrls.CLUSTER)).isNotEmpty();
    first.close();
    clients.remove(first);

    DeltaAdsClient again = connect();
    again.subscribe(TypeUrls.CLUSTER, List.of("*"), held.get(TypeUrls.CLUSTER));
    again.subscribe(TypeUrls.LISTENER, List.of("*"), held.get(TypeUrls.LISTENER));
    again.subscribe(TypeUrls.VIRTUAL_HOST, List.of("*"), held.get(TypeUrls.VIRTUAL_HOST));
    again.subscribe(TypeUrls.ROUTE, List.of("http_proxy"), held.get(TypeUrls.ROUTE));
    // A new subscription after them. The types it holds are answered empty (no resource, no
    // removal: their ACKs are the sync with this control plane), the new one with its resource.
    again.subscribe(TypeUrls.ENDPOINT, "outbound|80||podinfo.demo.svc.cluster.local");
    DeltaDiscoveryResponse r = again.next();
    while (!r.getTypeUrl().equals(TypeUrls.ENDPOINT)) {
      assertThat(r.getResourcesList()).as("%s", r.getTypeUrl()).isEmpty();
      assertThat(r.getRemovedResourcesList()).as("%s", r.getTypeUrl()).isEmpty();
      r = again.next();
    }
    assertThat(r.getResourcesList())
        .extracting(Resource::getName)
        .containsExactly("outbound|80||podinfo.demo.svc.cluster.local");

    // One it holds at an older version, and one it holds that is gone: only those.
    DeltaAdsClient third = connect();
    Map<String, String> stale = new HashMap<>(held.get(TypeUrls.VIRTUAL_HOST));
    stale.put(PODINFO_VHOST, "0000000000000000");
    stale.put("http_proxy/gone.demo.svc.cluster.local:80", "0000000000000000");
    third.subscribe(TypeUrls.VIRTUAL_HOST, List.of("*"), stale);
    DeltaDiscoveryResponse vhds = third.next();
    assertThat(vhds.getResourcesList())
        .extracting(Resource::getName)
        .containsExactly(PODINFO_VHOST);
    assertThat(vhds.getRemovedResourcesList())
        .containsExactly("http_proxy/gone.demo.svc.cluster.local:80");
  }

  @Test
  void aNackIsShownAndFailsTheWaitAndALaterChangeIsStillSent() throws Exception {
    DeltaAdsClient c = synced();
    long rejectedGeneration = apply("vs.yaml", MESH_VS.formatted("v2"));
    DeltaDiscoveryResponse rejected = c.next();
    assertThat(rejected.getTypeUrl()).isEqualTo(TypeUrls.VIRTUAL_HOST);
    c.nack(rejected, "virtual host podinfo: no");

    SyncReport failed = cp.awaitSync(rejectedGeneration, Duration.ofSeconds(10));
    assertThat(failed.failed()).as("%s", failed).isTrue();
    ProxyStatus status =
        cp.proxies().stream().filter(p -> p.id().equals(CLIENT_ID)).findFirst().orElseThrow();
    assertThat(status.types().get("VHDS").nack().message()).isEqualTo("virtual host podinfo: no");
    assertThat(status.types().get("VHDS").nacked()).isTrue();

    long later = apply("vs.yaml", MESH_VS.formatted("v1"));
    DeltaDiscoveryResponse next = c.next();
    assertThat(next.getTypeUrl()).isEqualTo(TypeUrls.VIRTUAL_HOST);
    assertThat(next.getResourcesList())
        .extracting(Resource::getName)
        .containsExactly(PODINFO_VHOST);
    c.ack(next);
    assertThat(cp.awaitSync(later, Duration.ofSeconds(10)).done()).isTrue();
    status = cp.proxies().stream().filter(p -> p.id().equals(CLIENT_ID)).findFirst().orElseThrow();
    assertThat(status.types().get("VHDS").nack()).isNull();
    assertThat(status.types().get("VHDS").synced()).isTrue();
  }
}
