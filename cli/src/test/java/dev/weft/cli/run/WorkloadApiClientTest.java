package dev.weft.cli.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.weft.cli.common.CliException;
import dev.weft.cli.common.StateDir;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link WorkloadApiClient}, the proxy JVM's call to {@code POST /api/v1/workload-tokens}: what it
 * sends, the answers it reads (fixed length, chunked, up to the close) and the errors it names.
 * Real sockets: a JDK HTTP server on port 0 (as the control plane's API), or a raw server socket
 * for answers that server would not write.
 */
class WorkloadApiClientTest {
  private static final String TOKEN_JSON =
      "{\n  \"token\" : \"wl-t0k\",\n  \"expiresAt\" : \"2026-12-01T00:00:00Z\",\n"
          + "  \"spiffeId\" : \"spiffe://cluster.local/ns/demo/sa/default\",\n"
          + "  \"rootCert\" : \"-----BEGIN CERTIFICATE-----\\nMIIB\\n-----END CERTIFICATE-----\\n\""
          + "\n}";

  @TempDir Path dir;
  private HttpServer server;
  private ServerSocket raw;
  private final CountDownLatch release = new CountDownLatch(1);

  @AfterEach
  void stop() throws IOException {
    release.countDown();
    if (server != null) {
      server.stop(0);
    }
    if (raw != null) {
      raw.close();
    }
  }

  private interface Handler {
    void handle(HttpExchange ex) throws Exception;
  }

  private StateDir api(Handler h) throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
    server.setExecutor(Executors.newCachedThreadPool());
    server.createContext(
        "/",
        ex -> {
          try (ex) {
            h.handle(ex);
          } catch (Exception e) {
            throw new IOException(e);
          }
        });
    server.start();
    return stateFor("127.0.0.1:" + server.getAddress().getPort());
  }

  private StateDir stateFor(String api) throws IOException {
    Files.writeString(
        dir.resolve("controlplane.json"),
        "{\"xds\": \"127.0.0.1:15012\", \"api\": \"" + api + "\", \"pid\": 1}\n");
    Files.writeString(dir.resolve("token"), "t0ken\n");
    return StateDir.of(dir);
  }

  private static void send(HttpExchange ex, int status, String body, boolean chunked)
      throws IOException {
    byte[] b = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", "application/json");
    ex.sendResponseHeaders(status, chunked ? 0 : b.length);
    try (OutputStream out = ex.getResponseBody()) {
      if (chunked) { // several chunks
        for (int i = 0; i < b.length; i += 7) {
          out.write(b, i, Math.min(7, b.length - i));
          out.flush();
        }
      } else {
        out.write(b);
      }
    }
  }

  @Test
  void asksWithTheStateDirectorysTokenAndReadsTheCredential() throws Exception {
    AtomicReference<String> seen = new AtomicReference<>();
    StateDir state =
        api(
            ex -> {
              String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
              seen.set(
                  ex.getRequestMethod()
                      + " "
                      + ex.getRequestURI()
                      + " "
                      + ex.getRequestHeaders().getFirst("Authorization")
                      + " "
                      + ex.getRequestHeaders().getFirst("Content-Type")
                      + " "
                      + body);
              send(ex, 200, TOKEN_JSON, false);
            });
    WorkloadApiClient.Token t =
        WorkloadApiClient.of(state).workloadToken("demo", "default", "podinfo-v1");
    assertThat(seen.get())
        .isEqualTo(
            "POST /api/v1/workload-tokens Bearer t0ken application/json"
                + " {\"namespace\":\"demo\",\"serviceAccount\":\"default\",\"name\":\"podinfo-v1\"}");
    assertThat(t.token()).isEqualTo("wl-t0k");
    assertThat(t.expiresAt()).isEqualTo(Instant.parse("2026-12-01T00:00:00Z"));
    assertThat(t.spiffeId()).isEqualTo("spiffe://cluster.local/ns/demo/sa/default");
    assertThat(t.rootCert())
        .isEqualTo("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
    assertThat(t.toString()).doesNotContain("wl-t0k");
  }

  @Test
  void readsAChunkedAnswer() throws Exception {
    StateDir state = api(ex -> send(ex, 200, TOKEN_JSON, true));
    assertThat(WorkloadApiClient.of(state).workloadToken("demo", "default", "a").token())
        .isEqualTo("wl-t0k");
  }

  @Test
  void readsAnAnswerThatEndsWithTheConnection() throws Exception {
    StateDir state =
        rawApi(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n"
                + TOKEN_JSON);
    assertThat(WorkloadApiClient.of(state).workloadToken("demo", "default", "a").token())
        .isEqualTo("wl-t0k");
  }

  @Test
  void anotherStatusIsTheApisMessage() throws Exception {
    StateDir state =
        api(
            ex ->
                send(
                    ex,
                    400,
                    "{\"errors\":[{\"message\":\"invalid name \\\"A\\\": a lowercase RFC 1123"
                        + " label\"}]}",
                    false));
    assertThatThrownBy(() -> WorkloadApiClient.of(state).workloadToken("demo", "default", "A"))
        .isInstanceOf(CliException.class)
        .hasMessage(
            "the control plane answered HTTP 400: invalid name \"A\": a lowercase RFC 1123 label");
  }

  @Test
  void anotherStatusWithoutJsonIsItsBody() throws Exception {
    StateDir state = api(ex -> send(ex, 500, "boom\n", false));
    assertThatThrownBy(() -> WorkloadApiClient.of(state).workloadToken("demo", "default", "a"))
        .isInstanceOf(CliException.class)
        .hasMessage("the control plane answered HTTP 500: boom");
  }

  @Test
  void aRejectedApiTokenNamesTheTokenFile() throws Exception {
    StateDir state = api(ex -> send(ex, 401, "{\"message\":\"unauthorized\"}", false));
    assertThatThrownBy(() -> WorkloadApiClient.of(state).workloadToken("demo", "default", "a"))
        .isInstanceOf(CliException.class)
        .hasMessage("the control plane rejected the token in " + state.tokenFile() + " (HTTP 401)");
  }

  @Test
  void anAnswerThatIsNotJsonIsSaidSo() throws Exception {
    StateDir state = api(ex -> send(ex, 200, "<html>", false));
    assertThatThrownBy(() -> WorkloadApiClient.of(state).workloadToken("demo", "default", "a"))
        .isInstanceOf(CliException.class)
        .hasMessage(
            "the control plane answered a workload token that is not JSON: at offset 0:"
                + " expected a value, found '<'");
  }

  @Test
  void aTokenWithoutExpiryOrRootIsRefused() throws Exception {
    StateDir noExpiry =
        api(ex -> send(ex, 200, "{\"token\":\"x\",\"rootCert\":\"r\",\"expiresAt\":1}", false));
    assertThatThrownBy(() -> WorkloadApiClient.of(noExpiry).workloadToken("demo", "default", "a"))
        .hasMessage("the control plane answered a workload token without an expiry");
    server.stop(0);
    StateDir noRoot =
        api(ex -> send(ex, 200, "{\"token\":\"x\",\"expiresAt\":\"2026-12-01T00:00:00Z\"}", false));
    assertThatThrownBy(() -> WorkloadApiClient.of(noRoot).workloadToken("demo", "default", "a"))
        .hasMessage("the control plane answered a workload token without a root certificate");
  }

  @Test
  void nothingListeningIsNotRunning() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    StateDir state = stateFor("127.0.0.1:" + port);
    assertThatThrownBy(() -> WorkloadApiClient.of(state).workloadToken("demo", "default", "a"))
        .isInstanceOf(CliException.class)
        .hasMessage(
            "the Weft control plane is not running (nothing accepts connections at 127.0.0.1:"
                + port
                + "; state dir "
                + dir.toAbsolutePath()
                + "); start it with: weft install");
  }

  @Test
  void noControlPlaneFileIsNotRunning() {
    assertThatThrownBy(() -> WorkloadApiClient.of(StateDir.of(dir)))
        .isInstanceOf(CliException.class)
        .hasMessageContaining("the Weft control plane is not running");
  }

  @Test
  void aControlPlaneThatDoesNotAnswerTimesOutSayingSo() throws Exception {
    StateDir state =
        api(
            ex -> {
              release.await(1, TimeUnit.MINUTES); // busy until the test is over
              send(ex, 200, TOKEN_JSON, false);
            });
    assertThatThrownBy(
            () ->
                WorkloadApiClient.of(state, Duration.ofMillis(300))
                    .workloadToken("demo", "default", "a"))
        .isInstanceOf(CliException.class)
        .hasMessageContaining(
            "did not answer POST /api/v1/workload-tokens within 300 ms; it may be overloaded")
        .hasMessageContaining("controlplane.log");
  }

  @Test
  void anAnswerThatIsNotHttpIsAnError() throws Exception {
    StateDir state = rawApi("SSH-2.0-OpenSSH_9.6\r\n");
    assertThatThrownBy(() -> WorkloadApiClient.of(state).workloadToken("demo", "default", "a"))
        .isInstanceOf(CliException.class)
        .hasMessageContaining("cannot reach the control plane at 127.0.0.1:")
        .hasMessageContaining("not an HTTP/1.x answer: SSH-2.0-OpenSSH_9.6");
  }

  @Test
  void aTruncatedBodyIsAnError() throws Exception {
    StateDir state = rawApi("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"token\"");
    assertThatThrownBy(() -> WorkloadApiClient.of(state).workloadToken("demo", "default", "a"))
        .isInstanceOf(CliException.class)
        .hasMessageContaining("closed the connection after 8 of 100 bytes");
  }

  @Test
  void jsonStringsAreEscaped() {
    assertThat(WorkloadApiClient.quote("a\"b\\c\n\u0001é")).isEqualTo("\"a\\\"b\\\\c\\n\\u0001é\"");
  }

  /** A server that reads the request's head and body, writes {@code answer} and closes. */
  private StateDir rawApi(String answer) throws IOException {
    raw = new ServerSocket(0, 16, InetAddress.getLoopbackAddress());
    Thread.ofPlatform()
        .daemon()
        .start(
            () -> {
              while (!raw.isClosed()) {
                try (Socket s = raw.accept()) {
                  readRequest(s.getInputStream());
                  s.getOutputStream().write(answer.getBytes(StandardCharsets.UTF_8));
                } catch (IOException e) {
                  return;
                }
              }
            });
    return stateFor("127.0.0.1:" + raw.getLocalPort());
  }

  /** Reads a request's head up to the blank line, then Content-Length bytes. */
  private static void readRequest(InputStream in) throws IOException {
    StringBuilder head = new StringBuilder();
    while (!head.toString().endsWith("\r\n\r\n")) {
      int c = in.read();
      if (c < 0) {
        return;
      }
      head.append((char) c);
    }
    int length = 0;
    for (String line : head.toString().split("\r\n")) {
      if (line.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) {
        length = Integer.parseInt(line.substring(15).trim());
      }
    }
    in.readNBytes(length);
  }
}
