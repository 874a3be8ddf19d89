package dev.weft.cli.run;

import static dev.weft.cli.run.Conditions.await;
import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.cli.common.HostPort;
import dev.weft.proxy.Proxy;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TCP through the local mesh in one JVM on real sockets, configured only through the control
 * plane's API: a TCP echo app behind its sidecar, reached from another workload through that
 * workload's sidecar (its outbound listener on its pod IP at the service port, then the echo
 * sidecar's inbound listener), and through a TCP port of the ingress gateway; and a WebSocket
 * through the gateway's HTTP port and the app's sidecar. The TCP clients are plain blocking
 * sockets, the WebSocket client is Java's, the WebSocket server Netty's.
 */
class TcpMeshIntegrationTest {
  @TempDir Path tmp;

  private final List<AutoCloseable> closeables = new ArrayList<>();

  @AfterEach
  void closeAll() throws Exception {
    for (int i = closeables.size() - 1; i >= 0; i--) {
      closeables.get(i).close();
    }
  }

  @Test
  void tcpEchoThroughASidecarPairAndTheGatewayAndAWebSocketThroughTheGatewayAndASidecar()
      throws Exception {
    MeshForTests mesh = MeshForTests.start(tmp);
    closeables.add(mesh);
    Proxy gateway = mesh.gateway();
    int ingressPort = mesh.ingressPort();
    int tcpGatewayPort = WorkloadAllocator.freePort("127.0.0.1");
    mesh.apply(
        """
                    apiVersion: v1
                    kind: Service
                    metadata: {name: echo, namespace: demo}
                    spec:
                      selector: {app: echo}
                      ports:
                      - {name: tcp-echo, port: 9000, targetPort: 9000}
                    ---
                    apiVersion: v1
                    kind: Service
                    metadata: {name: ws, namespace: demo}
                    spec:
                      selector: {app: echo}
                      ports:
                      - {name: http-ws, port: 8081, targetPort: 9100}
                    ---
                    apiVersion: networking.istio.io/v1
                    kind: Gateway
                    metadata: {name: ws-gw, namespace: demo}
                    spec:
                      selector: {istio: ingressgateway}
                      servers:
                      - port: {number: 80, name: http, protocol: HTTP}
                        hosts: ["*"]
                    ---
                    apiVersion: networking.istio.io/v1
                    kind: VirtualService
                    metadata: {name: ws, namespace: demo}
                    spec:
                      hosts: ["*"]
                      gateways: [ws-gw]
                      http:
                      - route: [{destination: {host: ws, port: {number: 8081}}}]
                    ---
                    apiVersion: networking.istio.io/v1
                    kind: Gateway
                    metadata: {name: tcp-gw, namespace: demo}
                    spec:
                      selector: {istio: ingressgateway}
                      servers:
                      - port: {number: %d, name: tcp, protocol: TCP}
                        hosts: ["*"]
                    ---
                    apiVersion: networking.istio.io/v1
                    kind: VirtualService
                    metadata: {name: echo-gw, namespace: demo}
                    spec:
                      hosts: ["*"]
                      gateways: [tcp-gw]
                      tcp:
                      - route: [{destination: {host: echo, port: {number: 9000}}}]
                    """
            .formatted(tcpGatewayPort),
        "tcp.yaml");

    // The echo workload: its app on its app address, its sidecar on its pod IP.
    MeshForTests.Workload echo = mesh.allocate("echo-v1", "tcp-echo:9000", "http-ws:9100");
    closeables.add(TcpApps.echo(echo.app(9000)));
    closeables.add(WebSocketEcho.start(echo.app(9100)));
    mesh.sidecar(echo, "app=echo,version=v1");
    // A client workload without ports of its own: only its sidecar.
    MeshForTests.Workload caller = mesh.client("caller");
    MeshForTests.awaitReady(gateway);

    // Sidecar pair: caller's outbound <podIP>_9000 → echo's inbound <podIP>_9000 → the app.
    InetSocketAddress viaSidecar = new InetSocketAddress(caller.podIp(), 9000);
    await("echo through the sidecars", () -> echoes(viaSidecar, "hello mesh"));
    byte[] big = new byte[4 << 20];
    new java.util.Random(7).nextBytes(big);
    assertEchoed("through the sidecars", exchange(viaSidecar, big), big);

    // Istio's TCP telemetry over mTLS: the sidecars swapped their metadata in-band (ALPN
    // istio-peer-exchange), so both reporters name both workloads; the principals come from the
    // certificates, the service from the clusters' istio.services metadata.
    HostPort echoAdmin = echo.admin();
    HostPort callerAdmin = caller.admin();
    String destination =
        "reporter=\"destination\",source_workload=\"caller\","
            + "source_canonical_service=\"caller\",source_canonical_revision=\"latest\","
            + "source_workload_namespace=\"demo\","
            + "source_principal=\"spiffe://cluster.local/ns/demo/sa/default\","
            + "source_app=\"caller\",source_version=\"unknown\",source_cluster=\"Kubernetes\","
            + "destination_workload=\"echo-v1\",destination_workload_namespace=\"demo\","
            + "destination_principal=\"spiffe://cluster.local/ns/demo/sa/default\","
            + "destination_app=\"echo\",destination_version=\"v1\","
            + "destination_service=\"echo.demo.svc.cluster.local\","
            + "destination_canonical_service=\"echo\",destination_canonical_revision=\"v1\","
            + "destination_service_name=\"echo\",destination_service_namespace=\"demo\","
            + "destination_cluster=\"Kubernetes\",request_protocol=\"tcp\","
            + "response_flags=\"-\",connection_security_policy=\"mutual_tls\"}";
    String source =
        "reporter=\"source\",source_workload=\"caller\","
            + "source_canonical_service=\"caller\",source_canonical_revision=\"latest\","
            + "source_workload_namespace=\"demo\","
            + "source_principal=\"spiffe://cluster.local/ns/demo/sa/default\","
            + "source_app=\"caller\",source_version=\"unknown\",source_cluster=\"Kubernetes\","
            + "destination_workload=\"echo-v1\",destination_workload_namespace=\"demo\","
            + "destination_principal=\"spiffe://cluster.local/ns/demo/sa/default\","
            + "destination_app=\"echo\",destination_version=\"v1\","
            + "destination_service=\"echo.demo.svc.cluster.local\","
            + "destination_canonical_service=\"echo\",destination_canonical_revision=\"v1\","
            + "destination_service_name=\"echo\",destination_service_namespace=\"demo\","
            + "destination_cluster=\"Kubernetes\",request_protocol=\"tcp\","
            + "response_flags=\"-\",connection_security_policy=\"unknown\"}";
    await(
        "both sidecars to count the echoed connections with their peers",
        () ->
            count(scrape(echoAdmin), "istio_tcp_connections_closed_total{" + destination) >= 2
                && count(scrape(callerAdmin), "istio_tcp_connections_closed_total{" + source) >= 2);
    // The 4 MiB went through; the exchange frames are not counted as the app's bytes at the
    // destination (it received exactly what the client sent, through both proxies).
    assertThat(count(scrape(echoAdmin), "istio_tcp_received_bytes_total{" + destination))
        .isGreaterThanOrEqualTo(big.length);
    assertThat(count(scrape(callerAdmin), "istio_tcp_sent_bytes_total{" + source))
        .isGreaterThanOrEqualTo(big.length);
    assertThat(scrape(echoAdmin)).contains("metadata_exchange_metadata_received");

    // The gateway's TCP port.
    InetSocketAddress viaGateway = new InetSocketAddress("127.0.0.1", tcpGatewayPort);
    await("echo through the gateway", () -> echoes(viaGateway, "hello gateway"));
    assertEchoed("through the gateway", exchange(viaGateway, big), big);
    // The gateway is a source reporter that learnt its upstream's workload the same way.
    await(
        "the echo sidecar to count the gateway's connections",
        () ->
            scrape(echoAdmin)
                .contains(
                    "istio_tcp_connections_closed_total{reporter=\"destination\","
                        + "source_workload=\"istio-ingressgateway\""));

    // WebSocket: the gateway's HTTP port, then the echo sidecar's inbound HTTP listener, both
    // upgrading after the app's 101 (Java's WebSocket client, a Netty WebSocket server).
    String url = "ws://127.0.0.1:" + ingressPort + "/ws";
    await("a WebSocket through the gateway and the sidecar", () -> wsEcho(url, "hi"));

    // TCP authorization (Istio's forTCP): a DENY policy on the TCP port, whose HTTP-only methods
    // are ignored on TCP, makes the echo sidecar close the caller's connection without echoing.
    mesh.apply(
        """
                    apiVersion: security.istio.io/v1
                    kind: AuthorizationPolicy
                    metadata: {name: deny-echo-tcp, namespace: demo}
                    spec:
                      selector: {matchLabels: {app: echo}}
                      action: DENY
                      rules: [{to: [{operation: {methods: [GET], ports: ["9000"]}}]}]
                    """,
        "authz.yaml");
    await(
        "the DENY policy closes the TCP connection",
        () -> {
          try {
            return exchange(viaSidecar, "denied?".getBytes(StandardCharsets.UTF_8)).length == 0;
          } catch (IOException e) {
            return true; // reset: closed too
          }
        });
  }

  /** Whether a WebSocket to {@code url} opens and echoes {@code text} (false while unrouted). */
  private static boolean wsEcho(String url, String text) {
    java.util.concurrent.CompletableFuture<String> reply =
        new java.util.concurrent.CompletableFuture<>();
    java.net.http.HttpClient client = java.net.http.HttpClient.newHttpClient();
    java.net.http.WebSocket ws = null;
    try {
      ws =
          client
              .newWebSocketBuilder()
              .buildAsync(
                  java.net.URI.create(url),
                  new java.net.http.WebSocket.Listener() {
                    @Override
                    public java.util.concurrent.CompletionStage<?> onText(
                        java.net.http.WebSocket w, CharSequence data, boolean last) {
                      reply.complete(data.toString());
                      return null;
                    }
                  })
              .get(5, java.util.concurrent.TimeUnit.SECONDS);
      ws.sendText(text, true).get(5, java.util.concurrent.TimeUnit.SECONDS);
      return ("echo: " + text).equals(reply.get(5, java.util.concurrent.TimeUnit.SECONDS));
    } catch (Exception e) {
      return false;
    } finally {
      if (ws != null) {
        ws.abort();
      }
      client.shutdownNow();
    }
  }

  /** The proxy's {@code /stats/prometheus} on its admin address ("" while it does not answer). */
  private static String scrape(HostPort admin) {
    try (java.net.http.HttpClient c = java.net.http.HttpClient.newHttpClient()) {
      return c.send(
              java.net.http.HttpRequest.newBuilder(
                      java.net.URI.create("http://" + admin + "/stats/prometheus"))
                  .build(),
              java.net.http.HttpResponse.BodyHandlers.ofString())
          .body();
    } catch (IOException e) {
      return "";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "";
    }
  }

  /** The value of the series {@code prefix} starts (metric and labels up to the brace), or -1. */
  private static long count(String prometheus, String prefix) {
    for (String line : prometheus.split("\n")) {
      if (line.startsWith(prefix + " ")) {
        return Long.parseLong(line.substring(prefix.length() + 1).trim());
      }
    }
    return -1;
  }

  /**
   * That {@code got} is {@code sent}; otherwise says whether it is short and where the first
   * different byte is (a short echo and a changed byte are different bugs).
   */
  private static void assertEchoed(String via, byte[] got, byte[] sent) {
    int first = java.util.Arrays.mismatch(got, sent);
    if (first >= 0) {
      throw new AssertionError(
          "echo "
              + via
              + ": "
              + got.length
              + " of "
              + sent.length
              + " bytes came back, "
              + (first == Math.min(got.length, sent.length)
                  ? "all of them right (short)"
                  : "the first different one at byte " + first));
    }
  }

  private static boolean echoes(InetSocketAddress to, String text) {
    byte[] b = text.getBytes(StandardCharsets.UTF_8);
    try {
      return java.util.Arrays.equals(exchange(to, b), b);
    } catch (IOException e) {
      return false; // not configured yet
    }
  }

  /** Sends {@code data}, half-closes, and reads until the peer closes. */
  private static byte[] exchange(InetSocketAddress to, byte[] data) throws IOException {
    try (Socket s = new Socket()) {
      s.connect(to, 5000);
      s.setSoTimeout(20_000);
      return TcpApps.exchange(s, data);
    }
  }
}
