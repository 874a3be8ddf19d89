package dev.weft.cli.run;

import static dev.weft.cli.run.Conditions.await;
import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * DestinationRules as a user applies them to the local mesh in one JVM, through the control plane's
 * API, over real sockets: a caller's sidecar (its outbound {@code http_proxy} listener) sends to
 * the Service {@code web}, whose workloads are HTTP apps behind their own sidecars (mTLS between
 * the sidecars, as by default).
 */
class DestinationRuleMeshIntegrationTest {
  static final String HOST = "web.demo.svc.cluster.local";

  @TempDir Path tmp;

  private final List<AutoCloseable> closeables = new ArrayList<>();
  private MeshForTests mesh;

  @BeforeEach
  void startControlPlane() throws Exception {
    mesh = MeshForTests.start(tmp);
    closeables.add(mesh);
    apply(
        """
        apiVersion: v1
        kind: Service
        metadata: {name: web, namespace: demo}
        spec:
          selector: {app: web}
          ports: [{name: http, port: 80, targetPort: 8080}]
        """);
  }

  @AfterEach
  void closeAll() throws Exception {
    for (int i = closeables.size() - 1; i >= 0; i--) {
      closeables.get(i).close();
    }
  }

  @Test
  void aSubsetDefinedOnlyInASecondDestinationRuleIsRoutable() throws Exception {
    apply(
        """
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: web-v1, namespace: demo}
        spec:
          host: web
          subsets: [{name: v1, labels: {version: v1}}]
        ---
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: web-v2, namespace: demo}
        spec:
          host: web.demo.svc.cluster.local
          subsets: [{name: v2, labels: {version: v2}}]
        ---
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: web, namespace: demo}
        spec:
          hosts: [web]
          http:
          - match: [{headers: {x-version: {exact: v2}}}]
            route: [{destination: {host: web, subset: v2}}]
          - route: [{destination: {host: web, subset: v1}}]
        """);
    app("web-v1", "app=web,version=v1");
    app("web-v2", "app=web,version=v2");
    InetSocketAddress outbound = caller("app=caller");

    // The subset of the second rule: every request with the header reaches v2 (before the
    // merge, outbound|80|v2|web had no cluster: 503 NC).
    await(
        "v2 through the second rule's subset",
        quietly(() -> "web-v2".equals(body(outbound, "v2"))));
    for (int i = 0; i < 10; i++) {
      assertThat(body(outbound, "v2")).isEqualTo("web-v2");
      assertThat(body(outbound, null)).isEqualTo("web-v1");
    }
  }

  @Test
  void failoverPriorityKeepsTrafficOnEndpointsWithTheCallersLabels() throws Exception {
    apply(
        """
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: web, namespace: demo}
        spec:
          host: web
          trafficPolicy:
            outlierDetection: {consecutive5xxErrors: 5}
            loadBalancer:
              localityLbSetting:
                failoverPriority: [version]
        """);
    app("web-v1", "app=web,version=v1");
    app("web-v2", "app=web,version=v2");
    InetSocketAddress outbound = caller("app=caller,version=v2");
    await("both endpoints known", quietly(() -> !body(outbound, null).matches("\\d+")));
    // The caller's version is v2: web-v2 is priority 0 and healthy, so it takes everything.
    for (int i = 0; i < 30; i++) {
      assertThat(body(outbound, null)).isEqualTo("web-v2");
    }
  }

  @Test
  void passthroughSendsAServiceEntryHostsTrafficToTheAddressAsked() throws Exception {
    // The ServiceEntry's endpoint is a decoy; PASSTHROUGH sends to the authority's address. (The
    // host is an IP so that the test needs no DNS; Istio's rules let a DestinationRule name it only
    // through a wildcard.)
    HttpServer real = server(new InetSocketAddress("127.0.0.1", 0), "real");
    HttpServer decoy = server(new InetSocketAddress("127.0.0.1", 0), "decoy");
    int port = real.getAddress().getPort();
    apply(
        """
        apiVersion: networking.istio.io/v1
        kind: ServiceEntry
        metadata: {name: local, namespace: demo}
        spec:
          hosts: [127.0.0.1]
          location: MESH_EXTERNAL
          resolution: STATIC
          ports: [{number: %d, name: http, protocol: HTTP}]
          endpoints: [{address: 127.0.0.1, ports: {http: %d}}]
        """
            .formatted(port, decoy.getAddress().getPort()));
    InetSocketAddress outbound = caller("app=caller");
    String authority = "127.0.0.1:" + port;
    await(
        "the decoy through the ServiceEntry",
        quietly(() -> "decoy".equals(get(outbound, authority))));
    apply(
        """
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: local, namespace: demo}
        spec:
          host: "*"
          trafficPolicy: {loadBalancer: {simple: PASSTHROUGH}}
        """);
    await("the original destination", quietly(() -> "real".equals(get(outbound, authority))));
    for (int i = 0; i < 10; i++) {
      assertThat(get(outbound, authority)).isEqualTo("real");
    }
  }

  // ------------------------------------------------------------------ the mesh

  private void apply(String yaml) throws Exception {
    mesh.apply(yaml, "t.yaml");
  }

  /** An HTTP server on {@code at} answering {@code name} to every request. */
  private HttpServer server(InetSocketAddress at, String name) throws IOException {
    HttpServer server = HttpServer.create(at, 64);
    server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
    server.createContext(
        "/",
        ex -> {
          try (ex) {
            ex.getRequestBody().readAllBytes();
            byte[] b = name.getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, b.length);
            try (OutputStream os = ex.getResponseBody()) {
              os.write(b);
            }
          }
        });
    server.start();
    closeables.add(() -> server.stop(0));
    return server;
  }

  /** Starts an HTTP app answering its name on 8080 behind its sidecar; returns once ready. */
  private void app(String name, String labels) throws Exception {
    MeshForTests.Workload w = mesh.allocate(name, "http:8080");
    server(w.app(8080), name);
    mesh.sidecar(w, labels);
  }

  /** Starts a caller's sidecar; returns its outbound HTTP proxy listener. */
  private InetSocketAddress caller(String labels) throws Exception {
    MeshForTests.Workload c = mesh.allocate("caller");
    mesh.sidecar(c, labels);
    return c.outbound();
  }

  /**
   * GET / to {@link #HOST} through {@code outbound}, with {@code x-version} when not null: the body
   * of a 200, else {@code "<status>"}.
   */
  static String body(InetSocketAddress outbound, String version) throws IOException {
    return exchange(outbound, HOST, version == null ? "" : "x-version: " + version + "\r\n");
  }

  /** GET / to {@code authority} through {@code outbound}: as {@link #body}. */
  static String get(InetSocketAddress outbound, String authority) throws IOException {
    return exchange(outbound, authority, "");
  }

  private static String exchange(InetSocketAddress outbound, String authority, String headers)
      throws IOException {
    try (Socket s = new Socket()) {
      s.connect(outbound, 5000);
      s.setSoTimeout(20_000);
      String req =
          "GET / HTTP/1.1\r\nHost: " + authority + "\r\n" + headers + "Connection: close\r\n\r\n";
      s.getOutputStream().write(req.getBytes(StandardCharsets.US_ASCII));
      InputStream in = s.getInputStream();
      String all = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      int sp = all.indexOf(' ');
      String status = sp < 0 ? "none" : all.substring(sp + 1, Math.min(all.length(), sp + 4));
      int bodyAt = all.indexOf("\r\n\r\n");
      String body = bodyAt < 0 ? "" : all.substring(bodyAt + 4);
      return status.equals("200") ? body : status;
    }
  }

  static BooleanSupplier quietly(IoCheck check) {
    return () -> {
      try {
        return check.holds();
      } catch (IOException e) {
        return false;
      }
    };
  }

  interface IoCheck {
    boolean holds() throws IOException;
  }
}
