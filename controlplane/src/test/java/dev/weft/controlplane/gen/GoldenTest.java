package dev.weft.controlplane.gen;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import dev.weft.controlplane.Fixtures;
import dev.weft.controlplane.push.PushContext;
import dev.weft.xds.TypeUrls;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Golden files: the resources generated for the guide's canary (podinfo Service, DestinationRule,
 * Gateway, VirtualService 90/10, workloads v1 and v2, the ingress gateway), as protobuf JSON.
 * {@code -Dweft.golden.update=true} rewrites them.
 */
class GoldenTest {
  static final JsonFormat.TypeRegistry TYPES =
      JsonFormat.TypeRegistry.newBuilder()
          .add(Cluster.getDescriptor())
          .add(ClusterLoadAssignment.getDescriptor())
          .add(Listener.getDescriptor())
          .add(RouteConfiguration.getDescriptor())
          .add(HttpConnectionManager.getDescriptor())
          .add(Router.getDescriptor())
          .add(io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy.getDescriptor())
          .add(io.envoyproxy.envoy.extensions.filters.http.fault.v3.HTTPFault.getDescriptor())
          .add(io.envoyproxy.envoy.extensions.filters.http.cors.v3.Cors.getDescriptor())
          .add(io.envoyproxy.envoy.extensions.filters.http.cors.v3.CorsPolicy.getDescriptor())
          .add(io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions.getDescriptor())
          .add(io.envoyproxy.envoy.extensions.access_loggers.file.v3.FileAccessLog.getDescriptor())
          .add(io.envoyproxy.envoy.config.trace.v3.ZipkinConfig.getDescriptor())
          .add(io.envoyproxy.envoy.config.trace.v3.OpenTelemetryConfig.getDescriptor())
          .add(com.github.xds.type.v3.TypedStruct.getDescriptor())
          .build();

  @TempDir static Path dir;

  static Stream<Arguments> cases() {
    return Stream.of("sidecar-v1", "gateway", "tcp-sidecar-v1", "tcp-gateway")
        .flatMap(
            p ->
                Generators.ALL.stream().map(g -> Arguments.of(p, TypeUrls.shortName(g.typeUrl()))));
  }

  static PushContext context(Path tmp, String... fixtures) throws Exception {
    return PushContext.build(
        1,
        Fixtures.snapshot(tmp, fixtures),
        List.of(Fixtures.v1().workload(), Fixtures.v2().workload(), Fixtures.gateway().workload()));
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("cases")
  void matchesGoldenFile(String proxyName, String type) throws Exception {
    Path tmp = Files.createTempDirectory(dir, "store");
    // tcp-*: the guide's mesh plus a TCP service (fixtures/tcp-echo.yaml).
    PushContext context =
        proxyName.startsWith("tcp-")
            ? context(tmp, "podinfo.yaml", "tcp-echo.yaml")
            : context(tmp, "podinfo.yaml");
    Proxy proxy = proxyName.endsWith("gateway") ? Fixtures.gateway() : Fixtures.v1();
    Generator generator =
        Generators.ALL.stream()
            .filter(g -> TypeUrls.shortName(g.typeUrl()).equals(type))
            .findFirst()
            .orElseThrow();
    String actual = print(generator.typeUrl(), generator.generate(context, proxy));

    String file = proxyName + "-" + type.toLowerCase(java.util.Locale.ROOT) + ".json";
    if (Boolean.getBoolean("weft.golden.update")) {
      Path golden = Path.of("src/test/resources/golden", file);
      Files.createDirectories(golden.getParent());
      Files.writeString(golden, actual);
      return;
    }
    String expected;
    try (InputStream in = GoldenTest.class.getResourceAsStream("/golden/" + file)) {
      assertThat(in)
          .as("golden file " + file + " (run with -Dweft.golden.update=true)")
          .isNotNull();
      expected = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    assertThat(actual).isEqualTo(expected);
  }

  static String print(String typeUrl, List<Message> resources) throws Exception {
    DiscoveryResponse.Builder r = DiscoveryResponse.newBuilder().setTypeUrl(typeUrl);
    for (Message m : resources) {
      r.addResources(Any.pack(m));
    }
    return JsonFormat.printer().usingTypeRegistry(TYPES).print(r) + "\n";
  }
}
