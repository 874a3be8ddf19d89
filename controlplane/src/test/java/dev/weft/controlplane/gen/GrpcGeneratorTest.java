package dev.weft.controlplane.gen;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Message;
import dev.weft.controlplane.Fixtures;
import dev.weft.controlplane.push.PushContext;
import dev.weft.xds.TypeUrls;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** What proxyless gRPC clients get ({@link GrpcGenerator}), against golden files. */
class GrpcGeneratorTest {
  private static final String NAME = "podinfo-grpc.demo.svc.cluster.local:9000";

  @TempDir Path dir;

  private PushContext context() throws Exception {
    String yaml = Fixtures.text("grpc-proxyless.yaml").replace("TARGET_PORT", "9090");
    var store = dev.weft.controlplane.store.ConfigStore.open(dir, Fixtures.CLOCK);
    assertThat(store.apply("grpc.yaml", Fixtures.parse("grpc.yaml", yaml)).errors()).isEmpty();
    return PushContext.build(
        1,
        store.snapshot(),
        List.of(
            Proxy.fromNode(
                    Fixtures.node(
                        "sidecar~127.0.1.2~podinfo-grpc-v1.demo~demo.svc.cluster.local",
                        Map.of("app", "podinfo-grpc", "version", "v1"),
                        "127.0.1.2",
                        "grpc:9090",
                        "127.0.2.2"))
                .workload(),
            Proxy.fromNode(
                    Fixtures.node(
                        "sidecar~127.0.1.3~podinfo-grpc-v2.demo~demo.svc.cluster.local",
                        Map.of("app", "podinfo-grpc", "version", "v2"),
                        "127.0.1.3",
                        "grpc:9090",
                        "127.0.2.3"))
                .workload()));
  }

  @ParameterizedTest
  @ValueSource(strings = {"lds", "rds", "cds", "eds"})
  void matchesGoldenFile(String type) throws Exception {
    PushContext context = context();
    String typeUrl =
        switch (type) {
          case "lds" -> TypeUrls.LISTENER;
          case "rds" -> TypeUrls.ROUTE;
          case "cds" -> TypeUrls.CLUSTER;
          default -> TypeUrls.ENDPOINT;
        };
    List<String> names =
        type.equals("cds") || type.equals("eds")
            ? List.of(
                "outbound|9000|v1|podinfo-grpc.demo.svc.cluster.local",
                "outbound|9000|v2|podinfo-grpc.demo.svc.cluster.local")
            : List.of(NAME);
    String actual =
        GoldenTest.print(typeUrl, GrpcGenerator.generate(typeUrl, context, names, "demo"));
    String file = "grpc-proxyless-" + type + ".json";
    if (Boolean.getBoolean("weft.golden.update")) {
      Files.writeString(Path.of("src/test/resources/golden", file), actual);
      return;
    }
    try (InputStream in = GrpcGeneratorTest.class.getResourceAsStream("/golden/" + file)) {
      assertThat(in)
          .as("golden file " + file + " (run with -Dweft.golden.update=true)")
          .isNotNull();
      assertThat(actual).isEqualTo(new String(in.readAllBytes(), StandardCharsets.UTF_8));
    }
  }

  @Test
  void listenerIsAnApiListenerWithRdsAndFaultThenRouter() throws Exception {
    List<Message> lds = GrpcGenerator.generate(TypeUrls.LISTENER, context(), List.of(NAME), "demo");
    Listener l = (Listener) lds.get(0);
    assertThat(l.getName()).isEqualTo(NAME);
    assertThat(l.hasAddress()).isFalse();
    HttpConnectionManager hcm =
        l.getApiListener().getApiListener().unpack(HttpConnectionManager.class);
    assertThat(hcm.getRds().getRouteConfigName()).isEqualTo(NAME);
    assertThat(hcm.getHttpFiltersList())
        .extracting(f -> f.getName())
        .containsExactly("envoy.filters.http.fault", "envoy.filters.http.router");
  }

  @Test
  void shortNamesResolveAsIstio() throws Exception {
    PushContext context = context();
    for (String name :
        List.of(
            "podinfo-grpc:9000", "podinfo-grpc.demo:9000", "podinfo-grpc.demo.svc:9000", NAME)) {
      List<Message> lds = GrpcGenerator.generate(TypeUrls.LISTENER, context, List.of(name), "demo");
      assertThat(lds).as(name).hasSize(1);
      assertThat(((Listener) lds.get(0)).getName()).isEqualTo(name);
      RouteConfiguration rc =
          (RouteConfiguration)
              GrpcGenerator.generate(TypeUrls.ROUTE, context, List.of(name), "demo").get(0);
      assertThat(rc.getVirtualHosts(0).getDomainsList()).contains(name);
    }
    // A bare name needs the client's namespace; unknown hosts and ports give nothing.
    assertThat(GrpcGenerator.generate(TypeUrls.LISTENER, context, List.of("podinfo-grpc:9000"), ""))
        .isEmpty();
    assertThat(
            GrpcGenerator.generate(
                TypeUrls.LISTENER,
                context,
                List.of("nope.demo:9000", "podinfo-grpc.demo:9001", "garbage", ":1"),
                "demo"))
        .isEmpty();
  }

  @Test
  void routesCarryWeightsTimeoutsAsMaxStreamDurationAndTheFault() throws Exception {
    RouteConfiguration rc =
        (RouteConfiguration)
            GrpcGenerator.generate(TypeUrls.ROUTE, context(), List.of(NAME), "demo").get(0);
    List<Route> routes = rc.getVirtualHosts(0).getRoutesList();
    assertThat(routes)
        .extracting(Route::getName)
        .containsExactly("fault", "slow", "flaky-retried", "flaky-once", "canary-header", "split");
    Route slow = routes.get(1);
    assertThat(routes.get(3).getRoute().hasRetryPolicy()).isFalse();
    assertThat(slow.getRoute().hasTimeout()).isFalse();
    assertThat(slow.getRoute().getMaxStreamDuration().getMaxStreamDuration().getNanos())
        .isEqualTo(500_000_000);
    assertThat(routes.get(0).getTypedPerFilterConfigMap())
        .containsOnlyKeys("envoy.filters.http.fault");
    assertThat(routes.get(5).getRoute().getWeightedClusters().getClustersList())
        .extracting(c -> c.getWeight().getValue())
        .containsExactly(90, 10);
  }

  @Test
  void redirectsAndCorsAreLeftOutForGrpc() {
    Route redirect =
        Route.newBuilder()
            .setRedirect(io.envoyproxy.envoy.config.route.v3.RedirectAction.getDefaultInstance())
            .build();
    assertThat(GrpcGenerator.forGrpc(redirect)).isNull();
    Route cors =
        Route.newBuilder()
            .setRoute(io.envoyproxy.envoy.config.route.v3.RouteAction.newBuilder().setCluster("c"))
            .putTypedPerFilterConfig(
                "envoy.filters.http.cors", com.google.protobuf.Any.getDefaultInstance())
            .build();
    assertThat(GrpcGenerator.forGrpc(cors).getTypedPerFilterConfigMap()).isEmpty();
  }

  @Test
  void everyLocalityHasAWeight() throws Exception {
    ClusterLoadAssignment cla =
        (ClusterLoadAssignment)
            GrpcGenerator.generate(
                    TypeUrls.ENDPOINT,
                    context(),
                    List.of("outbound|9000||podinfo-grpc.demo.svc.cluster.local"),
                    "demo")
                .get(0);
    assertThat(cla.getEndpointsList()).hasSize(1);
    assertThat(cla.getEndpoints(0).getLoadBalancingWeight().getValue()).isEqualTo(2);
    assertThat(cla.getEndpoints(0).getLbEndpointsCount()).isEqualTo(2);
  }
}
