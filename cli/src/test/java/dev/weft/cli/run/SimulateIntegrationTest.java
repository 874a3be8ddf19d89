package dev.weft.cli.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.weft.api.ResourceKind;
import dev.weft.cli.WeftCommandLineTest;
import dev.weft.cli.WeftCommandLineTest.Run;
import dev.weft.cli.common.ControlPlaneClient;
import dev.weft.cli.common.StateDir;
import dev.weft.proxy.Proxy;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code weft x simulate} agrees with what the proxy does: over a real in-JVM mesh (control plane,
 * a productpage sidecar, reviews v1/v2/v3 behind their sidecars), for each of Istio's bookinfo
 * reviews routes ({@code shared/reference/samples/bookinfo/networking}), with and without {@code
 * end-user: jason}, the simulator's prediction is compared with where real requests sent through
 * the productpage sidecar land (which reviews version answered).
 */
class SimulateIntegrationTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** The bookinfo routes for reviews (every one that routes reviews by subset). */
  private static final List<String> ROUTES =
      List.of(
          "virtual-service-all-v1.yaml",
          "virtual-service-reviews-test-v2.yaml",
          "virtual-service-reviews-jason-v2-v3.yaml",
          "virtual-service-reviews-v3.yaml",
          "virtual-service-reviews-v2-v3.yaml",
          "virtual-service-reviews-50-v3.yaml",
          "virtual-service-reviews-80-20.yaml",
          "virtual-service-reviews-90-10.yaml");

  private static final String SERVICES =
      """
      apiVersion: v1
      kind: Service
      metadata: {name: reviews, namespace: default}
      spec:
        selector: {app: reviews}
        ports: [{name: http, port: 9080, targetPort: 9080}]
      ---
      apiVersion: v1
      kind: Service
      metadata: {name: productpage, namespace: default}
      spec:
        selector: {app: productpage}
        ports: [{name: http, port: 9080, targetPort: 9080}]
      """;

  @TempDir Path tmp;
  private final List<AutoCloseable> closeables = new ArrayList<>();
  private StateDir state;
  private final HttpClient direct = HttpClient.newBuilder().build();

  @AfterEach
  void closeAll() throws Exception {
    for (int i = closeables.size() - 1; i >= 0; i--) {
      closeables.get(i).close();
    }
  }

  private static Path bookinfo() {
    String shared = System.getProperty("weft.shared.dir");
    Path dir = shared == null ? null : Path.of(shared, "reference", "samples", "bookinfo");
    assumeTrue(dir != null && Files.isDirectory(dir), "shared reference data not available");
    return dir;
  }

  private Run weft(String... args) {
    List<String> all = new ArrayList<>(List.of(args));
    all.add("--state-dir");
    all.add(state.root().toString());
    return WeftCommandLineTest.weft(all.toArray(String[]::new));
  }

  @Test
  void predictionsMatchLandingsOverBookinfoRoutes() throws Exception {
    Path networking = bookinfo().resolve("networking");
    MeshForTests mesh = MeshForTests.start(tmp);
    closeables.add(mesh);
    state = mesh.state();
    ControlPlaneClient client = mesh.api();
    List<Proxy> proxies = new ArrayList<>();
    for (String v : List.of("v1", "v2", "v3")) {
      MeshForTests.Workload w = mesh.allocateIn("default", "reviews-" + v, "http:9080");
      mesh.podinfo(w, v);
      proxies.add(
          mesh.proxy(MeshForTests.sidecarSpec(w, "app=reviews,version=" + v), w.admin(), null));
    }
    MeshForTests.Workload productpage = mesh.allocateIn("default", "productpage-v1", "http:9080");
    String productpageIp = productpage.podIp();
    proxies.add(
        mesh.proxy(
            MeshForTests.sidecarSpec(productpage, "app=productpage,version=v1"),
            productpage.admin(),
            null));
    for (Proxy p : proxies) {
      assertThat(p.awaitReady(Duration.ofSeconds(30))).isTrue();
    }
    apply(
        client,
        SERVICES + "---\n" + Files.readString(networking.resolve("destination-rule-all.yaml")));
    HttpClient viaSidecar =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .proxy(java.net.ProxySelector.of(new InetSocketAddress(productpageIp, 15001)))
            .build();

    int compared = 0;
    for (String file : ROUTES) {
      apply(client, Files.readString(networking.resolve(file)));
      for (Map<String, String> headers :
          List.of(Map.<String, String>of(), Map.of("end-user", "jason"))) {
        Map<String, Integer> predicted = predict(headers, null);
        assertThat(predicted).as("%s %s", file, headers).isNotEmpty();
        Set<String> landed = new LinkedHashSet<>();
        // A weighted route: every landing must be one of the predicted subsets, with a positive
        // weight (which ones a handful of random draws reach is not asserted).
        int n = predicted.size() == 1 ? 4 : 20;
        for (int i = 0; i < n; i++) {
          landed.add(land(viaSidecar, headers));
        }
        assertThat(predicted.keySet())
            .as("%s %s: landed %s", file, headers, landed)
            .containsAll(landed);
        for (String s : landed) {
          assertThat(predicted.get(s)).as("%s weight of %s", file, s).isPositive();
        }
        if (predicted.size() == 1) {
          assertThat(landed)
              .as("%s %s", file, headers)
              .containsExactlyElementsOf(predicted.keySet());
        }
        compared++;
      }
    }
    assertThat(compared).isEqualTo(ROUTES.size() * 2);

    // jason-v2-v3 stored; -f reviews-v3 predicts v3 for jason without storing it
    apply(client, Files.readString(networking.resolve("virtual-service-reviews-jason-v2-v3.yaml")));
    Map<String, String> jason = Map.of("end-user", "jason");
    assertThat(predict(jason, null)).containsOnlyKeys("v2");
    assertThat(predict(jason, networking.resolve("virtual-service-reviews-v3.yaml")))
        .containsOnlyKeys("v3");
    assertThat(land(viaSidecar, jason)).isEqualTo("v2");
    assertThat(predict(jason, null)).containsOnlyKeys("v2");
    assertThat(client.list(ResourceKind.VIRTUAL_SERVICE, "default", "reviews").toString())
        .contains("end-user");

    // the text form
    Run text =
        weft(
            "x",
            "simulate",
            "--from",
            "productpage-v1.default",
            "http://reviews:9080/version",
            "-H",
            "end-user: jason");
    assertThat(text.status()).as(text.err()).isZero();
    assertThat(text.out())
        .contains("Listener: " + productpageIp + "_15001 (outbound HTTP proxy)")
        .contains(
            "Route: http_proxy / vhost reviews.default.svc.cluster.local:9080 / route 0"
                + " (VirtualService default/reviews, match: prefix \"/\", headers end-user exact \"jason\")")
        .contains("Cluster: outbound|9080|v2|reviews.default.svc.cluster.local (weight 100)");

    // bad input: one line, non-zero exit
    String url = "http://reviews:9080/";
    oneLineError(
        weft("x", "simulate", "--from", "nosuch.default", url),
        "no connected proxy named \"nosuch.default\"");
    oneLineError(
        weft("x", "simulate", "--from", "productpage-v1.default", "reviews:9080/"), "bad URL");
    Path garbage = tmp.resolve("garbage.yaml");
    Files.writeString(garbage, "kind: VirtualService\nspec: [unclosed\n");
    oneLineError(
        weft("x", "simulate", "--from", "productpage-v1.default", url, "-f", garbage.toString()),
        "HTTP 400");
    oneLineError(
        weft("x", "simulate", "--from", "productpage-v1.default", url, "-f", "/nonexistent.yaml"),
        "no such file");
    assertThat(predict(jason, null)).containsOnlyKeys("v2");
  }

  private static void oneLineError(Run r, String expected) {
    assertThat(r.status()).as("exit status of %s", r).isNotZero();
    assertThat(r.err().lines().toList()).as(r.err()).hasSize(1);
    assertThat(r.err()).startsWith("error: ").contains(expected).doesNotContain("\tat ");
  }

  /** The predicted subsets (v1, v2, v3) and their weights, from {@code weft x simulate -o json}. */
  private Map<String, Integer> predict(Map<String, String> headers, Path change) throws Exception {
    List<String> args =
        new ArrayList<>(
            List.of(
                "x",
                "simulate",
                "--from",
                "productpage-v1.default",
                "http://reviews:9080/version",
                "-o",
                "json"));
    headers.forEach((k, v) -> args.addAll(List.of("-H", k + ":" + v)));
    if (change != null) {
      args.addAll(List.of("-f", change.toString()));
    }
    Run r = weft(args.toArray(String[]::new));
    assertThat(r.status()).as(r.err()).isZero();
    JsonNode p = JSON.readTree(r.out());
    Map<String, Integer> out = new java.util.LinkedHashMap<>();
    for (JsonNode c : p.path("clusters")) {
      // outbound|9080|v2|reviews.default.svc.cluster.local
      out.put(c.path("name").asText().split("\\|")[2], c.path("weight").asInt());
    }
    return out;
  }

  /**
   * Which reviews version answered a request sent through the productpage sidecar. Each must
   * succeed; the timeout only bounds a broken mesh (a first request to a subset opens its mTLS
   * connection, which a busy machine can hold for seconds).
   */
  private static String land(HttpClient viaSidecar, Map<String, String> headers) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create("http://reviews:9080/version"))
            .timeout(Duration.ofSeconds(60));
    headers.forEach(b::header);
    HttpResponse<String> r = viaSidecar.send(b.build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return JSON.readTree(r.body()).path("version").asText();
  }

  private void apply(ControlPlaneClient client, String yaml) {
    ControlPlaneClient.Outcome o = client.apply(yaml, "test");
    assertThat(o.errors()).isEmpty();
    var sync = client.awaitSync(o.generation(), Duration.ofSeconds(30));
    assertThat(sync.failed()).isFalse();
    assertThat(sync.done()).as("generation %s reached every proxy", o.generation()).isTrue();
  }
}
