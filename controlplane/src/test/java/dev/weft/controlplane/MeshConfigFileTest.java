package dev.weft.controlplane;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The state directory's {@code mesh.yaml} as the control plane reads it at start: what it reads
 * takes effect (here {@code defaultConfig.concurrency}, as the API's ProxyConfig says), and each
 * field it does not read is logged as ignored, so a hand-edited file loses nothing silently.
 */
class MeshConfigFileTest {
  @TempDir Path dir;

  @Test
  void fieldsTheControlPlaneDoesNotReadAreLoggedAsIgnored() throws Exception {
    Files.writeString(
        dir.resolve("mesh.yaml"),
        """
        trustDomain: example.org
        defaultConfig:
          concurrency: 1
          holdApplicationUntilProxyStarts: true
        """);
    try (LogCapture log = new LogCapture(ControlPlane.class.getName());
        ControlPlane cp = Fixtures.controlPlane(dir).build();
        HttpClient http = HttpClient.newHttpClient()) {
      cp.start();
      assertThat(log.messages())
          .filteredOn(m -> m.contains("is not supported by Weft"))
          .containsExactly(
              "WARNING: "
                  + dir.resolve("mesh.yaml")
                  + ": meshConfig.trustDomain is not supported by Weft and is ignored",
              "WARNING: "
                  + dir.resolve("mesh.yaml")
                  + ": meshConfig.defaultConfig.holdApplicationUntilProxyStarts is not supported"
                  + " by Weft and is ignored");

      String token = Files.readString(dir.resolve("token")).trim();
      HttpResponse<String> r =
          http.send(
              HttpRequest.newBuilder(
                      URI.create(
                          "http://127.0.0.1:" + cp.apiAddress().getPort() + "/api/v1/proxy-config"))
                  .header("Authorization", "Bearer " + token)
                  .POST(
                      HttpRequest.BodyPublishers.ofString(
                          "{\"namespace\":\"demo\",\"labels\":{},\"annotations\":{}}"))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      JsonNode pc = new ObjectMapper().readTree(r.body());
      assertThat(pc.path("concurrency").asInt()).isEqualTo(1);
      assertThat(pc.path("source").asText()).isEqualTo("meshConfig.defaultConfig.concurrency");
    }
  }
}
