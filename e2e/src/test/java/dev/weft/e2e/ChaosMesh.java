package dev.weft.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;

/**
 * A small mesh for chaos tests, every part a real process: the control plane ({@code weft install
 * --profile minimal}), an ingress gateway ({@code weft proxy router}) and two podinfo workloads
 * (v1, v2: {@code weft sample podinfo} behind {@code weft proxy sidecar}), with the demo's Gateway,
 * DestinationRule and a 50/50 VirtualService. The gateway and the sidecars reach the control plane
 * through two {@link XdsRelay}s, so a test decides which of them reconnects first after a restart.
 */
final class ChaosMesh implements AutoCloseable {
  static final String MANIFESTS =
      """
      apiVersion: v1
      kind: Namespace
      metadata: {name: demo}
      ---
      apiVersion: v1
      kind: Service
      metadata: {name: podinfo, namespace: demo}
      spec:
        selector: {app: podinfo}
        ports:
        - {name: http, port: 80, targetPort: 9898}
      ---
      apiVersion: networking.istio.io/v1
      kind: DestinationRule
      metadata: {name: podinfo, namespace: demo}
      spec:
        host: podinfo.demo.svc.cluster.local
        subsets:
        - {name: v1, labels: {version: v1}}
        - {name: v2, labels: {version: v2}}
      ---
      apiVersion: networking.istio.io/v1
      kind: Gateway
      metadata: {name: podinfo-gw, namespace: demo}
      spec:
        selector: {istio: ingressgateway}
        servers:
        - port: {number: 80, name: http, protocol: HTTP}
          hosts: ["*"]
      ---
      apiVersion: networking.istio.io/v1
      kind: VirtualService
      metadata: {name: podinfo, namespace: demo}
      spec:
        hosts: ["*"]
        gateways: ["podinfo-gw"]
        http:
        - route:
          - destination: {host: podinfo.demo.svc.cluster.local, subset: v1}
            weight: 50
          - destination: {host: podinfo.demo.svc.cluster.local, subset: v2}
            weight: 50
      """;

  private static final ObjectMapper JSON = new ObjectMapper();

  final Path tmp;
  final Path state;
  final int xdsPort;
  final int apiPort;
  final int ingressPort;
  final int gatewayAdminPort;
  final XdsRelay gatewayRelay;
  final XdsRelay sidecarRelay;
  private final HttpClient http =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(2))
          .build();
  private final List<Process> processes = new ArrayList<>();
  Process gateway;

  private ChaosMesh(Path tmp) throws IOException {
    this.tmp = tmp;
    this.state = tmp.resolve("state");
    this.xdsPort = WeftProcess.freePort();
    this.apiPort = WeftProcess.freePort();
    this.ingressPort = WeftProcess.freePort();
    this.gatewayAdminPort = WeftProcess.freePort();
    InetSocketAddress xds = new InetSocketAddress(InetAddress.getLoopbackAddress(), xdsPort);
    this.gatewayRelay = XdsRelay.start(xds);
    this.sidecarRelay = XdsRelay.start(xds);
  }

  /** Installs the mesh and waits until the gateway answers from both versions. */
  static ChaosMesh start(Path tmp) throws Exception {
    ChaosMesh mesh = new ChaosMesh(tmp);
    try {
      mesh.install();
      mesh.apply(MANIFESTS);
      mesh.gateway =
          mesh.background(
              "gateway",
              "proxy",
              "router",
              "--state-dir",
              mesh.state.toString(),
              "--name",
              "istio-ingressgateway",
              "-n",
              "istio-system",
              "--labels",
              "istio=ingressgateway,app=istio-ingressgateway",
              "--ip",
              "127.0.0.1",
              "--admin",
              "127.0.0.1:" + mesh.gatewayAdminPort,
              "--xds",
              "127.0.0.1:" + mesh.gatewayRelay.port(),
              "--access-log",
              mesh.tmp.resolve("gateway.access.log").toString());
      mesh.workload("v1", "6.7.1");
      mesh.workload("v2", "6.7.0");
      mesh.await(
          "the gateway to answer from v1 and v2",
          Duration.ofMinutes(2),
          () -> mesh.versionsSeen().containsAll(List.of("6.7.0", "6.7.1")));
      mesh.await(
          "every proxy to be synced", Duration.ofMinutes(1), () -> mesh.synced(3, p -> true));
      return mesh;
    } catch (Exception | AssertionError e) {
      mesh.close();
      throw e;
    }
  }

  /** {@code weft install} (first install, or the repair after a crash: same addresses). */
  WeftProcess.Result install() throws Exception {
    WeftProcess.Result r =
        WeftProcess.run(
            tmp,
            Duration.ofMinutes(2),
            "install",
            "--profile",
            "minimal",
            "--state-dir",
            state.toString(),
            "--xds-address",
            "127.0.0.1:" + xdsPort,
            "--api-address",
            "127.0.0.1:" + apiPort,
            "--ingress-port",
            Integer.toString(ingressPort));
    assertThat(r.status()).as(r.toString()).isZero();
    return r;
  }

  /** The control plane's process, from the state directory. */
  ProcessHandle controlPlane() throws IOException {
    long pid = Long.parseLong(Files.readString(state.resolve("pids/controlplane.pid")).trim());
    return ProcessHandle.of(pid).orElseThrow(() -> new AssertionError("no control plane " + pid));
  }

  /** SIGKILLs the control plane and waits until it is gone. */
  void killControlPlane() throws Exception {
    ProcessHandle cp = controlPlane();
    // SIGKILL (destroyForcibly on Unix): no chance to say goodbye to the proxies.
    assertThat(cp.destroyForcibly()).isTrue();
    cp.onExit().get();
  }

  private void workload(String version, String appVersion) throws Exception {
    String[] addresses = freeWorkloadAddresses();
    String podIp = addresses[0];
    String appIp = addresses[1];
    background(
        "podinfo-" + version + ".app",
        "sample",
        "podinfo",
        "--address",
        appIp,
        "--port",
        "9898",
        "--version",
        appVersion);
    background(
        "podinfo-" + version + ".sidecar",
        "proxy",
        "sidecar",
        "--state-dir",
        state.toString(),
        "--name",
        "podinfo-" + version,
        "-n",
        "demo",
        "--labels",
        "app=podinfo,version=" + version,
        "--ip",
        podIp,
        "--app-address",
        appIp,
        "--ports",
        "http:9898",
        "--admin",
        podIp + ":15000",
        "--xds",
        "127.0.0.1:" + sidecarRelay.port(),
        "--access-log",
        tmp.resolve("podinfo-" + version + ".access.log").toString());
  }

  /** A pod IP and an app address on loopback whose ports the workload needs are free. */
  private static String[] freeWorkloadAddresses() throws IOException {
    for (int attempt = 0; attempt < 200; attempt++) {
      ThreadLocalRandom r = ThreadLocalRandom.current();
      String prefix = "127." + r.nextInt(64, 128) + "." + r.nextInt(1, 255) + ".";
      String pod = prefix + r.nextInt(2, 127);
      String app = prefix + r.nextInt(128, 254);
      if (canBind(pod, 15000) && canBind(pod, 15001) && canBind(pod, 9898) && canBind(app, 9898)) {
        return new String[] {pod, app};
      }
    }
    throw new IOException("no free loopback addresses for a workload");
  }

  private static boolean canBind(String ip, int port) {
    try (ServerSocket s = new ServerSocket()) {
      s.bind(new InetSocketAddress(ip, port));
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private Process background(String name, String... args) throws IOException {
    Process p = WeftProcess.start(tmp, tmp.resolve(name + ".log"), args);
    processes.add(p);
    return p;
  }

  /** The gateway's address (its HTTP listener, Service port 80's target port). */
  InetSocketAddress ingress() {
    return new InetSocketAddress(InetAddress.getLoopbackAddress(), ingressPort);
  }

  private List<String> versionsSeen() {
    List<String> seen = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      try {
        HttpResponse<String> r =
            http.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + ingressPort + "/version"))
                    .timeout(Duration.ofSeconds(5))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        int at = r.body().indexOf("\"version\":\"");
        if (r.statusCode() == 200 && at >= 0) {
          seen.add(r.body().substring(at + 11, r.body().indexOf('"', at + 11)));
        }
      } catch (IOException e) {
        // not ready yet
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return seen;
      }
    }
    return seen;
  }

  // ------------------------------------------------------------------ control plane API

  private String token() throws IOException {
    return Files.readString(state.resolve("token"), StandardCharsets.UTF_8).trim();
  }

  private HttpResponse<String> api(String method, String path, String body)
      throws IOException, InterruptedException {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + apiPort + path))
            .timeout(Duration.ofSeconds(10))
            .header("Authorization", "Bearer " + token());
    b =
        body == null
            ? b.GET()
            : b.header("Content-Type", "application/yaml")
                .method(method, HttpRequest.BodyPublishers.ofString(body));
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** Applies YAML through the API; fails the test unless it is accepted. */
  void apply(String yaml) throws Exception {
    HttpResponse<String> r = api("POST", "/api/v1/apply", yaml);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
  }

  /** Deletes YAML's resources through the API; fails the test unless they were deleted. */
  void delete(String yaml) throws Exception {
    HttpResponse<String> r = api("POST", "/api/v1/delete", yaml);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(r.body()).doesNotContain("\"message\"");
  }

  /** The proxies the control plane lists, or an empty list when it does not answer. */
  List<JsonNode> proxies() {
    try {
      HttpResponse<String> r = api("GET", "/api/v1/proxies", null);
      if (r.statusCode() != 200) {
        return List.of();
      }
      List<JsonNode> out = new ArrayList<>();
      JSON.readTree(r.body()).path("proxies").forEach(out::add);
      return out;
    } catch (IOException e) {
      return List.of();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return List.of();
    }
  }

  /**
   * Whether exactly {@code count} connected proxies match {@code which}, each of them having ACKed
   * the latest CDS, EDS, LDS and RDS the control plane sent it.
   */
  boolean synced(int count, Predicate<JsonNode> which) {
    long n =
        proxies().stream()
            .filter(p -> p.path("connected").asBoolean() && which.test(p))
            .filter(ChaosMesh::allTypesAcked)
            .count();
    return n == count;
  }

  /** Connected proxies that match {@code which}, synced or not. */
  long connected(Predicate<JsonNode> which) {
    return proxies().stream().filter(p -> p.path("connected").asBoolean() && which.test(p)).count();
  }

  /**
   * The EDS version the control plane last sent the first connected proxy {@code which} matches.
   */
  String edsSent(Predicate<JsonNode> which) {
    return proxies().stream()
        .filter(p -> p.path("connected").asBoolean() && which.test(p))
        .map(p -> p.path("types").path("EDS").path("sent").asText(""))
        .findFirst()
        .orElse("");
  }

  /** The version {@code GET /version} with {@code Host: host} answers through the gateway. */
  String version(String host) {
    try (LoadGenerator.Connection c = new LoadGenerator.Connection(ingress())) {
      LoadGenerator.Response r = c.get(new LoadGenerator.Target(host, "/version"));
      String body = r.body();
      int at = body.indexOf("\"version\":\"");
      return r.status() != 200 || at < 0
          ? null
          : body.substring(at + 11, body.indexOf('"', at + 11));
    } catch (IOException e) {
      return null;
    }
  }

  static boolean isRouter(JsonNode proxy) {
    return "router".equals(proxy.path("type").asText());
  }

  static boolean isSidecar(JsonNode proxy) {
    return "sidecar".equals(proxy.path("type").asText());
  }

  private static boolean allTypesAcked(JsonNode proxy) {
    for (String type : List.of("CDS", "EDS", "LDS", "RDS")) {
      JsonNode t = proxy.path("types").path(type);
      String sent = t.path("sent").asText("");
      if (sent.isEmpty() || !sent.equals(t.path("acked").asText(""))) {
        return false;
      }
    }
    return true;
  }

  /** Polls {@code condition} (every 100 ms) until it holds; fails the test past {@code timeout}. */
  void await(String what, Duration timeout, BooleanSupplier condition) throws InterruptedException {
    Instant deadline = Instant.now().plus(timeout);
    while (!condition.getAsBoolean()) {
      if (Instant.now().isAfter(deadline)) {
        throw new AssertionError("timed out waiting for " + what + "; proxies: " + proxies());
      }
      Thread.sleep(100); // polling a condition with a deadline
    }
  }

  /** The tail of a log this mesh wrote ({@code controlplane} is the control plane's). */
  String logTail(String name, int lines) {
    Path p =
        name.equals("controlplane")
            ? state.resolve("logs/controlplane.log")
            : tmp.resolve(name + ".log");
    try {
      List<String> all = Files.readAllLines(p);
      return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    } catch (IOException e) {
      return "(no log " + p + ")";
    }
  }

  @Override
  public void close() throws Exception {
    for (Process p : processes.reversed()) {
      WeftProcess.stop(p);
    }
    gatewayRelay.close();
    sidecarRelay.close();
    WeftProcess.uninstall(tmp, state);
  }
}
