package dev.weft.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
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
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The guide's canary in one JVM on real sockets: a control plane, an ingress gateway, and two
 * podinfo workloads each behind its sidecar on its own loopback addresses, configured only through
 * the control plane's API with the guide's manifests.
 */
class LocalMeshIntegrationTest {
  private static final ObjectMapper JSON = new ObjectMapper();

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

  /** A running local mesh: control plane, ingress gateway, podinfo v1 and v2 with sidecars. */
  private record Mesh(ControlPlaneClient client, int ingressPort, Map<String, String> podIps) {}

  private StateDir meshState;

  private Mesh startMesh() throws Exception {
    StateDir state = StateDir.of(tmp.resolve("state")).create();
    meshState = state;
    ControlPlane cp =
        ControlPlane.builder()
            .stateDir(state.root())
            .xdsAddress(new InetSocketAddress("127.0.0.1", 0))
            .apiAddress(new InetSocketAddress("127.0.0.1", 0))
            .debounce(Duration.ofMillis(20))
            .build();
    cp.start();
    closeables.add(cp);
    ControlPlaneClient client = ControlPlaneClient.connect(state);
    HostPort xds = HostPort.of(cp.xdsAddress());

    int ingressPort = WorkloadAllocator.freePort("127.0.0.1");
    assertThat(client.apply(Installer.ingressManifests(ingressPort), "install").errors()).isEmpty();
    HostPort gatewayAdmin = new HostPort("127.0.0.1", WorkloadAllocator.freePort("127.0.0.1"));
    Proxy gateway =
        start(
            new ProxySpec(
                NodeId.ROUTER,
                "istio-ingressgateway",
                "istio-system",
                KeyValues.labels(List.of(Installer.GATEWAY_LABELS)),
                "127.0.0.1",
                "127.0.0.1",
                List.of(),
                Installer.GATEWAY_SERVICE_ACCOUNT),
            xds,
            gatewayAdmin);

    Map<String, String> podIps = new HashMap<>();
    podIps.put("podinfo-v1", startWorkload(state, xds, "podinfo-v1", "v1", "6.7.1"));
    podIps.put("podinfo-v2", startWorkload(state, xds, "podinfo-v2", "v2", "6.7.0"));
    assertThat(gateway.awaitReady(Duration.ofSeconds(30))).as("gateway ready").isTrue();
    return new Mesh(client, ingressPort, podIps);
  }

  @Test
  void canarySplitsWithinBoundsAndHeaderRouteSelectsV2() throws Exception {
    Mesh mesh = startMesh();
    ControlPlaneClient client = mesh.client();
    int ingressPort = mesh.ingressPort();

    ControlPlaneClient.Outcome applied =
        client.apply(DemoManifests.concat(DemoManifests.CANARY), "canary.yaml");
    assertThat(applied.errors()).isEmpty();
    assertThat(applied.results())
        .extracting(ControlPlaneClient.Result::qualifiedName)
        .containsExactly(
            "service/podinfo",
            "gateway.networking.istio.io/podinfo-gw",
            "destinationrule.networking.istio.io/podinfo",
            "virtualservice.networking.istio.io/podinfo");

    String url = "http://127.0.0.1:" + ingressPort + "/version";
    Set<String> seen = new HashSet<>();
    await(
        "both subsets routed",
        () -> {
          String v = version(url, Map.of());
          if (v != null) {
            seen.add(v);
          }
          return seen.containsAll(List.of("6.7.1", "6.7.0"));
        });

    int n = 200;
    Map<String, Integer> counts = new HashMap<>();
    for (int i = 0; i < n; i++) {
      String v = version(url, Map.of());
      assertThat(v).as("request %d", i).isNotNull();
      counts.merge(v, 1, Integer::sum);
    }
    BinomialBounds bounds = BinomialBounds.of(n, 0.9, 0.999);
    assertThat(counts.get("6.7.1") + counts.get("6.7.0")).isEqualTo(n);
    assertThat(bounds.contains(counts.get("6.7.1")))
        .as("v1 count %s within %s", counts.get("6.7.1"), bounds)
        .isTrue();

    assertThat(
            client
                .apply(DemoManifests.read(DemoManifests.VIRTUAL_SERVICE_HEADER), "header.yaml")
                .results())
        .extracting(ControlPlaneClient.Result::action)
        .containsExactly("configured");
    Map<String, String> canary = Map.of("x-canary", "true");
    // Under the old 90/10 route a pair of requests looks right 9% of the time: wait for ten in a
    // row.
    int[] streak = {0};
    await(
        "header route",
        () -> {
          boolean right =
              "6.7.0".equals(version(url, canary)) && "6.7.1".equals(version(url, Map.of()));
          streak[0] = right ? streak[0] + 1 : 0;
          return streak[0] >= 10;
        });
    for (int i = 0; i < 20; i++) {
      assertThat(version(url, canary)).isEqualTo("6.7.0");
      assertThat(version(url, Map.of())).isEqualTo("6.7.1");
    }
  }

  /**
   * A route to a subset no DestinationRule defines gets 503 (Envoy's NC: its cluster does not
   * exist) while the other routes of the same VirtualService keep working; and an app reaches the
   * service through its sidecar's outbound HTTP proxy (absolute-form requests routed by authority).
   */
  @Test
  void unknownSubsetGets503WhileTheRestAppliesAndSidecarProxiesOutbound() throws Exception {
    Mesh mesh = startMesh();
    String unknownSubset =
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
          - match:
            - headers:
                x-subset:
                  exact: v3
            route:
            - destination: {host: podinfo.demo.svc.cluster.local, subset: v3}
          - headers:
              response:
                set: {x-weft-route: v1}
            route:
            - destination: {host: podinfo.demo.svc.cluster.local, subset: v1}
        """;
    String manifests =
        DemoManifests.concat(
                List.of(
                    DemoManifests.PODINFO_SERVICE,
                    DemoManifests.GATEWAY,
                    DemoManifests.DESTINATION_RULE))
            + "\n---\n"
            + unknownSubset;
    assertThat(mesh.client().apply(manifests, "unknown-subset.yaml").errors()).isEmpty();

    String url = "http://127.0.0.1:" + mesh.ingressPort() + "/version";
    await("the v1 route", () -> "6.7.1".equals(version(url, Map.of())));
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(URI.create(url)).header("x-subset", "v3").GET().build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(503);
    assertThat(version(url, Map.of())).isEqualTo("6.7.1");
    // The route's header operations reach the proxy (Istio's headers.response.set).
    HttpResponse<String> v1 =
        http.send(
            HttpRequest.newBuilder(URI.create(url)).GET().build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(v1.headers().firstValue("x-weft-route")).contains("v1");
    Path gatewayLog = tmp.resolve("istio-ingressgateway.access.log");
    await(
        "an access log line with the NC flag",
        () -> {
          try {
            return java.nio.file.Files.exists(gatewayLog)
                && java.nio.file.Files.readString(gatewayLog).contains("503 NC")
                && java.nio.file.Files.readString(gatewayLog)
                    .contains("outbound|80|v3|podinfo.demo.svc.cluster.local");
          } catch (IOException e) {
            return false;
          }
        });

    // podinfo-v2's app calls the service through its sidecar (its http_proxy): without a mesh
    // VirtualService the sidecar balances over both versions.
    HttpClient viaSidecar =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .proxy(
                java.net.ProxySelector.of(
                    new InetSocketAddress(mesh.podIps().get("podinfo-v2"), 15001)))
            .build();
    Set<String> seen = new HashSet<>();
    await(
        "both versions through the sidecar's outbound proxy",
        () -> {
          for (String host : List.of("podinfo", "podinfo.demo", "podinfo.demo.svc.cluster.local")) {
            try {
              HttpResponse<String> res =
                  viaSidecar.send(
                      HttpRequest.newBuilder(URI.create("http://" + host + "/version")).build(),
                      HttpResponse.BodyHandlers.ofString());
              assertThat(res.statusCode()).as("GET http://%s/version", host).isEqualTo(200);
              seen.add(JSON.readTree(res.body()).path("version").asText());
            } catch (IOException e) {
              return false;
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
              return false;
            }
          }
          return seen.containsAll(List.of("6.7.1", "6.7.0"));
        });
  }

  /** Starts a podinfo app and its sidecar; returns the workload's pod IP. */
  private String startWorkload(StateDir state, HostPort xds, String name, String subset, String v)
      throws IOException {
    List<KeyValues.NamedPort> ports = KeyValues.ports(List.of("http:9898"));
    WorkloadAllocator.Addresses a =
        WorkloadAllocator.allocate(state, "demo", name, ports, Map.of());
    PodinfoServer app =
        PodinfoServer.builder().address(a.appAddress()).port(9898).version(v).ioThreads(1).start();
    closeables.add(app);
    Proxy sidecar =
        start(
            new ProxySpec(
                NodeId.SIDECAR,
                name,
                "demo",
                KeyValues.labels(List.of("app=podinfo,version=" + subset)),
                a.podIp(),
                a.appAddress(),
                ports,
                "default"),
            xds,
            new HostPort(a.podIp(), 15000));
    assertThat(sidecar.awaitReady(Duration.ofSeconds(30)))
        .as("sidecar %s ready: %s", name, sidecar.failure())
        .isTrue();
    return a.podIp();
  }

  private Proxy start(ProxySpec spec, HostPort xds, HostPort admin) {
    Proxy p =
        ProxyCommand.start(meshState, spec, xds, admin, tmp.resolve(spec.name() + ".access.log"));
    closeables.add(p);
    return p;
  }

  /** The {@code version} that {@code GET url} answers, or null on any failure. */
  private String version(String url, Map<String, String> headers) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5)).GET();
    headers.forEach(b::header);
    try {
      HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
      return r.statusCode() == 200 ? JSON.readTree(r.body()).path("version").asText(null) : null;
    } catch (IOException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  private static void await(String what, BooleanSupplier condition) throws InterruptedException {
    Instant deadline = Instant.now().plusSeconds(30);
    while (!condition.getAsBoolean()) {
      if (Instant.now().isAfter(deadline)) {
        throw new AssertionError("timed out waiting for " + what);
      }
      Thread.sleep(10); // polling a condition with a deadline
    }
  }
}
