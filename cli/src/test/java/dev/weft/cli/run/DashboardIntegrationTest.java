package dev.weft.cli.run;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.weft.cli.common.ControlPlaneClient;
import dev.weft.cli.common.HostPort;
import dev.weft.cli.common.StateDir;
import dev.weft.cli.demo.BinomialBounds;
import dev.weft.cli.inspect.DashboardCommand;
import dev.weft.cli.install.Installer;
import dev.weft.controlplane.ControlPlane;
import dev.weft.proxy.Proxy;
import dev.weft.samples.DemoManifests;
import dev.weft.samples.PodinfoServer;
import dev.weft.xds.NodeId;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #9's dashboard on a real mesh in one JVM: the control plane scrapes its proxies, and after
 * the guide's 90/10 canary traffic its graph shows gateway → podinfo → v1/v2 with about 90/10, as
 * JSON and as the page Chromium renders (a screenshot is kept in {@code target/}).
 */
class DashboardIntegrationTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String GATEWAY = "workload:istio-system/istio-ingressgateway";
  private static final String SERVICE = "service:demo/podinfo";
  private static final String V1 = "workload:demo/podinfo-v1";
  private static final String V2 = "workload:demo/podinfo-v2";

  /**
   * A bound on a request (through the mesh, to the dashboard or to Prometheus) that only a broken
   * server reaches: a request given up on may be counted by the proxies but not by the test, and
   * {@link #getJson} fails the test (inside a wait too) when no answer comes.
   */
  private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(60);

  @TempDir Path tmp;

  private final List<AutoCloseable> closeables = new ArrayList<>();
  private final HttpClient http =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(2))
          .build();
  private StateDir state;

  @AfterEach
  void closeAll() throws Exception {
    for (int i = closeables.size() - 1; i >= 0; i--) {
      closeables.get(i).close();
    }
  }

  @Test
  void graphShowsTheCanarySplitAsJsonAndInChromium() throws Exception {
    MeshForTests mesh =
        MeshForTests.builder(tmp)
            .controlPlane(
                options ->
                    options
                        .dashboardAddress(new InetSocketAddress("127.0.0.1", 0))
                        .scrapeInterval(Duration.ofMillis(250))
                        // longer than the test: the rates are over every request it sends
                        .dashboardWindow(Duration.ofMinutes(30)))
            .start();
    closeables.add(mesh);
    state = mesh.state();
    ControlPlane cp = mesh.controlPlane();
    String dashboard = "http://" + HostPort.of(cp.dashboardAddress().orElseThrow());
    // Recorded where the CLI finds it.
    assertThat(DashboardCommand.dashboardUrl(state)).isEqualTo(dashboard + "/");
    // Opened before the traffic, as a user watching it would: the scraper starts with the first
    // request, so the rates cover what was sent since (the totals, read from the proxies'
    // counters, count everything either way).
    assertThat(getJson(dashboard + "/api/v1/namespaces").isObject()).isTrue();

    int ingressPort = startCanary(mesh).ingressPort();

    String url = "http://127.0.0.1:" + ingressPort + "/version";
    Map<String, Integer> counts = new HashMap<>();
    // Requests that failed while the mesh came up (e.g. a 503 before a sidecar was ready, or a
    // client timeout on a busy machine) may still be counted by the gateway.
    int[] warmupFailures = new int[1];
    await(
        () -> "both subsets routed",
        () -> {
          String v = version(url);
          if (v != null) {
            counts.merge(v, 1, Integer::sum);
          } else {
            warmupFailures[0]++;
          }
          return counts.keySet().containsAll(List.of("6.7.1", "6.7.0"));
        });
    // Each sidecar's first scrape is the base of its rate (as Prometheus's rate() has no sample
    // before it): on a busy machine a sidecar may be scraped first only after it served some of
    // the warm-up (its metrics port retried with back-off while it started). Once the graph shows
    // both edges, both sidecars were scraped, so each base holds at most its warm-up requests.
    Map<String, Integer> warmup = Map.copyOf(counts);
    await(
        () -> "both sidecars scraped",
        () -> {
          JsonNode g = getJson(dashboard + "/api/v1/graph?namespace=demo");
          return edge(g, SERVICE, V1) != null && edge(g, SERVICE, V2) != null;
        });
    for (int i = 0; i < 300; i++) {
      String v = version(url);
      assertThat(v).as("request %d", i).isNotNull();
      counts.merge(v, 1, Integer::sum);
    }
    int v1 = counts.get("6.7.1");
    int v2 = counts.get("6.7.0");

    // The graph, once the scrapes have every request: each counted once (the sidecars' reports).
    JsonNode[] graph = new JsonNode[1];
    await(
        () -> "the dashboard to count " + v1 + " + " + v2 + " requests; has " + graph[0],
        () -> {
          graph[0] = getJson(dashboard + "/api/v1/graph?namespace=demo");
          JsonNode a = edge(graph[0], SERVICE, V1);
          JsonNode b = edge(graph[0], SERVICE, V2);
          return a != null
              && b != null
              && a.path("requests").asLong() == v1
              && b.path("requests").asLong() == v2
              && !a.path("idle").asBoolean();
        });
    JsonNode g = graph[0];
    assertThat(g.path("source").asText()).isEqualTo("proxies");
    assertThat(node(g, GATEWAY).path("type").asText()).isEqualTo("gateway");
    assertThat(node(g, SERVICE).path("type").asText()).isEqualTo("service");
    assertThat(node(g, V1).path("label").asText()).isEqualTo("podinfo v1");
    JsonNode in = edge(g, GATEWAY, SERVICE);
    assertThat(in).as("gateway → podinfo in %s", g).isNotNull();
    assertThat(in.path("requests").asLong())
        .isBetween((long) v1 + v2, (long) v1 + v2 + warmupFailures[0]);
    assertThat(in.path("rate").asDouble()).isPositive();
    if (warmupFailures[0] == 0) {
      assertThat(in.path("errorRate").asDouble()).isZero();
    }
    assertThat(in.path("p99").isNumber()).as("p99 of %s", in).isTrue();
    // Local proxies speak mTLS by default (ProxySpec.MUTUAL_TLS): gateway → sidecar carries the
    // lock (auto mTLS).
    assertThat(in.path("mtls").asBoolean()).isTrue();
    double p1 = edge(g, SERVICE, V1).path("percent").asDouble();
    double p2 = edge(g, SERVICE, V2).path("percent").asDouble();
    assertThat(p1 + p2).isCloseTo(100.0, org.assertj.core.data.Offset.offset(0.01));
    // The split the test generated, within the bounds of a 90 % coin with 300+ tosses (a false
    // failure once in a million runs, not once in a thousand).
    BinomialBounds bounds = BinomialBounds.of(v1 + v2, 0.9, 1 - 1e-6);
    assertThat(bounds.contains(v1)).as("v1 %s of %s within %s", v1, v1 + v2, bounds).isTrue();
    // The share of the rates: of the requests after each sidecar's first scrape, so between the
    // split without v1's warm-up and the split without v2's.
    int w1 = warmup.getOrDefault("6.7.1", 0);
    int w2 = warmup.getOrDefault("6.7.0", 0);
    assertThat(p1)
        .as("v1's share of the rates; sent %s + %s, of them %s + %s in the warm-up", v1, v2, w1, w2)
        .isBetween(100.0 * (v1 - w1) / (v1 - w1 + v2) - 0.5, 100.0 * v1 / (v1 + v2 - w2) + 0.5);

    // The service page: routes with the guide's weights, subsets, the workloads' proxies in sync.
    JsonNode svc = getJson(dashboard + "/api/v1/service?namespace=demo&name=podinfo");
    assertThat(svc.path("virtualServices").get(0).path("routes").get(0).path("destinations"))
        .extracting(d -> d.path("subset").asText() + "=" + d.path("weight").asInt())
        .containsExactly("v1=90", "v2=10");
    assertThat(svc.path("destinationRule").path("subsets"))
        .extracting(s -> s.path("name").asText() + ":" + s.path("workloads").asInt())
        .containsExactly("v1:1", "v2:1");
    assertThat(svc.path("workloads"))
        .extracting(
            w -> w.path("name").asText() + " " + w.path("proxy").path("sync").path("LDS").asText())
        .containsExactlyInAnyOrder("podinfo-v1 SYNCED", "podinfo-v2 SYNCED");

    // Only loopback Host names are answered (DNS rebinding): a raw request with another Host.
    InetSocketAddress dash = cp.dashboardAddress().orElseThrow();
    try (java.net.Socket sock = new java.net.Socket(dash.getAddress(), dash.getPort())) {
      sock.setSoTimeout(10_000);
      sock.getOutputStream()
          .write(
              ("GET /api/v1/graph?namespace=demo HTTP/1.1\r\nHost: attacker.example:"
                      + dash.getPort()
                      + "\r\nConnection: close\r\n\r\n")
                  .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      String answer =
          new String(sock.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
      assertThat(answer).startsWith("HTTP/1.1 403");
    }

    // The page as a browser renders it.
    Path chromium = findOnPath("chromium");
    Assumptions.assumeTrue(
        chromium != null,
        "chromium is not installed (apt-get install chromium; .ci/run installs it):"
            + " skipping the browser part");
    String page = dashboard + "/?namespace=demo&refresh=0";
    String dom = chromium(chromium, "--dump-dom", page);
    Map<String, Double> shown = new HashMap<>();
    Matcher m =
        Pattern.compile(
                "<tr class=\"edge-row\" data-source=\"([^\"]+)\" data-target=\"([^\"]+)\""
                    + " data-percent=\"([^\"]+)\"")
            .matcher(dom);
    while (m.find()) {
      shown.put(m.group(1) + " -> " + m.group(2), Double.parseDouble(m.group(3)));
    }
    assertThat(shown)
        .as("the edges the page lists, in\n%s", dom)
        .containsKeys(GATEWAY + " -> " + SERVICE, SERVICE + " -> " + V1, SERVICE + " -> " + V2);
    assertThat(shown.get(SERVICE + " -> " + V1))
        .isCloseTo(p1, org.assertj.core.data.Offset.offset(1.0));
    assertThat(dom).contains("podinfo v1").contains("podinfo v2").contains("istio-ingressgateway");
    assertThat(dom).contains("<svg");
    Path shot = Path.of("target", "dashboard-graph.png").toAbsolutePath();
    Files.createDirectories(shot.getParent());
    Files.deleteIfExists(shot);
    chromium(chromium, "--screenshot=" + shot, page);
    assertThat(shot).exists();
    assertThat(Files.size(shot)).isGreaterThan(10_000);
    // And the service page.
    String servicePage =
        chromium(chromium, "--dump-dom", dashboard + "/?refresh=0#/service/demo/podinfo");
    assertThat(servicePage).contains("Service demo/podinfo").contains("subset v1").contains("90%");
    chromium(
        chromium,
        "--screenshot=" + shot.resolveSibling("dashboard-service.png"),
        dashboard + "/?refresh=0#/service/demo/podinfo");

    // The control plane's analysis (issue #11): a route to a subset no DestinationRule defines is
    // listed on the analysis page, counted in the navigation and shown on podinfo's page.
    String broken =
        """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: podinfo-v3, namespace: demo}
        spec:
          hosts: [podinfo-v3.demo.svc.cluster.local]
          http:
          - route:
            - destination: {host: podinfo.demo.svc.cluster.local, subset: v3}
        """;
    assertThat(ControlPlaneClient.connect(state).apply(broken, "v3.yaml").errors()).isEmpty();
    String message =
        "<span class=\"level\">Error</span> <a href=\"https://istio.io/latest/docs/reference/config/"
            + "analysis/ist0101/\" rel=\"noreferrer\" target=\"_blank\">[IST0101]</a>"
            + " (VirtualService demo/podinfo-v3) Referenced host+subset in destinationrule not"
            + " found: \"podinfo.demo.svc.cluster.local+v3\"";
    String analysis =
        chromium(chromium, "--dump-dom", dashboard + "/?namespace=demo&refresh=0#/analysis");
    assertThat(analysis)
        .contains("Analysis: demo")
        .contains("<li class=\"message level-error\" data-code=\"IST0101\"")
        .contains(message)
        .containsPattern("id=\"analysis-count\" class=\"badge level-error\"[^>]*>[1-9]");
    assertThat(
            chromium(
                chromium,
                "--dump-dom",
                dashboard + "/?namespace=demo&refresh=0#/service/demo/podinfo"))
        .contains(message);
    chromium(
        chromium,
        "--screenshot=" + shot.resolveSibling("dashboard-analysis.png"),
        dashboard + "/?namespace=demo&refresh=0#/analysis");
  }

  /**
   * Between two sidecars that speak Istio mTLS (as {@code MeshMtlsTest} starts them), the graph's
   * edge carries the lock: the destination reports {@code connection_security_policy="mutual_tls"}.
   */
  @Test
  void mutualTlsTrafficGetsTheLock() throws Exception {
    int a = java.util.concurrent.ThreadLocalRandom.current().nextInt(2, 250);
    int b = java.util.concurrent.ThreadLocalRandom.current().nextInt(2, 250);
    String serverIp = "127.86." + a + "." + b;
    String clientIp = "127.87." + a + "." + b;
    String appIp = "127.88." + a + "." + b;
    MeshForTests mesh =
        MeshForTests.builder(tmp)
            .controlPlane(
                options ->
                    options
                        .dashboardAddress(new InetSocketAddress("127.0.0.1", 0))
                        .scrapeInterval(Duration.ofMillis(250))
                        .debounce(Duration.ZERO))
            .start();
    closeables.add(mesh);
    ControlPlane cp = mesh.controlPlane();
    state = mesh.state();
    assertThat(
            ControlPlaneClient.connect(state)
                .apply(
                    """
                    apiVersion: v1
                    kind: Service
                    metadata: {name: podinfo, namespace: demo}
                    spec:
                      selector: {app: podinfo}
                      ports:
                      - {name: http, port: 80, targetPort: 9898}
                    """,
                    "svc.yaml")
                .errors())
        .isEmpty();
    PodinfoServer app =
        PodinfoServer.builder().address(appIp).port(9898).version("6.7.1").ioThreads(1).start();
    closeables.add(app);
    mtlsSidecar(
        cp, "podinfo-v1", serverIp, Map.of("app", "podinfo", "version", "v1"), "http:9898", appIp);
    mtlsSidecar(cp, "curl", clientIp, Map.of("app", "curl"), "", "127.0.0.1");
    String dashboard = "http://" + HostPort.of(cp.dashboardAddress().orElseThrow());
    HttpClient viaClient =
        HttpClient.newBuilder()
            .proxy(java.net.ProxySelector.of(new InetSocketAddress(clientIp, 15001)))
            .connectTimeout(Duration.ofSeconds(2))
            .build();
    closeables.add(viaClient);
    JsonNode[] graph = new JsonNode[1];
    await(
        () -> "an mTLS edge curl → podinfo → podinfo-v1 in " + graph[0],
        () -> {
          try {
            // (not given up on early: a request the client abandons counts as a failure)
            viaClient.send(
                HttpRequest.newBuilder(URI.create("http://podinfo.demo.svc.cluster.local/version"))
                    .timeout(REQUEST_TIMEOUT)
                    .build(),
                HttpResponse.BodyHandlers.discarding());
          } catch (IOException e) {
            return false;
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
          }
          graph[0] = getJson(dashboard + "/api/v1/graph?namespace=demo");
          JsonNode e = edge(graph[0], "workload:demo/curl", SERVICE);
          // (the first requests may go in plaintext, before the client has the server's
          // tlsMode endpoint: auto mTLS)
          return e != null && e.path("mtls").asBoolean();
        });
    JsonNode in = edge(graph[0], "workload:demo/curl", SERVICE);
    assertThat(in.path("mtlsPercent").asDouble()).as("%s", in).isBetween(1.0, 100.0);
    assertThat(edge(graph[0], SERVICE, V1).path("mtls").asBoolean()).isTrue();
    // and no request failed on the way
    assertThat(in.path("errorRate").asDouble()).isZero();

    Path chromium = findOnPath("chromium");
    Assumptions.assumeTrue(
        chromium != null, "chromium is not installed: skipping the browser part");
    String page = dashboard + "/?namespace=demo&refresh=0";
    String dom = chromium(chromium, "--dump-dom", page);
    assertThat(dom).contains("data-mtls=\"true\"").contains("<g class=\"lock\"");
    Path shot = Path.of("target", "dashboard-mtls.png").toAbsolutePath();
    Files.createDirectories(shot.getParent());
    chromium(chromium, "--screenshot=" + shot, page);
  }

  /** A sidecar that announces mTLS and holds its certificate from the control plane's CA. */
  private void mtlsSidecar(
      ControlPlane cp,
      String name,
      String ip,
      Map<String, String> labels,
      String ports,
      String appAddress)
      throws Exception {
    Proxy p =
        Proxy.start(
            dev.weft.proxy.ProxyBootstrap.builder()
                .nodeId(new NodeId(NodeId.SIDECAR, ip, name, "demo"))
                .metadata(
                    Map.of(
                        "NAMESPACE", "demo",
                        "NAME", name,
                        "LABELS", labels,
                        "INSTANCE_IPS", ip,
                        "WEFT_PORTS", ports,
                        "WEFT_APP_ADDRESS", appAddress,
                        "SERVICE_ACCOUNT", name))
                .mutualTls(true)
                .xdsServer(cp.xdsAddress())
                .credentials(
                    new dev.weft.proxy.identity.ControlPlaneCredentials(
                        cp.ca().rootPem(),
                        () ->
                            cp.issueWorkloadToken("demo", name, name, Duration.ofHours(1)).token()))
                .adminAddress(new InetSocketAddress("127.0.0.1", 0))
                .prometheusAddress(new InetSocketAddress(ip, 15090))
                .accessLogPath(tmp.resolve(name + ".access.log"))
                .build());
    closeables.add(p);
    assertThat(p.awaitReady(Duration.ofSeconds(30))).as("%s", p.failure()).isTrue();
  }

  /** A canary mesh's addresses: the gateway's HTTP port and every proxy's metrics address. */
  private record Canary(int ingressPort, List<HostPort> metrics) {}

  /**
   * Starts the guide's canary on {@code cp}: the ingress gateway (its metrics on a free port, which
   * it advertises in its node metadata as {@code weft proxy --prometheus} does), podinfo v1 and v2
   * with sidecars, and the 90/10 VirtualService.
   */
  private Canary startCanary(MeshForTests mesh) throws Exception {
    // The gateway's metrics port: advertised as ENVOY_PROMETHEUS_PORT, not listed.
    MeshForTests.Gateway gateway =
        mesh.ingress().serviceAccount(Installer.GATEWAY_SERVICE_ACCOUNT).metrics().start();
    List<HostPort> metrics = new ArrayList<>(List.of(gateway.metrics()));
    metrics.add(startWorkload(mesh, "podinfo-v1", "v1", "6.7.1"));
    metrics.add(startWorkload(mesh, "podinfo-v2", "v2", "6.7.0"));
    MeshForTests.awaitReady(gateway.proxy());
    mesh.apply(DemoManifests.concat(DemoManifests.CANARY), "canary.yaml");
    return new Canary(gateway.port(), metrics);
  }

  /**
   * With a Prometheus configured (Kiali's {@code external_services.prometheus.url}), the graph
   * comes from PromQL over what a real Prometheus scraped; and every query of the Grafana
   * dashboards in {@code samples} is valid PromQL that this Prometheus answers.
   */
  @Test
  void withAPrometheusTheGraphComesFromPromqlAndTheGrafanaQueriesRun() throws Exception {
    Path prometheus = PrometheusForTests.binary();
    Assumptions.assumeTrue(
        prometheus != null,
        "prometheus is not installed (apt-get install prometheus; .ci/run installs it): skipping");
    int promPort = WorkloadAllocator.freePort("127.0.0.1");
    MeshForTests fixture =
        MeshForTests.builder(tmp)
            .controlPlane(
                options ->
                    options
                        .dashboardAddress(new InetSocketAddress("127.0.0.1", 0))
                        .prometheusUrl(URI.create("http://127.0.0.1:" + promPort)))
            .start();
    closeables.add(fixture);
    state = fixture.state();
    String dashboard =
        "http://" + HostPort.of(fixture.controlPlane().dashboardAddress().orElseThrow());
    Canary mesh = startCanary(fixture);
    closeables.add(
        PrometheusForTests.start(prometheus, tmp, promPort, mesh.metrics(), Duration.ofSeconds(2)));
    String promUrl = "http://127.0.0.1:" + promPort;
    // Each target must have been scraped once; a slow scrape on a loaded machine only delays
    // this (a 2 s timeout), and the targets' last errors explain a failure.
    await(
        () ->
            "Prometheus to scrape the 3 proxies: "
                + getJsonAnyStatus(promUrl + "/api/v1/targets").path("data").path("activeTargets"),
        () -> promValue(promUrl, "count(max_over_time(up[5m]) == 1)") == 3.0);
    String url = "http://127.0.0.1:" + mesh.ingressPort() + "/version";
    Map<String, Integer> counts = new HashMap<>();
    // Requests that failed while the mesh came up (e.g. a 503 before a sidecar was ready, or a
    // client timeout on a busy machine) may still be counted by the gateway.
    int[] warmupFailures = new int[1];
    await(
        () -> "both subsets routed",
        () -> {
          String v = version(url);
          if (v != null) {
            counts.merge(v, 1, Integer::sum);
          } else {
            warmupFailures[0]++;
          }
          return counts.keySet().containsAll(List.of("6.7.1", "6.7.0"));
        });
    // A sample of every series before the measured traffic, so that rate() sees them grow.
    int warm = counts.values().stream().mapToInt(Integer::intValue).sum();
    await(
        () -> "Prometheus to scrape the warm-up",
        () -> promValue(promUrl, "sum(istio_requests_total{reporter=\"destination\"})") >= warm);
    for (int i = 0; i < 300; i++) {
      String v = version(url);
      assertThat(v).as("request %d", i).isNotNull();
      counts.merge(v, 1, Integer::sum);
    }
    int v1 = counts.get("6.7.1");
    int v2 = counts.get("6.7.0");
    JsonNode[] graph = new JsonNode[1];
    await(
        () -> "the graph from Prometheus to count " + v1 + " + " + v2 + "; has " + graph[0],
        () -> {
          graph[0] = getJson(dashboard + "/api/v1/graph?namespace=demo");
          JsonNode a = edge(graph[0], SERVICE, V1);
          JsonNode b = edge(graph[0], SERVICE, V2);
          return a != null
              && b != null
              && a.path("requests").asLong() == v1
              && b.path("requests").asLong() == v2
              && a.path("rate").asDouble() > 0
              && b.path("rate").asDouble() > 0;
        });
    JsonNode g = graph[0];
    assertThat(g.path("source").asText()).isEqualTo("prometheus");
    assertThat(g.path("errors")).isEmpty();
    assertThat(edge(g, GATEWAY, SERVICE).path("requests").asLong()).isEqualTo(v1 + v2);
    assertThat(node(g, GATEWAY).path("type").asText()).isEqualTo("gateway");
    // The split is each edge's share of the service's rate() over the last minute. Not compared
    // with the 90/10 sent: Prometheus extrapolates each series' increase from its own scrapes, and
    // on a busy machine the two sidecars are scraped at times far enough apart to move the ratio
    // anywhere (40/60 seen). The counts above are exact; here the share must be the rates'.
    double r1 = edge(g, SERVICE, V1).path("rate").asDouble();
    double r2 = edge(g, SERVICE, V2).path("rate").asDouble();
    assertThat(edge(g, SERVICE, V1).path("percent").asDouble())
        .isCloseTo(100 * r1 / (r1 + r2), org.assertj.core.data.Offset.offset(0.5));
    assertThat(edge(g, SERVICE, V2).path("percent").asDouble())
        .isCloseTo(100 * r2 / (r1 + r2), org.assertj.core.data.Offset.offset(0.5));
    assertThat(edge(g, SERVICE, V1).path("p99").isNumber()).isTrue();

    // Every Grafana panel's query runs (variables set to this mesh's values).
    int queries = 0;
    for (String name :
        List.of(
            "istio-mesh-dashboard.json",
            "istio-service-dashboard.json",
            "istio-workload-dashboard.json")) {
      JsonNode d;
      try (java.io.InputStream in =
          DashboardIntegrationTest.class.getResourceAsStream("/dev/weft/samples/grafana/" + name)) {
        d = JSON.readTree(in);
      }
      for (JsonNode p : d.path("panels")) {
        for (JsonNode t : p.path("targets")) {
          String expr =
              t.path("expr")
                  .asText()
                  .replace("$service", "podinfo.demo.svc.cluster.local")
                  .replace("$namespace", "demo")
                  .replace("$workload", "podinfo-v1");
          JsonNode answer = promQuery(promUrl, expr);
          assertThat(answer.path("status").asText())
              .as("%s: %s → %s", name, expr, answer)
              .isEqualTo("success");
          queries++;
        }
      }
    }
    assertThat(queries).isGreaterThan(20);
    // rate() needs two samples of each series inside its window: wait for the next scrapes.
    String successRate =
        "sum(rate(istio_requests_total{reporter=\"source\",response_code!~\"5.*\"}[1m]))"
            + " / sum(rate(istio_requests_total{reporter=\"source\"}[1m]))";
    await(
        () -> "the mesh dashboard's success rate: " + promQuery(promUrl, successRate),
        () -> !promQuery(promUrl, successRate).path("data").path("result").isEmpty());
  }

  private JsonNode promQuery(String base, String query) {
    return getJsonAnyStatus(
        base
            + "/api/v1/query?query="
            + java.net.URLEncoder.encode(query, java.nio.charset.StandardCharsets.UTF_8));
  }

  /** The single value of an instant query, or NaN when there is none (yet). */
  private double promValue(String base, String query) {
    try {
      JsonNode r = promQuery(base, query).path("data").path("result");
      return r.size() == 1
          ? Double.parseDouble(r.get(0).path("value").get(1).asText())
          : Double.NaN;
    } catch (RuntimeException | AssertionError e) {
      return Double.NaN; // not up yet
    }
  }

  private JsonNode getJsonAnyStatus(String url) {
    try {
      HttpResponse<String> r =
          http.send(
              HttpRequest.newBuilder(URI.create(url)).timeout(REQUEST_TIMEOUT).build(),
              HttpResponse.BodyHandlers.ofString());
      return JSON.readTree(r.body());
    } catch (IOException e) {
      throw new AssertionError(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /**
   * Runs headless Chromium on {@code url}; returns its standard output (the DOM for --dump-dom).
   */
  private String chromium(Path chromium, String what, String url) throws Exception {
    Path profile = Files.createTempDirectory(tmp, "chromium-");
    Path outFile = tmp.resolve("chromium-" + System.nanoTime() + ".out");
    List<String> cmd =
        List.of(
            chromium.toString(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--user-data-dir=" + profile,
            "--window-size=1280,800",
            // let the page's fetches and rendering finish before the dump or screenshot
            "--virtual-time-budget=10000",
            what,
            url);
    Process p =
        new ProcessBuilder(cmd)
            .redirectOutput(outFile.toFile())
            .redirectError(tmp.resolve("chromium.err").toFile())
            .start();
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("chromium did not finish within 120 s: " + cmd);
    }
    assertThat(p.exitValue())
        .as("chromium %s, stderr:\n%s", cmd, Files.readString(tmp.resolve("chromium.err")))
        .isZero();
    return Files.readString(outFile);
  }

  private static Path findOnPath(String name) {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
      Path p = Path.of(dir, name);
      if (Files.isExecutable(p)) {
        return p;
      }
    }
    return null;
  }

  private static JsonNode edge(JsonNode graph, String source, String target) {
    for (JsonNode e : graph.path("edges")) {
      if (e.path("source").asText().equals(source) && e.path("target").asText().equals(target)) {
        return e;
      }
    }
    return null;
  }

  private static JsonNode node(JsonNode graph, String id) {
    for (JsonNode n : graph.path("nodes")) {
      if (n.path("id").asText().equals(id)) {
        return n;
      }
    }
    throw new AssertionError("no node " + id + " in " + graph);
  }

  private JsonNode getJson(String url) {
    try {
      HttpResponse<String> r =
          http.send(
              HttpRequest.newBuilder(URI.create(url)).timeout(REQUEST_TIMEOUT).build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).as("GET %s: %s", url, r.body()).isEqualTo(200);
      return JSON.readTree(r.body());
    } catch (IOException e) {
      throw new AssertionError(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /** Starts a podinfo app and its sidecar with its metrics port; returns that port. */
  private static HostPort startWorkload(MeshForTests mesh, String name, String subset, String v)
      throws IOException {
    MeshForTests.Workload w = mesh.allocate(name, "http:9898");
    mesh.podinfo(w, v);
    mesh.sidecarWithMetrics(w, "app=podinfo,version=" + subset);
    return w.metrics();
  }

  /**
   * The version {@code GET url} answers, or null. Its timeout only bounds a broken mesh: a request
   * the client gave up on may still be served and counted by the proxies (and its code 0 counted as
   * a failure) but not by the test, so it must not expire on a busy machine.
   */
  private String version(String url) {
    try {
      HttpResponse<String> r =
          http.send(
              HttpRequest.newBuilder(URI.create(url)).timeout(REQUEST_TIMEOUT).build(),
              HttpResponse.BodyHandlers.ofString());
      return r.statusCode() == 200 ? JSON.readTree(r.body()).path("version").asText(null) : null;
    } catch (IOException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  private static void await(Supplier<String> what, BooleanSupplier condition)
      throws InterruptedException {
    Conditions.await(what, Duration.ofSeconds(60), condition);
  }
}
