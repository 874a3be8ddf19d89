package dev.weft.cli.run;

import static dev.weft.cli.run.Conditions.await;
import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.cli.common.HostPort;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Local mode's way in for TCP clients (docs/architecture.md): HTTP/1.1 CONNECT to the caller's own
 * sidecar's outbound HTTP-proxy port 15001, routed by the control plane's {@code http_proxy}
 * connect routes to a TCP service's cluster, then the echo workload's sidecar and app. One JVM,
 * real sockets, configured only through the control plane's API; the clients are a raw socket and
 * curl ({@code --proxytunnel} with {@code telnet://}).
 */
class ConnectMeshIntegrationTest {
  @TempDir Path tmp;

  private final List<AutoCloseable> closeables = new ArrayList<>();

  @AfterEach
  void closeAll() throws Exception {
    for (int i = closeables.size() - 1; i >= 0; i--) {
      closeables.get(i).close();
    }
  }

  @Test
  void tcpClientsConnectThroughTheirSidecarsHttpProxyPort() throws Exception {
    MeshForTests mesh = MeshForTests.start(tmp);
    closeables.add(mesh);
    mesh.apply(
        """
                    apiVersion: v1
                    kind: Service
                    metadata: {name: echo, namespace: demo}
                    spec:
                      selector: {app: echo}
                      ports:
                      - {name: tcp-echo, port: 9000, targetPort: 9000}
                      - {name: tcp-line, port: 9002, targetPort: 9002}
                    ---
                    apiVersion: v1
                    kind: Service
                    metadata: {name: idle, namespace: demo}
                    spec:
                      selector: {app: nobody}
                      ports:
                      - {name: redis, port: 6379, targetPort: 6379}
                    """,
        "connect.yaml");

    MeshForTests.Workload echo = mesh.allocate("echo-v1", "tcp-echo:9000", "tcp-line:9002");
    closeables.add(TcpApps.echo(echo.app(9000)));
    lineServer(echo.app(9002));
    mesh.sidecar(echo, "app=echo,version=v1");
    MeshForTests.Workload caller = mesh.client("caller");

    InetSocketAddress httpProxy = caller.outbound();
    await("a CONNECT tunnel to echo.demo:9000", () -> echoes(httpProxy, "echo.demo:9000", "hi"));
    // 4 MiB both ways with half-close, under the bare name of a same-namespace service too.
    byte[] big = new byte[4 << 20];
    new java.util.Random(11).nextBytes(big);
    assertThat(tunnel(httpProxy, "echo:9000", big)).isEqualTo(big);
    // The tunnel's upstream is mTLS with the echo sidecar, which negotiates istio-peer-exchange:
    // the frames are exchanged and removed (the 4 MiB came back intact), and both reporters know
    // the other workload.
    HostPort callerAdmin = caller.admin();
    HostPort echoAdmin = echo.admin();
    await(
        "istio_tcp_* with both workloads at both reporters",
        () -> {
          String src = scrape(callerAdmin);
          String dst = scrape(echoAdmin);
          return src.contains(
                  "istio_tcp_connections_closed_total{reporter=\"source\","
                      + "source_workload=\"caller\"")
              && src.contains(
                  "destination_workload=\"echo-v1\",destination_workload_namespace=\"demo\","
                      + "destination_principal=\"spiffe://cluster.local/ns/demo/sa/default\"")
              && src.contains("destination_service=\"echo.demo.svc.cluster.local\"")
              && dst.contains(
                  "istio_tcp_connections_closed_total{reporter=\"destination\","
                      + "source_workload=\"caller\"")
              && dst.contains("connection_security_policy=\"mutual_tls\"");
        });

    // curl, an independent client: CONNECT through the sidecar, then telnet:// bytes.
    Process curl =
        new ProcessBuilder(
                "curl",
                "-sS",
                "--max-time",
                "20",
                "--proxytunnel",
                "-x",
                "http://" + caller.podIp() + ":15001",
                "telnet://echo.demo:9002")
            .redirectErrorStream(true)
            .start();
    curl.getOutputStream().write("hello curl\n".getBytes(StandardCharsets.US_ASCII));
    // curl's telnet ends once its stdin has ended and the tunnel's far end has closed.
    curl.getOutputStream().close();
    assertThat(curl.waitFor(30, TimeUnit.SECONDS)).isTrue();
    String out = new String(curl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(out).isEqualTo("line: hello curl\n");
    assertThat(curl.exitValue()).isZero();

    // No route for the authority: 404; a service with no endpoints: 503.
    try (Socket s = new Socket(caller.podIp(), 15001)) {
      s.setSoTimeout(20_000);
      assertThat(connect(s, "nowhere.demo:9000")).startsWith("HTTP/1.1 404");
    }
    try (Socket s = new Socket(caller.podIp(), 15001)) {
      s.setSoTimeout(20_000);
      assertThat(connect(s, "idle.demo:6379")).startsWith("HTTP/1.1 503");
    }
    await(
        "the 200, 404 and 503 in the access log",
        () -> {
          try {
            String l = java.nio.file.Files.readString(tmp.resolve("caller.access.log"));
            return l.contains("\"CONNECT - HTTP/1.1\" 200 ")
                && l.contains(" 404 NR ")
                && l.contains(" 503 UH ");
          } catch (IOException e) {
            return false;
          }
        });
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

  /** Reads one line, answers {@code line: <it>} and closes (a client that never half-closes). */
  private void lineServer(InetSocketAddress address) throws IOException {
    TcpApps.Conversation answer =
        s -> {
          ByteArrayOutputStream line = new ByteArrayOutputStream();
          int c;
          while ((c = s.getInputStream().read()) >= 0 && c != '\n') {
            line.write(c);
          }
          s.getOutputStream()
              .write(("line: " + line.toString(StandardCharsets.UTF_8) + "\n").getBytes());
        };
    closeables.add(TcpApps.serve(address, answer));
  }

  /**
   * Sends a CONNECT for {@code authority}; returns the response head (a local reply's body read).
   */
  static String connect(Socket s, String authority) throws IOException {
    s.getOutputStream()
        .write(
            ("CONNECT " + authority + " HTTP/1.1\r\nHost: " + authority + "\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
    s.getOutputStream().flush();
    InputStream in = s.getInputStream();
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    int matched = 0;
    byte[] end = {'\r', '\n', '\r', '\n'};
    while (matched < 4) {
      int c = in.read();
      if (c < 0) {
        break;
      }
      head.write(c);
      matched = c == end[matched] ? matched + 1 : (c == '\r' ? 1 : 0);
    }
    String h = head.toString(StandardCharsets.US_ASCII);
    java.util.regex.Matcher m =
        java.util.regex.Pattern.compile("(?i)content-length: *(\\d+)").matcher(h);
    if (m.find()) {
      in.readNBytes(Integer.parseInt(m.group(1)));
    }
    return h;
  }

  private static boolean echoes(InetSocketAddress proxy, String authority, String text) {
    byte[] b = text.getBytes(StandardCharsets.UTF_8);
    try {
      return java.util.Arrays.equals(tunnel(proxy, authority, b), b);
    } catch (IOException e) {
      return false; // not configured yet
    }
  }

  /** CONNECTs, sends {@code data}, half-closes, reads until the peer closes; null if refused. */
  private static byte[] tunnel(InetSocketAddress proxy, String authority, byte[] data)
      throws IOException {
    try (Socket s = new Socket()) {
      s.connect(proxy, 5000);
      s.setSoTimeout(20_000);
      String head = connect(s, authority);
      if (!head.startsWith("HTTP/1.1 200")) {
        return null;
      }
      return TcpApps.exchange(s, data);
    }
  }
}
