package dev.weft.controlplane.dashboard;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.weft.controlplane.ControlPlane;
import dev.weft.controlplane.Fixtures;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The dashboard's {@code /api/v1/analysis} and the service page's messages: a real control plane,
 * configuration applied over its API, the dashboard read over HTTP.
 */
class DashboardAnalysisTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String V3 =
      """
      apiVersion: networking.istio.io/v1
      kind: VirtualService
      metadata:
        name: podinfo
        namespace: demo
      spec:
        hosts: ["*"]
        gateways: ["podinfo-gw"]
        http:
        - route:
          - destination: {host: podinfo.demo.svc.cluster.local, subset: v3}
      """;
  private static final String MISSING_SUBSET =
      "Error [IST0101] (VirtualService demo/podinfo) Referenced host+subset in destinationrule"
          + " not found: \"podinfo.demo.svc.cluster.local+v3\"";

  @TempDir Path dir;
  private final HttpClient http = HttpClient.newHttpClient();

  @Test
  void aVirtualServiceWithAMissingSubsetIsListedWithItsCodeLevelAndResource() throws Exception {
    try (ControlPlane cp =
        Fixtures.controlPlane(dir)
            .dashboardAddress(new InetSocketAddress("127.0.0.1", 0))
            .debounce(Duration.ofMillis(1))
            .clock(Fixtures.CLOCK)
            .build()) {
      cp.start();
      String token = Files.readString(dir.resolve("token")).trim();
      String api = "http://127.0.0.1:" + cp.apiAddress().getPort();
      String dashboard = "http://127.0.0.1:" + cp.dashboardAddress().orElseThrow().getPort();

      JsonNode empty = get(dashboard + "/api/v1/analysis?namespace=demo");
      assertThat(empty.path("messages")).isEmpty();
      assertThat(empty.path("counts").path("Error").asInt()).isZero();

      apply(api, token, Fixtures.text("podinfo.yaml"));
      apply(api, token, V3);

      JsonNode demo = get(dashboard + "/api/v1/analysis?namespace=demo");
      assertThat(demo.path("namespace").asText()).isEqualTo("demo");
      JsonNode missing = null;
      for (JsonNode m : demo.path("messages")) {
        if (m.path("code").asText().equals("IST0101")) {
          missing = m;
        }
      }
      assertThat(missing).as("IST0101 in %s", demo).isNotNull();
      assertThat(missing.path("level").asText()).isEqualTo("Error");
      assertThat(missing.path("origin").asText()).isEqualTo("VirtualService demo/podinfo");
      assertThat(missing.path("line").asText()).isEqualTo(MISSING_SUBSET);
      // the same messages the API serves, and a count per level
      JsonNode fromApi = getWithToken(api + "/api/v1/analysis?namespace=demo", token);
      assertThat(lines(demo)).isEqualTo(lines(fromApi)).contains(MISSING_SUBSET);
      assertThat(demo.path("counts").path("Error").asInt()).isEqualTo(lines(demo).size());
      assertThat(demo.path("counts").path("Warning").asInt()).isZero();

      // another namespace has none of them
      assertThat(get(dashboard + "/api/v1/analysis?namespace=other").path("messages")).isEmpty();

      // the service page lists the messages about its resources (its VirtualService, its rule)
      JsonNode service = get(dashboard + "/api/v1/service?namespace=demo&name=podinfo");
      List<String> about = new ArrayList<>();
      service.path("analysis").forEach(m -> about.add(m.path("line").asText()));
      assertThat(about).contains(MISSING_SUBSET).allMatch(l -> l.contains(" demo/podinfo)"));
      JsonNode gateway =
          get(dashboard + "/api/v1/service?namespace=istio-system&name=istio-ingressgateway");
      assertThat(gateway.path("analysis")).isEmpty();

      // fixed: the message is gone from the dashboard too
      apply(api, token, V3.replace("subset: v3", "subset: v1"));
      assertThat(lines(get(dashboard + "/api/v1/analysis?namespace=demo")))
          .doesNotContain(MISSING_SUBSET);
    }
  }

  private static List<String> lines(JsonNode root) {
    List<String> out = new ArrayList<>();
    for (JsonNode m : root.path("messages")) {
      out.add(
          m.path("level").asText()
              + " ["
              + m.path("code").asText()
              + "] ("
              + m.path("origin").asText()
              + ") "
              + m.path("message").asText());
    }
    return out;
  }

  private JsonNode get(String url) throws Exception {
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as("GET %s: %s", url, r.body()).isEqualTo(200);
    return JSON.readTree(r.body());
  }

  private JsonNode getWithToken(String url, String token) throws Exception {
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(URI.create(url))
                .header("Authorization", "Bearer " + token)
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as("GET %s: %s", url, r.body()).isEqualTo(200);
    return JSON.readTree(r.body());
  }

  private void apply(String api, String token, String yaml) throws Exception {
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(URI.create(api + "/api/v1/apply"))
                .header("Authorization", "Bearer " + token)
                .header("X-Weft-Source", "test.yaml")
                .POST(HttpRequest.BodyPublishers.ofString(yaml))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
  }
}
