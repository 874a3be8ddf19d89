package dev.weft.controlplane.bench;

import static dev.weft.controlplane.bench.FilledMessages.bytes;
import static dev.weft.controlplane.bench.FilledMessages.concat;
import static dev.weft.controlplane.bench.FilledMessages.field;
import static dev.weft.controlplane.bench.FilledMessages.fill;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import dev.weft.controlplane.Fixtures;
import dev.weft.controlplane.gen.Generator;
import dev.weft.controlplane.gen.Generators;
import dev.weft.controlplane.gen.Proxy;
import dev.weft.controlplane.push.PushContext;
import dev.weft.controlplane.store.ConfigStore;
import dev.weft.xds.TypeUrls;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.Rds;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.ScopedRoutes;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The light decode's partial parsers ({@link ResourceFields}) read what the full decode reads from
 * the same bytes (the generated classes, {@link XdsScaleBenchmark.Sidecar#edsName} and its
 * siblings): for every cluster, load assignment and listener the control plane's generators make
 * for the benchmark's own mesh and sidecars and for the fixtures' meshes; for messages with every
 * field set (every wire type skipped); and for raw encodings with a field twice (merged), both
 * members of a {@code oneof}, and type URLs that only {@code Any.is}'s rule accepts.
 */
class ResourceFieldsTest {
  @TempDir Path dir;

  private static String light(Cluster c) throws InvalidProtocolBufferException {
    byte[] b = bytes(c);
    return ResourceFields.edsServiceName(b, 0, b.length);
  }

  /** Both decodes of an encoded cluster, asserted equal; the full one returned. */
  private static String both(byte[] cluster) throws InvalidProtocolBufferException {
    String full = XdsScaleBenchmark.Sidecar.edsName(Cluster.parseFrom(cluster));
    byte[] padded = concat(new byte[] {7, 7, 7}, cluster, new byte[] {9});
    assertThat(ResourceFields.edsServiceName(padded, 3, cluster.length))
        .as("light decode of a cluster")
        .isEqualTo(full);
    return full;
  }

  private static int bothEndpoints(byte[] cla) throws InvalidProtocolBufferException {
    ClusterLoadAssignment parsed = ClusterLoadAssignment.parseFrom(cla);
    int full = XdsScaleBenchmark.Sidecar.endpointCount(parsed);
    byte[] padded = concat(new byte[] {1, 2}, cla, new byte[] {3});
    ResourceFields.Endpoints light = ResourceFields.endpoints(padded, 2, cla.length);
    assertThat(light.count()).as("endpoints").isEqualTo(full);
    assertThat(light.clusterName()).isEqualTo(parsed.getClusterName());
    return full;
  }

  private static List<String> bothRoutes(byte[] listener) throws InvalidProtocolBufferException {
    List<String> full = XdsScaleBenchmark.Sidecar.routeNames(Listener.parseFrom(listener));
    byte[] padded = concat(new byte[] {5}, listener, new byte[] {6, 6});
    assertThat(ResourceFields.rdsRouteNames(padded, 1, listener.length))
        .as("route names")
        .isEqualTo(full);
    return full;
  }

  @Test
  void generatedResourcesReadAlikeFromTheBenchmarksMeshAndTheFixtures() throws Exception {
    // The benchmark's own mesh and sidecars; and the fixtures' meshes with Weft's test proxies.
    List<Proxy> sims = benchSidecars();
    int[] counts = check(benchMesh(dir.resolve("bench"), sims), sims);
    assertThat(counts[0]).as("EDS clusters").isGreaterThan(0);
    assertThat(counts[1]).as("endpoints").isGreaterThan(0);
    assertThat(counts[2]).as("RDS names").isGreaterThan(0);

    PushContext fixtures =
        PushContext.build(
            1,
            Fixtures.snapshot(
                dir.resolve("fixtures"),
                "podinfo.yaml",
                "mtls-destinations.yaml",
                "mesh-routes.yaml",
                "tcp-echo.yaml",
                "grpc-echo.yaml"),
            List.of(Fixtures.v1().workload(), Fixtures.v2().workload()));
    int[] more = check(fixtures, List.of(Fixtures.v1(), Fixtures.v2(), Fixtures.gateway()));
    assertThat(more[0]).isGreaterThan(0);
    assertThat(more[2]).isGreaterThan(0);
  }

  /**
   * The benchmark's own mesh ({@link XdsScaleBenchmark#config}: 3 Services with DestinationRules
   * and VirtualServices) with {@code sidecars} connected, in a store in {@code dir}.
   */
  static PushContext benchMesh(Path dir, List<Proxy> sidecars) throws Exception {
    ConfigStore store = ConfigStore.open(dir, Fixtures.CLOCK);
    assertThat(
            store
                .apply("bench", Fixtures.parse("bench.yaml", XdsScaleBenchmark.config(3, 90)))
                .errors())
        .isEmpty();
    return PushContext.build(1, store.snapshot(), sidecars.stream().map(Proxy::workload).toList());
  }

  /**
   * Four of the benchmark's simulated sidecars, two announcing mTLS, as the control plane sees
   * them.
   */
  static List<Proxy> benchSidecars() {
    List<Proxy> sims = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      sims.add(Proxy.fromNode(XdsScaleBenchmark.Sidecar.node(i, 3, i % 2 == 0)));
    }
    return sims;
  }

  /** Each generated CDS, EDS and LDS resource read both ways: EDS names, endpoints, RDS names. */
  private static int[] check(PushContext context, List<Proxy> proxies) throws Exception {
    int[] found = new int[3];
    for (Proxy proxy : proxies) {
      for (Generator g : Generators.ALL) {
        for (Message m : g.generate(context, proxy)) {
          byte[] b = bytes(m);
          switch (g.typeUrl()) {
            case TypeUrls.CLUSTER -> found[0] += both(b).isEmpty() ? 0 : 1;
            case TypeUrls.ENDPOINT -> found[1] += bothEndpoints(b);
            case TypeUrls.LISTENER -> found[2] += bothRoutes(b).size();
            default -> {}
          }
        }
      }
    }
    return found;
  }

  @Test
  void clustersWithEveryFieldSet() throws Exception {
    Cluster filled = fill(Cluster.newBuilder(), 2).build();
    Cluster eds =
        filled.toBuilder()
            .setName("outbound|80|v1|svc")
            .setType(Cluster.DiscoveryType.EDS)
            .setEdsClusterConfig(
                fill(Cluster.EdsClusterConfig.newBuilder(), 2).setServiceName("svc-eds"))
            .build();
    Cluster edsNoService =
        eds.toBuilder()
            .setEdsClusterConfig(eds.getEdsClusterConfig().toBuilder().clearServiceName())
            .build();
    Cluster staticCluster = eds.toBuilder().setType(Cluster.DiscoveryType.STATIC).build();
    Cluster custom =
        eds.toBuilder()
            .setClusterType(fill(Cluster.CustomClusterType.newBuilder(), 1)) // clears type
            .build();
    Cluster unknownType = eds.toBuilder().setTypeValue(99).build();

    assertThat(both(bytes(eds))).isEqualTo("svc-eds");
    assertThat(both(bytes(edsNoService))).isEqualTo("outbound|80|v1|svc");
    assertThat(both(bytes(staticCluster))).isEmpty();
    assertThat(both(bytes(custom))).isEmpty();
    assertThat(both(bytes(unknownType))).isEmpty();
    assertThat(both(bytes(filled))).isEqualTo(light(filled));

    // Each encoding after another: the later's fields win, eds_cluster_config merges, and a
    // cluster_type after a type clears it (and the reverse).
    List<Cluster> all = List.of(filled, eds, edsNoService, staticCluster, custom, unknownType);
    List<String> seen = new ArrayList<>();
    for (Cluster a : all) {
      for (Cluster b : all) {
        seen.add(both(concat(bytes(a), bytes(b))));
      }
    }
    assertThat(seen).contains("svc-eds", "outbound|80|v1|svc", "");
    Cluster onlyType = Cluster.newBuilder().setType(Cluster.DiscoveryType.EDS).build();
    assertThat(both(concat(bytes(custom), bytes(onlyType)))).isEqualTo("svc-eds");
  }

  @Test
  void loadAssignmentsWithEveryFieldSet() throws Exception {
    ClusterLoadAssignment filled = fill(ClusterLoadAssignment.newBuilder(), 3).build();
    assertThat(bothEndpoints(bytes(filled))).isEqualTo(4); // two localities of two
    LocalityLbEndpoints three =
        fill(LocalityLbEndpoints.newBuilder(), 2)
            .addLbEndpoints(fill(LbEndpoint.newBuilder(), 2))
            .build();
    ClusterLoadAssignment more =
        filled.toBuilder().setClusterName("outbound|80|v2|svc").addEndpoints(three).build();
    assertThat(bothEndpoints(bytes(more))).isEqualTo(7);
    assertThat(bothEndpoints(bytes(ClusterLoadAssignment.getDefaultInstance()))).isZero();
    assertThat(bothEndpoints(concat(bytes(filled), bytes(more)))).isEqualTo(11);
  }

  private static Filter hcm(HttpConnectionManager hcm) {
    return Filter.newBuilder()
        .setName("envoy.filters.network.http_connection_manager")
        .setTypedConfig(Any.pack(hcm))
        .build();
  }

  private static HttpConnectionManager rds(String name) {
    return fill(HttpConnectionManager.newBuilder(), 2)
        .setRds(fill(Rds.newBuilder(), 2).setRouteConfigName(name))
        .build();
  }

  @Test
  void listenersWithEveryFieldSet() throws Exception {
    Filter byRds = hcm(rds("80"));
    Filter inline =
        hcm(rds("x").toBuilder().setRouteConfig(fill(RouteConfiguration.newBuilder(), 1)).build());
    Filter scoped =
        hcm(rds("x").toBuilder().setScopedRoutes(fill(ScopedRoutes.newBuilder(), 1)).build());
    Filter tcp =
        Filter.newBuilder()
            .setTypedConfig(Any.pack(fill(TcpProxy.newBuilder(), 1).build()))
            .build();
    Filter discovered =
        byRds.toBuilder()
            .setConfigDiscovery(
                fill(io.envoyproxy.envoy.config.core.v3.ExtensionConfigSource.newBuilder(), 1))
            .build();
    Filter otherPrefix =
        byRds.toBuilder()
            .setTypedConfig(
                byRds.getTypedConfig().toBuilder()
                    .setTypeUrl(
                        "example.com/x/" + HttpConnectionManager.getDescriptor().getFullName()))
            .build();
    Filter noSlash =
        byRds.toBuilder()
            .setTypedConfig(
                byRds.getTypedConfig().toBuilder()
                    .setTypeUrl(HttpConnectionManager.getDescriptor().getFullName()))
            .build();
    Filter filledFilter = fill(Filter.newBuilder(), 2).build();
    Listener listener =
        fill(Listener.newBuilder(), 1)
            .clearFilterChains()
            .addFilterChains(
                fill(FilterChain.newBuilder(), 1)
                    .clearFilters()
                    .addFilters(byRds)
                    .addFilters(inline)
                    .addFilters(tcp)
                    .addFilters(hcm(rds("8080"))))
            .addFilterChains(
                FilterChain.newBuilder()
                    .addFilters(scoped)
                    .addFilters(discovered)
                    .addFilters(otherPrefix)
                    .addFilters(noSlash)
                    .addFilters(filledFilter)
                    .addFilters(byRds))
            .setDefaultFilterChain(FilterChain.newBuilder().addFilters(hcm(rds("default"))))
            .build();
    // The default chain is not read, by either decode (the benchmark's choice).
    assertThat(bothRoutes(bytes(listener))).containsExactly("80", "8080", "80", "80");
    assertThat(bothRoutes(bytes(fill(Listener.newBuilder(), 3).build()))).isEmpty();
    assertThat(bothRoutes(concat(bytes(listener), bytes(listener)))).hasSize(8);
  }

  /**
   * A filter, a connection manager or its {@code rds} encoded twice in one listener, as only a
   * hand-made encoding has them: parsers merge the two, the later one's fields winning.
   */
  @Test
  void fieldsTwiceMergeAsProtobufs() throws Exception {
    List<Filter> filters =
        List.of(
            hcm(rds("a")),
            hcm(rds("b")),
            hcm(rds("x").toBuilder().setRouteConfig(RouteConfiguration.newBuilder()).build()),
            hcm(HttpConnectionManager.newBuilder().setRds(Rds.getDefaultInstance()).build()),
            hcm(HttpConnectionManager.newBuilder().setStatPrefix("only").build()),
            Filter.newBuilder().setTypedConfig(Any.pack(TcpProxy.getDefaultInstance())).build(),
            Filter.newBuilder()
                .setConfigDiscovery(
                    io.envoyproxy.envoy.config.core.v3.ExtensionConfigSource.getDefaultInstance())
                .build(),
            Filter.newBuilder()
                .setTypedConfig(Any.newBuilder().setValue(bytesOf(rds("no-type-url"))).build())
                .build(),
            Filter.newBuilder()
                .setTypedConfig(
                    Any.newBuilder()
                        .setTypeUrl(
                            Any.pack(HttpConnectionManager.getDefaultInstance()).getTypeUrl())
                        .build())
                .build());
    List<String> seen = new ArrayList<>();
    for (Filter a : filters) {
      for (Filter b : filters) {
        // Two filters' encodings as one filter; two connection managers' as one typed_config.
        byte[] filter = concat(bytes(a), bytes(b));
        seen.addAll(bothRoutes(listenerWithFilter(filter)));
        if (a.hasTypedConfig() && b.hasTypedConfig()) {
          byte[] value =
              concat(
                  a.getTypedConfig().getValue().toByteArray(),
                  b.getTypedConfig().getValue().toByteArray());
          Filter merged =
              Filter.newBuilder()
                  .setTypedConfig(
                      Any.newBuilder()
                          .setTypeUrl(
                              Any.pack(HttpConnectionManager.getDefaultInstance()).getTypeUrl())
                          .setValue(com.google.protobuf.ByteString.copyFrom(value)))
                  .build();
          seen.addAll(bothRoutes(listenerWithFilter(bytes(merged))));
        }
      }
    }
    assertThat(seen).contains("a", "b", "", "no-type-url");
  }

  private static com.google.protobuf.ByteString bytesOf(Message m) {
    return m.toByteString();
  }

  /** A listener whose one filter chain holds one filter encoded as {@code filter}. */
  private static byte[] listenerWithFilter(byte[] filter) {
    byte[] chain = field(FilterChain.FILTERS_FIELD_NUMBER, filter);
    return concat(
        bytes(Listener.newBuilder().setName("l").build()),
        field(Listener.FILTER_CHAINS_FIELD_NUMBER, chain));
  }

  @Test
  void malformedBytesFailBothWays() {
    byte[] cluster =
        bytes(Cluster.newBuilder().setName("abcdef").setType(Cluster.DiscoveryType.EDS).build());
    byte[] truncated = java.util.Arrays.copyOf(cluster, 5); // inside the name
    assertThatThrownBy(() -> Cluster.parseFrom(truncated))
        .isInstanceOf(InvalidProtocolBufferException.class);
    assertThatThrownBy(() -> ResourceFields.edsServiceName(truncated, 0, truncated.length))
        .isInstanceOf(InvalidProtocolBufferException.class);
    byte[] listener =
        bytes(
            Listener.newBuilder()
                .addFilterChains(FilterChain.newBuilder().addFilters(hcm(rds("r"))))
                .build());
    byte[] cut = java.util.Arrays.copyOf(listener, listener.length - 3);
    assertThatThrownBy(() -> ResourceFields.rdsRouteNames(cut, 0, cut.length))
        .isInstanceOf(InvalidProtocolBufferException.class);
  }

  @Test
  void typeUrlsNameTypesAsAnyIs() {
    byte[] cluster = ResourceFields.fullName(Cluster.getDescriptor());
    for (String url :
        List.of(
            TypeUrls.CLUSTER,
            "type.googleapis.com/envoy.config.cluster.v3.Cluster",
            "example.com/a/b/envoy.config.cluster.v3.Cluster",
            "/envoy.config.cluster.v3.Cluster",
            "envoy.config.cluster.v3.Cluster",
            "type.googleapis.com/envoy.config.cluster.v3.ClusterX",
            "type.googleapis.com/",
            "",
            TypeUrls.LISTENER)) {
      Any any = Any.newBuilder().setTypeUrl(url).build();
      byte[] b = concat(new byte[] {0}, url.getBytes(java.nio.charset.StandardCharsets.UTF_8));
      assertThat(ResourceFields.typeUrlNames(b, 1, b.length - 1, cluster))
          .as(url)
          .isEqualTo(any.is(Cluster.class));
    }
  }
}
