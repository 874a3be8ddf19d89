package dev.weft.cli;

import static dev.weft.cli.run.Conditions.await;
import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.weft.api.ResourceParser;
import dev.weft.controlplane.ControlPlane;
import dev.weft.proxy.Proxy;
import dev.weft.proxy.ProxyBootstrap;
import dev.weft.xds.NodeId;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ProxySelector;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #7 end to end, in one JVM with real sockets: Weft's control plane generates Istio's mTLS
 * for two real Weft sidecars (a client and podinfo) that announce TLS support and hold their
 * workload certificates in process, issued by the control plane's CA through each proxy's identity
 * agent (TLS xDS with a workload token). PERMISSIVE (the default) serves mesh mTLS and plaintext
 * from outside; STRICT refuses plaintext while meshed traffic flows; a DestinationRule DISABLE
 * towards STRICT fails; a wrong SAN fails; a workload's port-level DISABLE makes its clients send
 * plaintext.
 */
class MeshMtlsTest {
  @TempDir Path tmp;
  ControlPlane cp;
  String serverIp;
  String clientIp;
  String appIp;
  HttpServer app;
  Proxy server;
  Proxy client;

  @BeforeEach
  void setUp() throws Exception {
    // Loopback addresses of their own (other meshes may run on 127.0.1.x); the ports are fixed by
    // the mesh's conventions (9898, 15001) but the addresses are not shared.
    int a = ThreadLocalRandom.current().nextInt(2, 250);
    int b = ThreadLocalRandom.current().nextInt(2, 250);
    serverIp = "127.77." + a + "." + b;
    clientIp = "127.78." + a + "." + b;
    appIp = "127.79." + a + "." + b;
    cp =
        ControlPlane.builder()
            .stateDir(tmp.resolve("cp"))
            .xdsAddress(new InetSocketAddress("127.0.0.1", 0))
            .apiAddress(new InetSocketAddress("127.0.0.1", 0))
            .debounce(Duration.ZERO)
            .build();
    cp.start();
    apply(
        """
        apiVersion: v1
        kind: Service
        metadata: {name: podinfo, namespace: demo}
        spec:
          selector: {app: podinfo}
          ports:
          - {name: http, port: 80, targetPort: 9898}
        """);
    app = HttpServer.create(new InetSocketAddress(appIp, 9898), 0);
    app.createContext(
        "/",
        ex -> {
          byte[] body = ("app " + ex.getRequestURI()).getBytes(StandardCharsets.UTF_8);
          ex.sendResponseHeaders(200, body.length);
          ex.getResponseBody().write(body);
          ex.close();
        });
    app.start();
    server =
        start(
            "podinfo-v1",
            serverIp,
            Map.of("app", "podinfo", "version", "v1"),
            "podinfo",
            "http:9898",
            appIp);
    client = start("curl", clientIp, Map.of("app", "curl"), "curl", "", "127.0.0.1");
  }

  @AfterEach
  void tearDown() throws Exception {
    for (Proxy p : new Proxy[] {client, server}) {
      if (p != null) {
        p.close();
      }
    }
    if (app != null) {
      app.stop(0);
    }
    cp.close();
  }

  @Test
  void peerAuthenticationAutoMtlsAndDestinationRuleTlsBetweenRealSidecars() throws Exception {
    String handshakes = "listener." + serverIp + "_9898.ssl.handshake";
    // PERMISSIVE (Istio's default): mTLS from the mesh, plaintext from a client without sidecar.
    await("meshed traffic", () -> viaMesh("/a") == 200);
    assertThat(stat(server, handshakes)).isGreaterThanOrEqualTo(1);
    assertThat(direct("/plain")).isEqualTo(200);

    // STRICT: a client without a sidecar is refused; meshed traffic flows.
    apply(
        """
        apiVersion: security.istio.io/v1
        kind: PeerAuthentication
        metadata: {name: default, namespace: demo}
        spec: {mtls: {mode: STRICT}}
        """);
    await("plaintext refused", () -> direct("/plain") == -1);
    assertThat(viaMesh("/b")).isEqualTo(200);

    // A DestinationRule that disables TLS towards a STRICT server: the client's plaintext is
    // refused (503 from the client sidecar).
    applyDestinationRule("trafficPolicy: {tls: {mode: DISABLE}}");
    await("DISABLE towards STRICT to fail", () -> viaMesh("/c") == 503);

    // ISTIO_MUTUAL verifying a SAN the server does not have: refused; with the service's own
    // identities (the default), accepted.
    applyDestinationRule(
        "trafficPolicy: {tls: {mode: ISTIO_MUTUAL, subjectAltNames:"
            + " [\"spiffe://cluster.local/ns/demo/sa/someone-else\"]}}");
    await("a wrong SAN to fail", () -> viaMesh("/d") == 503);
    applyDestinationRule("trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}");
    await("ISTIO_MUTUAL with the service's identities", () -> viaMesh("/e") == 200);

    // The workload's port DISABLE (more specific than the namespace's STRICT): plaintext from
    // outside is served, and the client's auto mTLS sends plaintext (no new handshake).
    applyDestinationRule("subsets: [{name: v1, labels: {version: v1}}]");
    apply(
        """
        apiVersion: security.istio.io/v1
        kind: PeerAuthentication
        metadata: {name: podinfo, namespace: demo}
        spec:
          selector: {matchLabels: {app: podinfo}}
          portLevelMtls:
            9898: {mode: DISABLE}
        """);
    await("plaintext served on the DISABLEd port", () -> direct("/f") == 200);
    await("auto mTLS to follow", () -> viaMesh("/g") == 200);
    long before = stat(server, handshakes);
    assertThat(viaMesh("/h")).isEqualTo(200);
    assertThat(stat(server, handshakes)).isEqualTo(before);
  }

  // ------------------------------------------------------------------ helpers

  void apply(String yaml) throws IOException {
    var outcome = cp.store().apply("test", ResourceParser.parse("test.yaml", yaml).resources());
    assertThat(outcome.ok()).as(outcome.toString()).isTrue();
  }

  void applyDestinationRule(String spec) throws IOException {
    apply(
        """
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: podinfo, namespace: demo}
        spec:
          host: podinfo
          %s
        """
            .formatted(spec));
  }

  Proxy start(
      String name,
      String ip,
      Map<String, String> labels,
      String serviceAccount,
      String ports,
      String appAddress)
      throws Exception {
    Proxy p =
        Proxy.start(
            ProxyBootstrap.builder()
                .nodeId(new NodeId(NodeId.SIDECAR, ip, name, "demo"))
                .metadata(
                    Map.of(
                        "NAMESPACE", "demo",
                        "NAME", name,
                        "LABELS", labels,
                        "INSTANCE_IPS", ip,
                        "WEFT_PORTS", ports,
                        "WEFT_APP_ADDRESS", appAddress,
                        "SERVICE_ACCOUNT", serviceAccount))
                .mutualTls(true)
                .xdsServer(cp.xdsAddress())
                // TLS xDS with the workload's token; also its certificate from the CA.
                .credentials(
                    new dev.weft.proxy.identity.ControlPlaneCredentials(
                        cp.ca().rootPem(),
                        () ->
                            cp.issueWorkloadToken("demo", serviceAccount, name, Duration.ofHours(1))
                                .token()))
                .adminAddress(new InetSocketAddress("127.0.0.1", 0))
                .accessLogPath(tmp.resolve(name + ".access.log"))
                .build());
    // The identity agent's way: the workload's certificate from the control plane's CA,
    // registered in the proxy's secret store as SDS `default` and `ROOTCA`.
    var certs = p.certificates().orElseThrow();
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (certs.current().isEmpty()) {
      assertThat(System.nanoTime()).as("a certificate: %s", certs.lastError()).isLessThan(deadline);
      Thread.sleep(10); // polling interval of a condition wait
    }
    assertThat(p.awaitReady(Duration.ofSeconds(30))).as("%s", p.failure()).isTrue();
    return p;
  }

  /** Through the client sidecar (the app's HTTP proxy): {@link #send}'s status. */
  int viaMesh(String path) {
    return send(
        HttpClient.newBuilder()
            .proxy(ProxySelector.of(new InetSocketAddress(clientIp, 15001)))
            .connectTimeout(Duration.ofSeconds(2))
            .build(),
        "http://podinfo.demo.svc.cluster.local" + path);
  }

  /** Straight to podinfo's sidecar, as a client without a sidecar: {@link #send}'s status. */
  int direct(String path) {
    return send(
        HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build(),
        "http://" + serverIp + ":9898" + path);
  }

  /**
   * One request on a new client (no pooled connection outlives a listener change): its status, -1
   * when the connection was refused or closed, 0 when no answer came in time. The timeout only
   * bounds a broken mesh (a busy machine must not reach it): a single request's 200 is asserted,
   * and a request given up on is not a refusal.
   */
  static int send(HttpClient c, String url) {
    try (c) {
      return c.send(
              HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(60)).build(),
              HttpResponse.BodyHandlers.ofString())
          .statusCode();
    } catch (java.net.http.HttpTimeoutException e) {
      return 0;
    } catch (IOException e) {
      return -1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }

  static long stat(Proxy p, String name) throws Exception {
    try (HttpClient c = HttpClient.newHttpClient()) {
      String text =
          c.send(
                  HttpRequest.newBuilder(
                          URI.create("http://127.0.0.1:" + p.adminAddress().getPort() + "/stats"))
                      .build(),
                  HttpResponse.BodyHandlers.ofString())
              .body();
      for (String line : text.split("\n")) {
        if (line.startsWith(name + ": ")) {
          return Long.parseLong(line.substring(name.length() + 2).trim());
        }
      }
      return 0;
    }
  }
}
