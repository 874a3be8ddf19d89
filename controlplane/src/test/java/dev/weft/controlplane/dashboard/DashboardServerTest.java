package dev.weft.controlplane.dashboard;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.weft.controlplane.ControlPlane;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The control plane's dashboard server: where it binds, what it serves, what it refuses. */
class DashboardServerTest {
  @TempDir Path tmp;

  private final HttpClient http = HttpClient.newHttpClient();

  private HttpResponse<String> get(String base, String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create(base + path)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void aTakenPortFallsBackToAFreeOneRecordedInControlPlaneJson() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        ControlPlane cp =
            ControlPlane.builder()
                .stateDir(tmp)
                .xdsAddress(new InetSocketAddress("127.0.0.1", 0))
                .apiAddress(new InetSocketAddress("127.0.0.1", 0))
                .dashboardAddress(new InetSocketAddress("127.0.0.1", taken.getLocalPort()))
                .build()) {
      cp.start();
      InetSocketAddress at = cp.dashboardAddress().orElseThrow();
      assertThat(at.getPort()).isNotEqualTo(taken.getLocalPort()).isPositive();
      String recorded =
          new ObjectMapper()
              .readTree(Files.readString(tmp.resolve(ControlPlane.INFO_FILE)))
              .path("dashboard")
              .asText();
      assertThat(recorded).isEqualTo("127.0.0.1:" + at.getPort());

      String base = "http://127.0.0.1:" + at.getPort();
      HttpResponse<String> page = get(base, "/");
      assertThat(page.statusCode()).isEqualTo(200);
      assertThat(page.body()).contains("<script src=\"/static/dashboard.js\"");
      assertThat(get(base, "/kiali").statusCode()).isEqualTo(200);
      HttpResponse<String> js = get(base, "/static/dashboard.js");
      assertThat(js.statusCode()).isEqualTo(200);
      assertThat(js.headers().firstValue("Content-Type"))
          .hasValueSatisfying(t -> assertThat(t).startsWith("application/javascript"));
      // no code from elsewhere: the page loads only its own files
      assertThat(page.body()).doesNotContain("http://").doesNotContain("https://");
      assertThat(js.body()).doesNotContain("innerHTML").doesNotContain("https://");
      assertThat(get(base, "/static/dashboard.css").statusCode()).isEqualTo(200);
      assertThat(get(base, "/api/v1/graph").statusCode()).isEqualTo(400);
      HttpResponse<String> empty = get(base, "/api/v1/graph?namespace=demo");
      assertThat(empty.statusCode()).isEqualTo(200);
      assertThat(empty.body()).contains("\"edges\" : [ ]").contains("\"source\" : \"proxies\"");
      assertThat(get(base, "/api/v1/service?namespace=demo&name=nope").statusCode()).isEqualTo(404);
      assertThat(get(base, "/static/../ControlPlane.class").statusCode()).isEqualTo(404);
      assertThat(get(base, "/api/v1/namespaces").body()).contains("namespaces");
      HttpResponse<String> post =
          http.send(
              HttpRequest.newBuilder(URI.create(base + "/api/v1/graph?namespace=demo"))
                  .POST(HttpRequest.BodyPublishers.ofString("x"))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(post.statusCode()).isEqualTo(405);
    }
  }

  @Test
  void offMeansNoDashboardAndNonLoopbackIsRefused() throws Exception {
    try (ControlPlane cp =
        ControlPlane.builder()
            .stateDir(tmp)
            .xdsAddress(new InetSocketAddress("127.0.0.1", 0))
            .apiAddress(new InetSocketAddress("127.0.0.1", 0))
            .dashboardAddress(null)
            .build()) {
      cp.start();
      assertThat(cp.dashboardAddress()).isEmpty();
      assertThat(Files.readString(tmp.resolve(ControlPlane.INFO_FILE))).doesNotContain("dashboard");
    }
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> ControlPlane.builder().dashboardAddress(new InetSocketAddress("0.0.0.0", 20001)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("loopback");
  }
}
