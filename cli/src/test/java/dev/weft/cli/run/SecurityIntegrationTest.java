package dev.weft.cli.run;

import static dev.weft.cli.run.Conditions.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.sun.net.httpserver.HttpServer;
import dev.weft.cli.common.ControlPlaneClient;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Istio's security tasks on a local mesh in one JVM over real sockets: a control plane, the ingress
 * gateway and podinfo behind its sidecar, configured through the control plane's API; Istio's
 * reference JWTs and JWKS ({@code shared/reference/samples/jwt}), the JWKS served by a local HTTP
 * server (and one that never answers). Each step waits until the proxies have ACKed the applied
 * generation (a NACK fails the test), then checks the answers Istio's tasks expect.
 */
class SecurityIntegrationTest {
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

  // ------------------------------------------------------------------ fixtures

  static Path reference() {
    String shared = System.getProperty("weft.shared.dir");
    Path dir = shared == null ? null : Path.of(shared, "reference", "samples", "jwt");
    assumeTrue(dir != null && Files.isDirectory(dir), "shared reference data not available");
    return dir;
  }

  static String ref(String name) throws IOException {
    return Files.readString(reference().resolve(name)).trim();
  }

  /**
   * A JWKS endpoint on loopback; {@code hang} makes it hold requests until {@link #release} (then
   * answer {@code jwks}, or close without an answer when it is empty).
   */
  static final class JwksEndpoint implements AutoCloseable {
    final HttpServer server;
    final CountDownLatch release = new CountDownLatch(1);
    final AtomicInteger requests = new AtomicInteger();
    final ExecutorService pool = Executors.newCachedThreadPool();

    JwksEndpoint(String jwks, boolean hang) throws IOException {
      server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
      server.setExecutor(pool);
      server.createContext(
          "/",
          ex -> {
            requests.incrementAndGet();
            if (hang) {
              try {
                release.await(120, TimeUnit.SECONDS);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
              if (jwks.isEmpty()) {
                ex.close();
                return;
              }
            }
            byte[] b = jwks.getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, b.length);
            try (OutputStream out = ex.getResponseBody()) {
              out.write(b);
            }
          });
      server.start();
    }

    String uri() {
      return "http://127.0.0.1:" + server.getAddress().getPort() + "/jwks.json";
    }

    @Override
    public void close() {
      release.countDown();
      server.stop(0);
      pool.shutdownNow();
    }
  }

  private record Mesh(ControlPlaneClient client, int ingressPort, String podIp) {
    String gateway(String path) {
      return "http://127.0.0.1:" + ingressPort + path;
    }
  }

  private Mesh startMesh() throws Exception {
    MeshForTests m = MeshForTests.start(tmp);
    closeables.add(m);
    MeshForTests.Gateway gateway = m.ingress().start();
    MeshForTests.Workload a = m.allocate("podinfo-v1", "http:9898");
    m.podinfo(a, "6.7.1");
    m.sidecar(a, "app=podinfo,version=v1");
    MeshForTests.awaitReady(gateway.proxy());
    Mesh mesh = new Mesh(m.api(), gateway.port(), a.podIp());
    apply(
        mesh,
        """
        apiVersion: v1
        kind: Service
        metadata: {name: podinfo, namespace: demo}
        spec:
          selector: {app: podinfo}
          ports: [{name: http, port: 80, targetPort: 9898}]
        ---
        apiVersion: networking.istio.io/v1
        kind: Gateway
        metadata: {name: podinfo-gw, namespace: demo}
        spec:
          selector: {istio: ingressgateway}
          servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["*"]}]
        ---
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: podinfo, namespace: demo}
        spec:
          hosts: ["*"]
          gateways: [podinfo-gw]
          http: [{route: [{destination: {host: podinfo.demo.svc.cluster.local}}]}]
        """);
    await("the route through the gateway", () -> status(mesh.gateway("/version"), Map.of()) == 200);
    return mesh;
  }

  /** Applies YAML and waits until every proxy it changed ACKed it (fails on a NACK). */
  private static void apply(Mesh mesh, String yaml) {
    ControlPlaneClient.Outcome o = mesh.client().apply(yaml, "test.yaml");
    assertThat(o.errors()).as("apply errors").isEmpty();
    ControlPlaneClient.SyncState s =
        mesh.client().awaitSync(o.generation(), Duration.ofSeconds(30));
    assertThat(s.failed()).as("a proxy NACKed: %s", s.proxies()).isFalse();
    assertThat(s.done()).as("the proxies ACKed generation %s", o.generation()).isTrue();
  }

  private HttpResponse<String> get(String url, Map<String, String> headers) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30)).GET();
    headers.forEach(b::header);
    try {
      return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new AssertionError("GET " + url, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  private int status(String url, Map<String, String> headers) {
    return get(url, headers).statusCode();
  }

  private static Map<String, String> bearer(String token) {
    return Map.of("Authorization", "Bearer " + token);
  }

  private static String scrape(String url) {
    try {
      return java.net.http.HttpClient.newHttpClient()
          .send(
              java.net.http.HttpRequest.newBuilder(java.net.URI.create(url)).build(),
              java.net.http.HttpResponse.BodyHandlers.ofString())
          .body();
    } catch (IOException e) {
      return "";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "";
    }
  }

  private void expect(String url, Map<String, String> headers, int status, String body) {
    HttpResponse<String> r = get(url, headers);
    assertThat(r.statusCode())
        .as("GET %s %s: %s", url, headers.keySet(), r.body())
        .isEqualTo(status);
    if (body != null) {
      assertThat(r.body()).isEqualTo(body);
    }
  }

  /** demo.jwt with another payload: the signature no longer fits. */
  private static String tampered(String token) {
    String[] p = token.split("\\.");
    String payload =
        Base64.getUrlEncoder()
            .withoutPadding()
            .encodeToString(
                "{\"iss\":\"testing@secure.istio.io\",\"sub\":\"admin\",\"exp\":4685989700}"
                    .getBytes(StandardCharsets.UTF_8));
    return p[0] + "." + payload + "." + p[2];
  }

  /** An unsigned token ({@code alg: none}) claiming Istio's issuer. */
  private static String algNone() {
    Base64.Encoder e = Base64.getUrlEncoder().withoutPadding();
    return e.encodeToString("{\"alg\":\"none\"}".getBytes(StandardCharsets.UTF_8))
        + "."
        + e.encodeToString(
            "{\"iss\":\"testing@secure.istio.io\",\"sub\":\"testing@secure.istio.io\"}"
                .getBytes(StandardCharsets.UTF_8))
        + ".";
  }

  // ------------------------------------------------------------------ tests

  /**
   * Istio's "JWT authorization at the ingress gateway" task: RequestAuthentication alone lets
   * requests without a token through and rejects bad tokens with 401 and Envoy's reason; adding an
   * ALLOW policy for the request principal rejects requests without a token with 403; a claim
   * condition admits groups-scope.jwt and not demo.jwt.
   */
  @Test
  void jwtAtTheIngressGateway() throws Exception {
    String demo = ref("demo.jwt");
    String groups = ref("groups-scope.jwt");
    JwksEndpoint jwks = new JwksEndpoint(ref("jwks.json"), false);
    closeables.add(jwks);
    Mesh mesh = startMesh();
    String url = mesh.gateway("/headers");

    apply(
        mesh,
        """
        apiVersion: security.istio.io/v1
        kind: RequestAuthentication
        metadata: {name: jwt-example, namespace: istio-system}
        spec:
          selector: {matchLabels: {istio: ingressgateway}}
          jwtRules:
          - issuer: testing@secure.istio.io
            jwksUri: %s
        """
            .formatted(jwks.uri()));
    expect(url, Map.of(), 200, null);
    expect(url, bearer(demo), 200, null);
    expect(
        url,
        bearer("deadbeef"),
        401,
        "Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections");
    expect(url, bearer(algNone()), 401, "Jwt header [alg] is not supported");
    expect(url, bearer(tampered(demo)), 401, "Jwt verification fails");
    // The token is removed before the app sees it (forwardOriginalToken: false).
    assertThat(get(url, bearer(demo)).body()).doesNotContain(demo.substring(0, 40));
    assertThat(jwks.requests.get()).as("the JWKS is fetched once and cached").isEqualTo(1);

    apply(
        mesh,
        """
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata: {name: require-jwt, namespace: istio-system}
        spec:
          selector: {matchLabels: {istio: ingressgateway}}
          action: ALLOW
          rules:
          - from:
            - source: {requestPrincipals: [testing@secure.istio.io/testing@secure.istio.io]}
        """);
    expect(url, Map.of(), 403, "RBAC: access denied");
    expect(url, bearer(demo), 200, null);
    expect(url, bearer(tampered(demo)), 401, "Jwt verification fails");

    apply(
        mesh,
        """
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata: {name: require-jwt, namespace: istio-system}
        spec:
          selector: {matchLabels: {istio: ingressgateway}}
          action: ALLOW
          rules:
          - from:
            - source: {requestPrincipals: [testing@secure.istio.io/testing@secure.istio.io]}
            when:
            - {key: "request.auth.claims[groups]", values: [group1]}
        """);
    expect(url, bearer(groups), 200, null);
    expect(url, bearer(demo), 403, "RBAC: access denied");
    expect(url, Map.of(), 403, "RBAC: access denied");
  }

  /**
   * Istio's "HTTP traffic" authorization task on the sidecar: allow-nothing denies everything; each
   * ALLOW policy opens exactly its path and method; a DENY policy wins over an ALLOW; an invalid
   * policy is refused with Istio's reason and changes nothing.
   */
  @Test
  void authorizationOnTheSidecar() throws Exception {
    Mesh mesh = startMesh();
    apply(
        mesh,
        """
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata: {name: allow-nothing, namespace: demo}
        spec: {}
        """);
    expect(mesh.gateway("/version"), Map.of(), 403, "RBAC: access denied");
    expect(mesh.gateway("/headers"), Map.of(), 403, "RBAC: access denied");
    // Denied before any cluster was chosen, and still counted by the destination reporter under
    // the inbound cluster's service, as Istio's stats filter does; its source is the gateway
    // (the peer metadata is read before RBAC, as Istio's istio.metadata_exchange filter does).
    java.util.regex.Pattern denied =
        java.util.regex.Pattern.compile(
            "istio_requests_total\\{reporter=\"destination\","
                + "source_workload=\"istio-ingressgateway\",[^}]*"
                + "source_principal=\"spiffe://cluster.local/ns/istio-system/sa/default\",[^}]*"
                + "destination_workload=\"podinfo-v1\",[^}]*"
                + "destination_service=\"podinfo.demo.svc.cluster.local\",[^}]*"
                + "response_code=\"403\",[^}]*response_flags=\"RBAC\",[^}]*\\} 2\n");
    await(
        "the denials in the sidecar's istio_requests_total",
        () -> denied.matcher(scrape("http://" + mesh.podIp() + ":15000/stats/prometheus")).find());

    apply(
        mesh,
        """
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata: {name: podinfo-viewer, namespace: demo}
        spec:
          selector: {matchLabels: {app: podinfo}}
          action: ALLOW
          rules:
          - to: [{operation: {methods: [GET], paths: [/version]}}]
        """);
    expect(mesh.gateway("/version"), Map.of(), 200, null);
    expect(mesh.gateway("/headers"), Map.of(), 403, "RBAC: access denied");
    HttpResponse<String> post =
        http.send(
            HttpRequest.newBuilder(URI.create(mesh.gateway("/version")))
                .POST(HttpRequest.BodyPublishers.ofString("x"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(post.statusCode()).isEqualTo(403);

    apply(
        mesh,
        """
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata: {name: deny-blocked, namespace: demo}
        spec:
          action: DENY
          rules:
          - when: [{key: "request.headers[x-block]", values: ["*"]}]
        """);
    expect(mesh.gateway("/version"), Map.of("x-block", "1"), 403, "RBAC: access denied");
    expect(mesh.gateway("/version"), Map.of(), 200, null);

    // Istio's validation (cases.md A2): refused with the reason; the mesh keeps its behaviour.
    ControlPlaneClient.Outcome bad =
        mesh.client()
            .apply(
                """
                apiVersion: security.istio.io/v1
                kind: AuthorizationPolicy
                metadata: {name: deny-nothing, namespace: demo}
                spec: {action: DENY}
                """,
                "bad.yaml");
    assertThat(bad.errors())
        .extracting(dev.weft.api.ValidationError::message)
        .anySatisfy(
            m ->
                assertThat(m)
                    .contains(
                        "DENY action without `rules` is meaningless as it will never be triggered"));
    expect(mesh.gateway("/version"), Map.of(), 200, null);
    expect(mesh.gateway("/headers"), Map.of(), 403, "RBAC: access denied");
    // Deleting allow-nothing leaves podinfo-viewer: still only /version.
    mesh.client()
        .delete(
            """
            apiVersion: security.istio.io/v1
            kind: AuthorizationPolicy
            metadata: {name: allow-nothing, namespace: demo}
            """,
            "delete.yaml");
    await("allow-nothing gone", () -> status(mesh.gateway("/version"), Map.of()) == 200);
    expect(mesh.gateway("/headers"), Map.of(), 403, "RBAC: access denied");
  }

  /**
   * Peer identities need mTLS, which local proxies now speak by default: the gateway reaches the
   * sidecar over mTLS with its SPIFFE id, so {@code principals}, {@code namespaces} and {@code
   * source.principal} match it; a plaintext client without a sidecar has no identity and matches
   * none of them (PERMISSIVE lets it in; the policy refuses it), as in Istio.
   */
  @Test
  void peerIdentitiesFromMeshMtls() throws Exception {
    Mesh mesh = startMesh();
    String direct = "http://" + mesh.podIp() + ":9898/version";
    expect(direct, Map.of(), 200, null); // PERMISSIVE: plaintext served, no policy yet
    apply(
        mesh,
        """
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata: {name: from-gateway, namespace: demo}
        spec:
          action: ALLOW
          rules:
          - from: [{source: {principals: [cluster.local/ns/istio-system/sa/default]}}]
        """);
    expect(mesh.gateway("/version"), Map.of(), 200, null);
    expect(direct, Map.of(), 403, "RBAC: access denied");

    apply(
        mesh,
        """
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata: {name: from-gateway, namespace: demo}
        spec:
          action: ALLOW
          rules:
          - from: [{source: {namespaces: [istio-system]}}]
            when: [{key: source.principal, values: ["*/sa/default"]}]
        """);
    expect(mesh.gateway("/version"), Map.of(), 200, null);
    expect(direct, Map.of(), 403, "RBAC: access denied");

    apply(
        mesh,
        """
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata: {name: not-the-gateway, namespace: demo}
        spec:
          action: DENY
          rules:
          - from: [{source: {notPrincipals: [cluster.local/ns/demo/sa/default]}}]
            to: [{operation: {paths: [/version]}}]
        """);
    expect(mesh.gateway("/version"), Map.of(), 403, "RBAC: access denied");
  }

  /**
   * A JWKS endpoint that never answers: a request whose token needs those keys waits for the fetch
   * without holding up anything else (requests without tokens, on the same proxy, are served
   * meanwhile) and is answered 401 {@code Jwks remote fetch is failed} when the fetch times out.
   */
  @Test
  void aHangingJwksEndpointNeverStallsRequests() throws Exception {
    String demo = ref("demo.jwt");
    JwksEndpoint hanging = new JwksEndpoint("", true);
    closeables.add(hanging);
    Mesh mesh = startMesh();
    String url = mesh.gateway("/version");
    apply(
        mesh,
        """
        apiVersion: security.istio.io/v1
        kind: RequestAuthentication
        metadata: {name: jwt, namespace: demo}
        spec:
          selector: {matchLabels: {app: podinfo}}
          jwtRules:
          - issuer: testing@secure.istio.io
            jwksUri: %s
            timeout: 3s
        """
            .formatted(hanging.uri()));
    await("the sidecar started fetching the JWKS", () -> hanging.requests.get() > 0);
    CompletableFuture<HttpResponse<String>> withToken =
        http.sendAsync(
            HttpRequest.newBuilder(URI.create(url))
                .header("Authorization", "Bearer " + demo)
                .timeout(Duration.ofSeconds(30))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    // Requests without a token pass while the token request waits for the keys.
    for (int i = 0; i < 5; i++) {
      expect(url, Map.of(), 200, null);
    }
    HttpResponse<String> r = withToken.get(30, TimeUnit.SECONDS);
    assertThat(r.statusCode()).isEqualTo(401);
    assertThat(r.body()).isEqualTo("Jwks remote fetch is failed");
    expect(url, Map.of(), 200, null);
    expect(url, bearer("deadbeef"), 401, null);
  }

  /**
   * Envoy's jwt_authn semantics for keys that are not there yet: the request with a token waits for
   * the fetch (its event loop keeps serving others) and is verified when the keys arrive; later
   * requests use the cached keys.
   */
  @Test
  void aRequestWaitsForItsKeysAndIsVerifiedWhenTheyArrive() throws Exception {
    String demo = ref("demo.jwt");
    JwksEndpoint slow = new JwksEndpoint(ref("jwks.json"), true);
    closeables.add(slow);
    Mesh mesh = startMesh();
    String url = mesh.gateway("/version");
    apply(
        mesh,
        """
        apiVersion: security.istio.io/v1
        kind: RequestAuthentication
        metadata: {name: jwt, namespace: demo}
        spec:
          selector: {matchLabels: {app: podinfo}}
          jwtRules:
          - issuer: testing@secure.istio.io
            jwksUri: %s
            timeout: 60s
        ---
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata: {name: require-jwt, namespace: demo}
        spec:
          selector: {matchLabels: {app: podinfo}}
          rules: [{from: [{source: {requestPrincipals: ["*"]}}]}]
        """
            .formatted(slow.uri()));
    await("the sidecar started fetching the JWKS", () -> slow.requests.get() > 0);
    CompletableFuture<HttpResponse<String>> withToken =
        http.sendAsync(
            HttpRequest.newBuilder(URI.create(url))
                .header("Authorization", "Bearer " + demo)
                .timeout(Duration.ofSeconds(30))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    // Meanwhile the proxy answers others: no token here, so the policy denies (403, not a hang).
    expect(url, Map.of(), 403, "RBAC: access denied");
    assertThat(withToken).as("the token request waits for the keys").isNotDone();
    slow.release.countDown();
    HttpResponse<String> r = withToken.get(30, TimeUnit.SECONDS);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    expect(url, bearer(demo), 200, null);
    expect(url, bearer(tampered(demo)), 401, "Jwt verification fails");
    assertThat(slow.requests.get()).as("one fetch, then the cache").isEqualTo(1);
  }
}
