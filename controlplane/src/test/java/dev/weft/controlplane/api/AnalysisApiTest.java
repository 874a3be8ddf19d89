package dev.weft.controlplane.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.weft.controlplane.ControlPlane;
import dev.weft.controlplane.Fixtures;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code /api/v1/analysis} and the analysis messages of an apply, on a real control plane over
 * HTTP.
 */
class AnalysisApiTest {
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

  @TempDir Path dir;
  ControlPlane cp;
  String token;
  final HttpClient http = HttpClient.newHttpClient();

  @BeforeEach
  void start() throws Exception {
    cp = Fixtures.controlPlane(dir).debounce(Duration.ofMillis(1)).clock(Fixtures.CLOCK).build();
    cp.start();
    token = Files.readString(dir.resolve("token")).trim();
  }

  @AfterEach
  void stop() {
    cp.close();
  }

  private HttpResponse<String> send(String method, String path, String body) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + cp.apiAddress().getPort() + path))
            .header("Authorization", "Bearer " + token)
            .header("X-Weft-Source", "test.yaml");
    b =
        body == null
            ? b.method(method, HttpRequest.BodyPublishers.noBody())
            : b.method(method, HttpRequest.BodyPublishers.ofString(body));
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static List<String> lines(JsonNode messages) {
    List<String> out = new ArrayList<>();
    for (JsonNode m : messages) {
      out.add(
          m.get("level").asText()
              + " ["
              + m.get("code").asText()
              + "] ("
              + m.get("origin").asText()
              + ") "
              + m.get("message").asText());
    }
    return out;
  }

  @Test
  void applyReportsTheMessagesItIntroducesAndTheApiServesThem() throws Exception {
    HttpResponse<String> first = send("POST", "/api/v1/apply", Fixtures.text("podinfo.yaml"));
    assertThat(first.statusCode()).as(first.body()).isEqualTo(200);
    // No proxy is connected: the subsets select no workload.
    assertThat(lines(JSON.readTree(first.body()).get("analysis")))
        .containsExactly(
            "Error [IST0173] (DestinationRule demo/podinfo) The Subset v1 defined in the"
                + " DestinationRule does not select any pods. Which may lead to 503 UH"
                + " (NoHealthyUpstream).",
            "Error [IST0173] (DestinationRule demo/podinfo) The Subset v2 defined in the"
                + " DestinationRule does not select any pods. Which may lead to 503 UH"
                + " (NoHealthyUpstream).");

    HttpResponse<String> second = send("POST", "/api/v1/apply", V3);
    assertThat(second.statusCode()).as(second.body()).isEqualTo(200);
    assertThat(lines(JSON.readTree(second.body()).get("analysis")))
        .containsExactly(
            "Error [IST0101] (VirtualService demo/podinfo) Referenced host+subset in"
                + " destinationrule not found: \"podinfo.demo.svc.cluster.local+v3\"");

    // Applying it again introduces nothing new.
    HttpResponse<String> again = send("POST", "/api/v1/apply", V3);
    assertThat(JSON.readTree(again.body()).get("analysis").size()).isZero();

    HttpResponse<String> all = send("GET", "/api/v1/analysis", null);
    assertThat(all.statusCode()).isEqualTo(200);
    assertThat(lines(JSON.readTree(all.body()).get("messages")))
        .hasSize(3)
        .first()
        .asString()
        .startsWith("Error [IST0101] (VirtualService demo/podinfo)");
    HttpResponse<String> other = send("GET", "/api/v1/analysis?namespace=other", null);
    assertThat(JSON.readTree(other.body()).get("messages").size()).isZero();

    // POST: as if a fix were applied; nothing is stored.
    String fixed = V3.replace("subset: v3", "subset: v2");
    HttpResponse<String> whatIf = send("POST", "/api/v1/analysis?namespace=demo", fixed);
    assertThat(whatIf.statusCode()).as(whatIf.body()).isEqualTo(200);
    assertThat(lines(JSON.readTree(whatIf.body()).get("messages")))
        .noneMatch(l -> l.contains("IST0101"));
    assertThat(lines(JSON.readTree(send("GET", "/api/v1/analysis", null).body()).get("messages")))
        .anyMatch(l -> l.contains("IST0101"));

    HttpResponse<String> bad = send("POST", "/api/v1/analysis", "a: [b\n");
    assertThat(bad.statusCode()).isEqualTo(400);
    assertThat(bad.body()).contains("YAML syntax error at line");
    assertThat(send("DELETE", "/api/v1/analysis", null).statusCode()).isEqualTo(405);
  }
}
