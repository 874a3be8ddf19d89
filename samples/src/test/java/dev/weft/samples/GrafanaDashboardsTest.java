package dev.weft.samples;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The Grafana dashboards shipped in {@code samples} ({@code dev/weft/samples/grafana/}): valid JSON
 * in Grafana's dashboard model, with the panels of Istio's mesh, service and workload dashboards
 * over only the metrics Weft's proxies serve.
 */
class GrafanaDashboardsTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String DIR = "/dev/weft/samples/grafana/";

  /** What a Weft proxy serves on /stats/prometheus that the dashboards may query. */
  private static final Set<String> SERVED =
      Set.of(
          "istio_requests_total",
          "istio_request_duration_milliseconds_bucket",
          "istio_request_bytes_bucket",
          "istio_response_bytes_bucket");

  static JsonNode read(String name) throws Exception {
    try (InputStream in = GrafanaDashboardsTest.class.getResourceAsStream(DIR + name)) {
      assertThat(in).as(name).isNotNull();
      return JSON.readTree(in); // throws on invalid JSON
    }
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "istio-mesh-dashboard.json",
        "istio-service-dashboard.json",
        "istio-workload-dashboard.json"
      })
  void isAGrafanaDashboardOverTheMetricsWeftServes(String name) throws Exception {
    JsonNode d = read(name);
    assertThat(d.path("uid").asText()).isNotEmpty();
    assertThat(d.path("title").asText()).startsWith("Istio ");
    assertThat(d.path("schemaVersion").asInt()).isPositive();
    Set<String> variables = new HashSet<>();
    for (JsonNode v : d.path("templating").path("list")) {
      variables.add(v.path("name").asText());
    }
    assertThat(variables).contains("datasource");
    Set<Integer> ids = new HashSet<>();
    List<String> exprs = new ArrayList<>();
    for (JsonNode p : d.path("panels")) {
      assertThat(ids.add(p.path("id").asInt())).as("unique panel id %s", p.path("id")).isTrue();
      JsonNode g = p.path("gridPos");
      assertThat(g.path("x").asInt() + g.path("w").asInt()).isBetween(1, 24);
      assertThat(g.path("h").asInt()).isPositive();
      if (p.path("type").asText().equals("row")) {
        continue;
      }
      assertThat(p.path("datasource").path("uid").asText()).isEqualTo("${datasource}");
      assertThat(p.path("targets")).as("targets of %s", p.path("title")).isNotEmpty();
      for (JsonNode t : p.path("targets")) {
        exprs.add(t.path("expr").asText());
      }
    }
    for (String e : exprs) {
      assertThat(balanced(e)).as("balanced brackets in %s", e).isTrue();
      Matcher m = Pattern.compile("\\$(\\w+)").matcher(e);
      while (m.find()) {
        assertThat(variables).as("variable of %s", e).contains(m.group(1));
      }
      // every metric named is one Weft serves (label names sit inside braces or by (...))
      Matcher metric = Pattern.compile("(?<![\\w{,\"=~!])([a-z_]+_(?:total|bucket))\\b").matcher(e);
      while (metric.find()) {
        assertThat(SERVED).as("metric in %s", e).contains(metric.group(1));
      }
    }
    String all = String.join("\n", exprs);
    assertThat(all).contains("istio_requests_total").contains("response_code!~\"5.*\"");
    assertThat(all)
        .contains("histogram_quantile(0.5")
        .contains("histogram_quantile(0.9")
        .contains("histogram_quantile(0.99");
  }

  @Test
  void theServiceAndWorkloadDashboardsBreakTrafficDownBySourceAndDestination() throws Exception {
    String service = read("istio-service-dashboard.json").toString();
    assertThat(service)
        .contains("Incoming Requests By Source And Response Code")
        .contains("Incoming Request Duration By Source")
        .contains("by (source_workload, source_workload_namespace, response_code)");
    String workload = read("istio-workload-dashboard.json").toString();
    assertThat(workload)
        .contains("Outgoing Requests By Destination And Response Code")
        .contains("by (destination_service, response_code)");
    String mesh = read("istio-mesh-dashboard.json").toString();
    assertThat(mesh).contains("Global Request Volume").contains("Global Success Rate");
  }

  private static boolean balanced(String s) {
    int depth = 0;
    for (char c : s.toCharArray()) {
      if (c == '(' || c == '{' || c == '[') {
        depth++;
      } else if (c == ')' || c == '}' || c == ']') {
        depth--;
      }
      if (depth < 0) {
        return false;
      }
    }
    return depth == 0;
  }
}
