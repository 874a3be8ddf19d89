package dev.weft.proxy.xds;

import static dev.weft.proxy.testing.Conditions.await;
import static dev.weft.proxy.testing.TestDeltaAdsServer.resource;
import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.proxy.config.RouteTable;
import dev.weft.proxy.config.RuntimeConfig;
import dev.weft.proxy.stats.ProxyStats;
import dev.weft.proxy.testing.TestAdsServer;
import dev.weft.proxy.testing.TestDeltaAdsServer;
import dev.weft.proxy.testing.Xds;
import dev.weft.proxy.xds.resource.ConfigCompiler;
import dev.weft.xds.TypeUrls;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The xDS client over delta ADS (Envoy's incremental xDS) against a fake delta server on real gRPC:
 * wildcard and named subscriptions, VHDS virtual hosts assembled into their route configuration,
 * per-resource updates and removals, a NACK that leaves everything of the rejected response
 * unapplied, and a reconnect that tells the versions held.
 */
class XdsClientDeltaTest {
  private static final String VHDS_A = "http_proxy/a:80";
  private static final String VHDS_B = "http_proxy/b:80";
  private static final RouteConfiguration STUB =
      RouteConfiguration.newBuilder()
          .setName("http_proxy")
          .setVhds(io.envoyproxy.envoy.config.route.v3.Vhds.newBuilder().setConfigSource(Xds.ADS))
          .build();

  private TestDeltaAdsServer ads;
  private XdsClient client;
  private volatile RuntimeConfig applied = RuntimeConfig.EMPTY;

  @BeforeEach
  void start() throws Exception {
    ads = TestDeltaAdsServer.start();
    ads.put(
        TypeUrls.CLUSTER,
        resource("a", "c1", Xds.staticCluster("a", new InetSocketAddress("127.0.0.1", 1))));
    ads.put(
        TypeUrls.LISTENER, resource("127.0.0.1_15001", "l1", Xds.rdsListener(15001, "http_proxy")));
    ads.put(TypeUrls.ROUTE, resource("http_proxy", "r1", STUB));
    ads.put(
        TypeUrls.VIRTUAL_HOST,
        resource(VHDS_A, "v1", Xds.vhost("a:80", List.of("a:80"), Xds.prefixRoute("/", "a"))));
    client =
        XdsClient.builder()
            .server(new InetSocketAddress("127.0.0.1", ads.port()))
            .node(
                Node.newBuilder().setId("sidecar~127.0.1.2~c.demo~demo.svc.cluster.local").build())
            .compiler(new ConfigCompiler(new ProxyStats()))
            .stats(new ProxyStats())
            .sink(
                config -> {
                  applied = config;
                  return Map.of();
                })
            .backoff(new Backoff(10, 50, 0, new SplittableRandom(1)))
            .build();
    client.start();
    await("the first routes", () -> hosts().equals(List.of("a:80")));
  }

  @AfterEach
  void stop() {
    if (client != null) {
      client.close();
    }
    if (ads != null) {
      ads.close();
    }
  }

  /** The virtual host names of {@code http_proxy} in the data plane's configuration. */
  private List<String> hosts() {
    RouteTable t = applied.routes().get("http_proxy");
    return t == null
        ? List.of()
        : t.virtualHosts().stream().map(dev.weft.proxy.config.VirtualHost::name).sorted().toList();
  }

  private DeltaDiscoveryRequest firstRequest(String type) {
    return ads.requests().stream()
        .filter(r -> r.getTypeUrl().equals(type))
        .findFirst()
        .orElseThrow();
  }

  @Test
  void subscribesByWildcardThenByNameAndAssemblesVhdsVirtualHosts() throws Exception {
    assertThat(ads.requests().get(0).hasNode()).isTrue();
    // The proxy accepts gzip, so the responses it applied came compressed (issue #10).
    assertThat(ads.acceptEncodings()).hasSize(1);
    assertThat(ads.acceptEncodings().get(0).split(",")).contains("gzip");
    assertThat(firstRequest(TypeUrls.CLUSTER).getResourceNamesSubscribeList()).containsExactly("*");
    assertThat(firstRequest(TypeUrls.LISTENER).getResourceNamesSubscribeList())
        .containsExactly("*");
    assertThat(firstRequest(TypeUrls.VIRTUAL_HOST).getResourceNamesSubscribeList())
        .containsExactly("*");
    assertThat(firstRequest(TypeUrls.ROUTE).getResourceNamesSubscribeList())
        .containsExactly("http_proxy");
    // The config dump shows the whole route configuration, as Envoy's does with VHDS.
    await(
        "the snapshot",
        () ->
            client
                .snapshot()
                .resources()
                .getOrDefault(TypeUrls.ROUTE, Map.of())
                .containsKey("http_proxy"));
    RouteConfiguration dumped =
        (RouteConfiguration)
            client.snapshot().resources().get(TypeUrls.ROUTE).get("http_proxy").resource();
    assertThat(dumped.hasVhds()).isFalse();
    assertThat(dumped.getVirtualHostsList()).extracting(v -> v.getName()).containsExactly("a:80");
  }

  @Test
  void aVirtualHostIsAddedChangedAndRemovedAloneAndARejectedResponseChangesNothing()
      throws Exception {
    String added =
        ads.push(
            TypeUrls.VIRTUAL_HOST,
            List.of(
                resource(
                    VHDS_B, "v1", Xds.vhost("b:80", List.of("b:80"), Xds.prefixRoute("/", "a")))),
            List.of());
    await("b's ACK", () -> ads.acked(added));
    assertThat(hosts()).containsExactly("a:80", "b:80");

    // b changed, and c with a domain a has: Envoy rejects the route configuration, so neither.
    String rejected =
        ads.push(
            TypeUrls.VIRTUAL_HOST,
            List.of(
                resource(
                    VHDS_B,
                    "v2",
                    Xds.vhost("b:80", List.of("b:80", "b"), Xds.prefixRoute("/", "a"))),
                resource(
                    "http_proxy/c:80",
                    "v1",
                    Xds.vhost("c:80", List.of("a:80"), Xds.prefixRoute("/", "a")))),
            List.of());
    await("the NACK", () -> ads.nack(rejected) != null);
    assertThat(ads.nack(rejected).getErrorDetail().getMessage()).contains("a:80");
    assertThat(hosts()).containsExactly("a:80", "b:80");
    assertThat(applied.routes().get("http_proxy").virtualHost("b")).as("b's old version").isNull();
    // The NACK goes out before the client's snapshot records the error: wait for it.
    await(
        "the error in the client's snapshot",
        () -> client.snapshot().errors().containsKey(TypeUrls.VIRTUAL_HOST));

    String removed = ads.push(TypeUrls.VIRTUAL_HOST, List.of(), List.of(VHDS_B));
    await("the removal's ACK", () -> ads.acked(removed));
    assertThat(hosts()).containsExactly("a:80");
  }

  /**
   * A response larger than grpc-java's default limit on a received message (4 MiB, counted
   * uncompressed) is taken: a mesh of 2000 Services sends each sidecar about 4 MB of clusters
   * (docs/benchmarks.md, "Control plane at scale"), and Envoy's xDS client has no such limit.
   */
  @Test
  void aResponseOverFourMebibytesIsTaken() throws Exception {
    java.util.Random random = new java.util.Random(7);
    StringBuilder filler = new StringBuilder(6 << 20);
    while (filler.length() < 6 << 20) {
      filler.append(Long.toString(random.nextLong(), 36));
    }
    io.envoyproxy.envoy.config.cluster.v3.Cluster big =
        Xds.staticCluster("big", new InetSocketAddress("127.0.0.1", 2)).toBuilder()
            .setMetadata(
                io.envoyproxy.envoy.config.core.v3.Metadata.newBuilder()
                    .putFilterMetadata(
                        "test.filler",
                        com.google.protobuf.Struct.newBuilder()
                            .putFields(
                                "filler",
                                com.google.protobuf.Value.newBuilder()
                                    .setStringValue(filler.toString())
                                    .build())
                            .build()))
            .build();
    assertThat(big.getSerializedSize()).isGreaterThan(6 << 20);
    String added = ads.push(TypeUrls.CLUSTER, List.of(resource("big", "c1", big)), List.of());
    await("big", () -> applied.clusters().containsKey("big") && ads.acked(added));
  }

  @Test
  void removedClustersAreDroppedAndTheRestStays() throws Exception {
    String added =
        ads.push(
            TypeUrls.CLUSTER,
            List.of(
                resource("z", "c1", Xds.staticCluster("z", new InetSocketAddress("127.0.0.1", 2)))),
            List.of());
    await("z", () -> applied.clusters().containsKey("z") && ads.acked(added));
    assertThat(applied.clusters()).containsKeys("a", "z");
    String removed = ads.push(TypeUrls.CLUSTER, List.of(), List.of("z"));
    await("z's removal", () -> ads.acked(removed));
    assertThat(applied.clusters()).containsOnlyKeys("a");
  }

  @Test
  void aReconnectTellsTheVersionsHeldAndKeepsTheConfiguration() throws Exception {
    int before = ads.requests().size();
    ads.dropStreams();
    // Wait for the new stream's first request of each type (the ones with initial versions): the
    // old stream's last ACKs may still arrive after `before`, so "some ROUTE request since" is no
    // sign of the new stream (it failed so beside other builds).
    Map<String, Map<String, String>> initial = new java.util.HashMap<>();
    await(
        "the new stream's requests with initial versions of every type",
        () -> {
          List<DeltaDiscoveryRequest> all = ads.requests();
          for (DeltaDiscoveryRequest r : all.subList(before, all.size())) {
            if (r.getInitialResourceVersionsCount() > 0) {
              initial.put(r.getTypeUrl(), r.getInitialResourceVersionsMap());
            }
          }
          return initial
              .keySet()
              .containsAll(
                  List.of(
                      TypeUrls.CLUSTER, TypeUrls.LISTENER, TypeUrls.ROUTE, TypeUrls.VIRTUAL_HOST));
        });
    assertThat(initial.get(TypeUrls.CLUSTER)).containsExactly(Map.entry("a", "c1"));
    assertThat(initial.get(TypeUrls.LISTENER)).containsExactly(Map.entry("127.0.0.1_15001", "l1"));
    assertThat(initial.get(TypeUrls.ROUTE)).containsExactly(Map.entry("http_proxy", "r1"));
    assertThat(initial.get(TypeUrls.VIRTUAL_HOST)).containsExactly(Map.entry(VHDS_A, "v1"));
    assertThat(hosts()).containsExactly("a:80");
  }

  @Test
  void aServerWithoutDeltaIsSpokenToInStateOfTheWorld() throws Exception {
    try (TestAdsServer sotw = TestAdsServer.start()) {
      sotw.set(
          TestAdsServer.CDS, "1", Xds.staticCluster("s", new InetSocketAddress("127.0.0.1", 3)));
      sotw.set(TestAdsServer.LDS, "1");
      RuntimeConfig[] got = new RuntimeConfig[1];
      try (XdsClient c =
          XdsClient.builder()
              .server(new InetSocketAddress("127.0.0.1", sotw.port()))
              .node(
                  Node.newBuilder()
                      .setId("sidecar~127.0.1.3~d.demo~demo.svc.cluster.local")
                      .build())
              .compiler(new ConfigCompiler(new ProxyStats()))
              .stats(new ProxyStats())
              .sink(
                  config -> {
                    got[0] = config;
                    return Map.of();
                  })
              .backoff(new Backoff(10, 50, 0, new SplittableRandom(1)))
              .build()) {
        c.start();
        await("CDS over state of the world", () -> sotw.acked(TestAdsServer.CDS, "1"));
        await("the cluster applied", () -> got[0] != null && got[0].clusters().containsKey("s"));
      }
    }
  }
}
