package dev.weft.cli.run;

import static dev.weft.cli.run.Conditions.await;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.weft.cli.common.ControlPlaneClient;
import dev.weft.cli.install.Installer;
import dev.weft.samples.DemoManifests;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #9's tracing, end to end: a real Zipkin server (the {@code io.zipkin:zipkin-server} exec
 * jar that the build copies into {@code target/zipkin}) receives, for one request through gateway →
 * sidecar → app, a span from each proxy in one trace, configured only with istioctl's {@code --set
 * meshConfig.*} paths. Skipped with a message when the jar is absent ({@code -Dweft.zipkin.skip}).
 */
class TracingIntegrationTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Path ZIPKIN_JAR = Path.of("target", "zipkin", "zipkin-server.jar");

  @TempDir Path tmp;

  private final List<AutoCloseable> closeables = new ArrayList<>();
  private final HttpClient http =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(2))
          .build();

  @AfterEach
  void closeAll() throws Exception {
    for (int i = closeables.size() - 1; i >= 0; i--) {
      closeables.get(i).close();
    }
  }

  @Test
  void zipkinReceivesOneTraceWithASpanFromGatewayAndSidecar() throws Exception {
    Assumptions.assumeTrue(
        Files.isRegularFile(ZIPKIN_JAR),
        "the Zipkin server jar is not in target/zipkin (the build copies io.zipkin:zipkin-server"
            + " from Maven Central unless -Dweft.zipkin.skip=true)");
    int zipkinPort = WorkloadAllocator.freePort("127.0.0.1");
    String zipkin = "http://127.0.0.1:" + zipkinPort;
    startZipkin(zipkinPort);

    MeshForTests mesh =
        MeshForTests.builder(tmp)
            // istioctl's paths, through the install command's handling.
            .meshSettings(
                "meshConfig.enableTracing=true",
                "meshConfig.defaultConfig.tracing.sampling=100",
                "meshConfig.defaultConfig.tracing.zipkin.address=127.0.0.1:" + zipkinPort)
            .start();
    closeables.add(mesh);
    ControlPlaneClient client = mesh.api();
    MeshForTests.Gateway gateway =
        mesh.ingress().serviceAccount(Installer.GATEWAY_SERVICE_ACCOUNT).start();
    int ingressPort = gateway.port();
    startWorkload(mesh, "podinfo-v1", "v1", "6.7.1");
    startWorkload(mesh, "podinfo-v2", "v2", "6.7.0");
    MeshForTests.awaitReady(gateway.proxy());
    assertThat(client.apply(DemoManifests.concat(DemoManifests.CANARY), "canary.yaml").errors())
        .isEmpty();

    String url = "http://127.0.0.1:" + ingressPort + "/headers";
    await("the canary routes", () -> get(url, Map.of()) != null);

    // One request, joining a trace the client started (W3C traceparent, sampled).
    String traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    String clientSpan = "00f067aa0ba902b7";
    JsonNode appSaw =
        JSON.readTree(get(url, Map.of("traceparent", "00-" + traceId + "-" + clientSpan + "-01")));
    // The app sees the sidecar's span as its parent, in B3 and W3C, and the trace's id.
    assertThat(first(appSaw, "X-B3-Traceid")).isEqualTo(traceId);
    assertThat(first(appSaw, "Traceparent")).startsWith("00-" + traceId + "-").endsWith("-01");
    assertThat(first(appSaw, "X-B3-Sampled")).isEqualTo("1");
    assertThat(first(appSaw, "X-Request-Id")).isNotEmpty();

    JsonNode[] trace = new JsonNode[1];
    awaitLong(
        "both proxies' spans in Zipkin",
        () -> {
          trace[0] = zipkinTrace(zipkin, traceId);
          return trace[0] != null && trace[0].size() >= 2;
        });
    JsonNode gw = spanOf(trace[0], "istio-ingressgateway.istio-system");
    JsonNode sidecar = spanOf(trace[0], "podinfo.demo");
    assertThat(gw).as("gateway span in %s", trace[0]).isNotNull();
    assertThat(sidecar).as("sidecar span in %s", trace[0]).isNotNull();
    assertThat(gw.path("traceId").asText()).isEqualTo(traceId);
    assertThat(gw.path("parentId").asText()).isEqualTo(clientSpan);
    assertThat(gw.path("kind").asText()).isEqualTo("SERVER");
    assertThat(sidecar.path("kind").asText()).isEqualTo("SERVER");
    assertThat(sidecar.path("parentId").asText()).isEqualTo(gw.path("id").asText());
    assertThat(first(appSaw, "X-B3-Spanid")).isEqualTo(sidecar.path("id").asText());
    assertThat(gw.path("name").asText()).endsWith("podinfo.demo.svc.cluster.local:80/*");
    JsonNode gt = gw.path("tags");
    assertThat(gt.path("istio.canonical_service").asText()).isEqualTo("istio-ingressgateway");
    assertThat(gt.path("istio.namespace").asText()).isEqualTo("istio-system");
    assertThat(gt.path("istio.mesh_id").asText()).isEqualTo("cluster.local");
    assertThat(gt.path("component").asText()).isEqualTo("proxy");
    assertThat(gt.path("http.status_code").asText()).isEqualTo("200");
    assertThat(gt.path("http.method").asText()).isEqualTo("GET");
    assertThat(gt.path("upstream_cluster").asText())
        .startsWith("outbound|80|v")
        .endsWith("|podinfo.demo.svc.cluster.local");
    assertThat(gt.path("node_id").asText()).startsWith("router~");
    JsonNode st = sidecar.path("tags");
    assertThat(st.path("istio.canonical_service").asText()).isEqualTo("podinfo");
    assertThat(st.path("istio.canonical_revision").asText()).isIn("v1", "v2");
    assertThat(st.path("upstream_cluster").asText()).isEqualTo("inbound|9898||");
    assertThat(st.path("http.url").asText()).endsWith("/headers");
    assertThat(st.path("guid:x-request-id").asText())
        .isEqualTo(gt.path("guid:x-request-id").asText())
        .isEqualTo(first(appSaw, "X-Request-Id"));
  }

  private static String first(JsonNode headers, String name) {
    JsonNode v = headers.path(name);
    return v.isArray() ? v.path(0).asText(null) : v.asText(null);
  }

  private static JsonNode spanOf(JsonNode trace, String service) {
    for (JsonNode s : trace) {
      if (service.equals(s.path("localEndpoint").path("serviceName").asText())) {
        return s;
      }
    }
    return null;
  }

  private JsonNode zipkinTrace(String zipkin, String traceId) {
    try {
      HttpResponse<String> r =
          http.send(
              HttpRequest.newBuilder(URI.create(zipkin + "/api/v2/trace/" + traceId))
                  .timeout(Duration.ofSeconds(5))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      return r.statusCode() == 200 ? JSON.readTree(r.body()) : null;
    } catch (IOException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  private void startZipkin(int port) throws Exception {
    Path log = tmp.resolve("zipkin.log");
    Process p =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m",
                "-XX:TieredStopAtLevel=1",
                "-jar",
                ZIPKIN_JAR.toAbsolutePath().toString(),
                // Loopback only, on the port the test chose.
                "--armeria.ports[0].ip=127.0.0.1",
                "--armeria.ports[0].port=" + port,
                "--armeria.ports[0].protocols[0]=http")
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .start();
    closeables.add(
        () -> {
          p.destroy();
          if (!p.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor();
          }
        });
    Instant deadline = Instant.now().plusSeconds(120);
    while (true) {
      if (!p.isAlive()) {
        throw new AssertionError("zipkin exited:\n" + Files.readString(log));
      }
      try {
        HttpResponse<String> r =
            http.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health")).build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 200) {
          return;
        }
      } catch (IOException e) {
        // not up yet
      }
      if (Instant.now().isAfter(deadline)) {
        throw new AssertionError("zipkin did not start:\n" + Files.readString(log));
      }
      Thread.sleep(200); // polling a condition with a deadline
    }
  }

  private static void startWorkload(MeshForTests mesh, String name, String subset, String v)
      throws IOException {
    MeshForTests.Workload w = mesh.allocate(name, "http:9898");
    mesh.podinfo(w, v);
    mesh.sidecar(w, "app=podinfo,version=" + subset);
  }

  /**
   * The body of {@code GET url} when it answers 200, else null. The timeout only bounds a broken
   * mesh: the traced request must succeed, and it may be the first through a cold path (a TLS
   * handshake to the other subset's sidecar), which a busy machine can slow well past seconds.
   */
  private String get(String url, Map<String, String> headers) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(60)).GET();
    headers.forEach(b::header);
    try {
      HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
      return r.statusCode() == 200 ? r.body() : null;
    } catch (IOException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  private void awaitLong(String what, BooleanSupplier condition) throws Exception {
    Instant deadline = Instant.now().plusSeconds(60);
    while (!condition.getAsBoolean()) {
      if (Instant.now().isAfter(deadline)) {
        throw new AssertionError(
            "timed out waiting for " + what + "\nzipkin log:\n" + tail(tmp.resolve("zipkin.log")));
      }
      Thread.sleep(100); // polling a condition with a deadline
    }
  }

  private static String tail(Path p) throws IOException {
    String s = Files.exists(p) ? Files.readString(p) : "";
    return s.length() > 4000 ? s.substring(s.length() - 4000) : s;
  }
}
