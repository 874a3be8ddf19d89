package dev.weft.proxy.router;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.google.protobuf.util.JsonFormat;
import dev.weft.proxy.config.Route;
import dev.weft.proxy.config.RouteAction;
import dev.weft.proxy.config.RouteTable;
import dev.weft.proxy.config.VirtualHost;
import dev.weft.proxy.stats.ProxyStats;
import dev.weft.proxy.xds.resource.ConfigCompiler;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

/**
 * Envoy's own route-table goldens (router_check_tool test data in {@code
 * shared/reference/envoy/router_check}) replayed against Weft's compiled route tables: for each
 * request, the same virtual host, cluster, rewritten path and host as Envoy.
 */
class RouterCheckConformanceTest {
  /** Route tables whose features Weft supports (runtime_fraction and cluster_header are not). */
  static final List<String> FILES =
      List.of(
          "TestRoutes",
          "Weighted.current",
          "HeaderMatchedRouting.current",
          "ContentType",
          "Redirect",
          "Redirect2",
          "Redirect3",
          "ComprehensiveRoutes");

  /**
   * Fields that do not change the routing decision and that Weft does not implement: virtual
   * clusters (stats only) and request headers with %FORMATTER% values.
   */
  static final Set<String> IGNORED = Set.of("virtual_clusters", "request_headers_to_add");

  static Path dir() {
    String shared = System.getProperty("weft.shared.dir");
    return shared == null ? null : Path.of(shared, "reference", "envoy", "router_check");
  }

  static Stream<String> files() {
    return FILES.stream();
  }

  @ParameterizedTest
  @MethodSource("files")
  void sameDecisionsAsEnvoy(String name) throws Exception {
    Path dir = dir();
    assumeTrue(dir != null && Files.isDirectory(dir), "shared reference data not available");
    Path yaml = dir.resolve(name + ".yaml");
    String base = name.replace(".current", "");
    Path golden = dir.resolve(base + ".golden.proto.json");
    assumeTrue(Files.exists(yaml) && Files.exists(golden), "missing " + name);

    Object doc = new Load(LoadSettings.builder().build()).loadFromString(Files.readString(yaml));
    ObjectMapper json = new ObjectMapper();
    RouteConfiguration.Builder rc = RouteConfiguration.newBuilder();
    JsonFormat.parser().merge(json.writeValueAsString(v2ToV3(doc)), rc);
    if (rc.getName().isEmpty()) {
      rc.setName(base);
    }
    RouteTable table = new ConfigCompiler(new ProxyStats()).routes(rc.build());

    JsonMapper lenient =
        JsonMapper.builder()
            .enable(JsonReadFeature.ALLOW_TRAILING_COMMA)
            .enable(JsonReadFeature.ALLOW_JAVA_COMMENTS)
            .build();
    JsonNode tests = lenient.readTree(golden.toFile()).get("tests");
    List<String> failures = new ArrayList<>();
    int checked = 0;
    for (JsonNode t : tests) {
      JsonNode in = t.get("input");
      JsonNode v = t.get("validate");
      String authority = in.path("authority").asText();
      String path = in.path("path").asText();
      String method = in.path("method").asText("GET");
      long random = in.path("random_value").asLong(0);
      HttpHeaders headers = new DefaultHttpHeaders();
      for (JsonNode h : in.path("additional_request_headers")) {
        headers.add(h.get("key").asText(), h.get("value").asText());
      }
      String scheme = in.path("ssl").asBoolean(false) ? "https" : "http";
      boolean internal = in.path("internal").asBoolean(false);
      VirtualHost vh = table.virtualHost(authority);
      String tls = vh == null ? null : Router.tlsRedirect(vh, scheme, internal, authority, path);
      Route route =
          vh == null || tls != null ? null : Router.match(vh, path, method, authority, headers);
      String location = tls != null ? tls : "";
      if (route != null && route.action() instanceof RouteAction.Redirect r) {
        location = Router.redirectLocation(route, r, scheme, authority, path);
      }
      String cluster =
          route == null ? "" : Router.cluster(route.action(), bound -> (int) (random % bound));
      if (cluster == null) {
        cluster = "";
      }
      String test = t.get("test_name").asText();
      // router_check_tool reports a direct response as a "redirect" to the request's own URL with
      // no virtual host; only the cluster ("") is comparable there.
      // The same holds for the virtual host of a redirect route.
      boolean direct =
          route != null
              && (route.action() instanceof RouteAction.DirectResponse
                  || route.action() instanceof RouteAction.Redirect);
      checked++;
      if (v.has("cluster_name") && !v.get("cluster_name").asText().equals(cluster)) {
        failures.add(test + ": cluster " + cluster + ", Envoy: " + v.get("cluster_name"));
      }
      if (v.has("virtual_host_name") && !direct) {
        String got = vh == null ? "" : vh.name();
        if (!v.get("virtual_host_name").asText().equals(got)) {
          failures.add(test + ": virtual host " + got + ", Envoy: " + v.get("virtual_host_name"));
        }
      }
      if (!direct && v.has("path_redirect") && !v.get("path_redirect").asText().equals(location)) {
        failures.add(test + ": redirect " + location + ", Envoy: " + v.get("path_redirect"));
      }
      boolean forwards =
          route != null && route.action() instanceof RouteAction.ToCluster
              || route != null && route.action() instanceof RouteAction.Weighted;
      if (v.has("path_rewrite") && forwards) {
        String got = route.upstreamPath(path);
        if (!v.get("path_rewrite").asText().equals(got)) {
          failures.add(test + ": path " + got + ", Envoy: " + v.get("path_rewrite"));
        }
      }
      if (v.has("host_rewrite") && forwards) {
        String got = route.hostRewrite() != null ? route.hostRewrite() : authority;
        if (!v.get("host_rewrite").asText().equals(got)) {
          failures.add(test + ": host " + got + ", Envoy: " + v.get("host_rewrite"));
        }
      }
    }
    assertThat(failures).isEmpty();
    assertThat(checked).isPositive();
  }

  /** Envoy v2 spellings in the older goldens: {@code host_rewrite} is v3's literal rewrite. */
  @SuppressWarnings("unchecked")
  static Object v2ToV3(Object node) {
    if (node instanceof Map<?, ?> m) {
      Map<String, Object> out = new LinkedHashMap<>();
      for (Map.Entry<?, ?> e : m.entrySet()) {
        String k = (String) e.getKey();
        if (IGNORED.contains(k)) {
          continue;
        }
        Object value = e.getValue();
        if (k.equals("timeout") && value instanceof Map<?, ?> d && d.get("seconds") != null) {
          value = d.get("seconds") + "s"; // proto3 JSON spells a Duration "30s"
        }
        out.put(k.equals("host_rewrite") ? "host_rewrite_literal" : k, v2ToV3(value));
      }
      return out;
    }
    if (node instanceof List<?> l) {
      List<Object> out = new ArrayList<>();
      for (Object o : l) {
        out.add(v2ToV3(o));
      }
      return out;
    }
    return node;
  }
}
