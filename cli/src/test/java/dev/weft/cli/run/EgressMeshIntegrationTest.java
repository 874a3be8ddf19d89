package dev.weft.cli.run;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.weft.cli.common.HostPort;
import dev.weft.cli.common.KeyValues;
import dev.weft.controlplane.mesh.MeshConfig;
import dev.weft.proxy.Proxy;
import dev.weft.xds.NodeId;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Services beyond the registry through the local mesh, in one JVM on real sockets: an "external"
 * HTTP server (the JDK's) on loopback, declared by a ServiceEntry {@code external.example.com}
 * whose endpoint is the DNS name {@code localhost} (resolution DNS: the proxy resolves it off its
 * event loops), reached by an app through its sidecar's HTTP proxy port; a host outside the
 * registry passed through under {@code ALLOW_ANY} and answered 502 under {@code REGISTRY_ONLY}
 * (mesh-wide, or per Sidecar); and the same external host routed through an egress gateway ({@code
 * istio: egressgateway}) as Istio's egress gateway task does. Requests are written on plain sockets
 * in absolute form, as an app's {@code http_proxy} client sends them.
 */
class EgressMeshIntegrationTest {
  @TempDir Path tmp;

  private final List<AutoCloseable> closeables = new ArrayList<>();
  private MeshForTests mesh;

  @AfterEach
  void closeAll() throws Exception {
    for (int i = closeables.size() - 1; i >= 0; i--) {
      closeables.get(i).close();
    }
  }

  @Test
  void serviceEntryByDnsNameAndAllowAnyPassthroughThenRegistryOnlyPerSidecar() throws Exception {
    startMesh(MeshConfig.DEFAULT);
    int external = externalServer("external");
    int unknown = externalServer("unknown");
    apply(
        """
        apiVersion: networking.istio.io/v1
        kind: ServiceEntry
        metadata: {name: external, namespace: demo}
        spec:
          hosts: [external.example.com]
          location: MESH_EXTERNAL
          resolution: DNS
          ports: [{number: %d, name: http, protocol: HTTP}]
          endpoints: [{address: localhost}]
        ---
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: external, namespace: demo}
        spec:
          hosts: [external.example.com]
          http:
          - headers: {request: {set: {x-routed: service-entry}}}
            route: [{destination: {host: external.example.com}}]
        """
            .formatted(external));
    String podIp = mesh.client("caller").podIp();

    // The ServiceEntry host: its STRICT_DNS cluster, the VirtualService's header on the way.
    await(
        "the ServiceEntry host through the sidecar",
        () -> get(podIp, "external.example.com:" + external),
        r -> r.startsWith("HTTP/1.1 200") && r.contains("external x-routed=service-entry"));

    // A host outside the registry under ALLOW_ANY: PassthroughCluster to its own address.
    String passthrough = get(podIp, "127.0.0.1:" + unknown);
    assertThat(passthrough).startsWith("HTTP/1.1 200").contains("unknown x-routed=none");

    // A Sidecar makes the namespace REGISTRY_ONLY: the unknown host now gets 502 from the
    // sidecar (block_all), the ServiceEntry host still goes through.
    apply(
        """
        apiVersion: networking.istio.io/v1
        kind: Sidecar
        metadata: {name: default, namespace: demo}
        spec:
          outboundTrafficPolicy: {mode: REGISTRY_ONLY}
        """);
    await(
        "502 for a host outside the registry",
        () -> get(podIp, "127.0.0.1:" + unknown),
        r -> r.startsWith("HTTP/1.1 502"));
    assertThat(get(podIp, "external.example.com:" + external))
        .startsWith("HTTP/1.1 200")
        .contains("external x-routed=service-entry");
  }

  @Test
  void meshWideRegistryOnlyAnswers502AndTheEgressGatewayRoutesTheExternalHost() throws Exception {
    startMesh(MeshConfig.DEFAULT.withOutboundTrafficPolicy(MeshConfig.REGISTRY_ONLY));
    int external = externalServer("external");
    int unknown = externalServer("unknown");
    int egressPort = WorkloadAllocator.freePort("127.0.0.1");
    // Istio's egress gateway task, with the external host on its own port.
    apply(
        """
        apiVersion: v1
        kind: Service
        metadata: {name: istio-egressgateway, namespace: istio-system}
        spec:
          selector: {istio: egressgateway}
          ports: [{name: http2, port: 80, targetPort: %d}]
        ---
        apiVersion: networking.istio.io/v1
        kind: ServiceEntry
        metadata: {name: external, namespace: demo}
        spec:
          hosts: [external.example.com]
          resolution: DNS
          ports: [{number: %d, name: http-port, protocol: HTTP}]
          endpoints: [{address: localhost}]
        ---
        apiVersion: networking.istio.io/v1
        kind: Gateway
        metadata: {name: istio-egressgateway, namespace: demo}
        spec:
          selector: {istio: egressgateway}
          servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: [external.example.com]}]
        ---
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: egressgateway-for-external, namespace: demo}
        spec:
          host: istio-egressgateway.istio-system.svc.cluster.local
          subsets: [{name: external}]
        ---
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: direct-external-through-egress-gateway, namespace: demo}
        spec:
          hosts: [external.example.com]
          gateways: [istio-egressgateway, mesh]
          http:
          - match: [{gateways: [mesh], port: %d}]
            route:
            - destination: {host: istio-egressgateway.istio-system.svc.cluster.local, subset: external, port: {number: 80}}
              weight: 100
          - match: [{gateways: [istio-egressgateway], port: 80}]
            headers: {request: {set: {x-routed: egress-gateway}}}
            route:
            - destination: {host: external.example.com, port: {number: %d}}
              weight: 100
        """
            .formatted(egressPort, external, external, external));
    Proxy egress =
        mesh.proxy(
            new ProxySpec(
                NodeId.ROUTER,
                "istio-egressgateway",
                "istio-system",
                KeyValues.labels(List.of("istio=egressgateway,app=istio-egressgateway")),
                "127.0.0.1",
                "127.0.0.1",
                List.of(),
                "istio-egressgateway-service-account"),
            new HostPort("127.0.0.1", WorkloadAllocator.freePort("127.0.0.1")),
            null);
    String podIp = mesh.client("caller").podIp();
    MeshForTests.awaitReady(egress);

    await(
        "the external host through the egress gateway",
        () -> get(podIp, "external.example.com:" + external),
        r -> r.startsWith("HTTP/1.1 200") && r.contains("external x-routed=egress-gateway"));
    // Mesh-wide REGISTRY_ONLY: a host outside the registry gets 502 from the sidecar.
    assertThat(get(podIp, "127.0.0.1:" + unknown)).startsWith("HTTP/1.1 502");
  }

  // ------------------------------------------------------------------ the mesh

  private void startMesh(MeshConfig meshConfig) throws Exception {
    mesh = MeshForTests.start(tmp, meshConfig);
    closeables.add(mesh);
  }

  private void apply(String yaml) throws Exception {
    assertThat(mesh.api().apply(yaml, "test.yaml").errors()).isEmpty();
  }

  /**
   * An HTTP server on 127.0.0.1 (a free port) answering {@code <name> x-routed=<header>}; its port.
   */
  private int externalServer(String name) throws IOException {
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext(
        "/",
        exchange -> {
          String routed = exchange.getRequestHeaders().getFirst("x-routed");
          byte[] body =
              (name + " x-routed=" + (routed == null ? "none" : routed))
                  .getBytes(StandardCharsets.UTF_8);
          exchange.sendResponseHeaders(200, body.length);
          try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
          }
        });
    server.setExecutor(java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor());
    server.start();
    closeables.add(() -> server.stop(0));
    return server.getAddress().getPort();
  }

  /**
   * {@code GET http://<authority>/} through the sidecar's HTTP-proxy port, as an app's {@code
   * http_proxy} client sends it; the whole response, or the error.
   */
  private static String get(String podIp, String authority) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(podIp, 15001), 5000);
      s.setSoTimeout(15_000);
      s.getOutputStream()
          .write(
              ("GET http://"
                      + authority
                      + "/ HTTP/1.1\r\nHost: "
                      + authority
                      + "\r\nConnection: close\r\n\r\n")
                  .getBytes(StandardCharsets.US_ASCII));
      InputStream in = s.getInputStream();
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "error: " + e;
    }
  }

  private static void await(
      String what, java.util.function.Supplier<String> probe, Predicate<String> done) {
    Instant deadline = Instant.now().plusSeconds(30);
    String last = null;
    while (Instant.now().isBefore(deadline)) {
      last = probe.get();
      if (done.test(last)) {
        return;
      }
      try {
        Thread.sleep(50); // polling interval, not synchronisation: the condition decides
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
    throw new AssertionError("timed out waiting for " + what + "; last: " + last);
  }
}
