package dev.weft.cli.common;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #5: {@link ControlPlaneClient#connect} tells "not running" (nothing listens) from "not
 * answering" (a slow health check), and waits for a slow control plane instead of calling it not
 * running. Real sockets: a JDK HTTP server on port 0 plays the control plane.
 */
class ControlPlaneClientTest {
  private static final ControlPlaneClient.Probe FAST =
      new ControlPlaneClient.Probe(
          Duration.ofSeconds(1), Duration.ofSeconds(30), Duration.ofMillis(10));

  @TempDir Path dir;
  private HttpServer server;
  private final CountDownLatch release = new CountDownLatch(1);
  private final StringWriter progress = new StringWriter();

  @AfterEach
  void stop() {
    release.countDown();
    if (server != null) {
      server.stop(0);
    }
  }

  /** A control plane whose first {@code slow} health checks hang until the test ends. */
  private StateDir controlPlane(int slow) throws IOException {
    AtomicInteger calls = new AtomicInteger();
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
    server.setExecutor(Executors.newCachedThreadPool());
    server.createContext(
        "/healthz",
        ex -> {
          try (ex) {
            if (calls.incrementAndGet() <= slow) {
              release.await(1, TimeUnit.MINUTES); // busy: no answer until the test is over
            }
            byte[] ok = "ok\n".getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, ok.length);
            ex.getResponseBody().write(ok);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        });
    server.start();
    return stateFor("127.0.0.1:" + server.getAddress().getPort());
  }

  private StateDir stateFor(String api) throws IOException {
    Files.writeString(
        dir.resolve("controlplane.json"),
        "{\"xds\": \"127.0.0.1:15010\", \"api\": \"" + api + "\", \"pid\": 1}\n");
    Files.writeString(dir.resolve("token"), "t0ken\n");
    return StateDir.of(dir);
  }

  @Test
  void aSlowHealthCheckIsSaidAndRetriedUntilItAnswers() throws Exception {
    StateDir state = controlPlane(2);
    ControlPlaneClient client =
        ControlPlaneClient.connect(state, FAST, new PrintWriter(progress, true));
    assertThat(client.apiAddress().port()).isEqualTo(server.getAddress().getPort());
    String api = "127.0.0.1:" + server.getAddress().getPort();
    // Two probes hang; on a busy machine a later one may time out too before one answers.
    assertThat(progress.toString().lines())
        .hasSizeGreaterThanOrEqualTo(2)
        .allSatisfy(
            l ->
                assertThat(l)
                    .startsWith("weft: the control plane at " + api)
                    .contains("did not answer its health check within 1 s; retrying in "));
    assertThat(progress.toString())
        .contains("retrying in 10 ms\n")
        .contains("retrying in 20 ms\n")
        .doesNotContain("not running");
  }

  @Test
  void aControlPlaneThatNeverAnswersFailsAfterThePatienceSayingSo() throws Exception {
    StateDir state = controlPlane(Integer.MAX_VALUE);
    // A patience well past the first attempt's 200 ms timeout: on a busy machine that attempt
    // may end late, and one ending past the patience less the backoff gives up without a retry.
    ControlPlaneClient.Probe probe =
        new ControlPlaneClient.Probe(
            Duration.ofMillis(200), Duration.ofSeconds(3), Duration.ofMillis(100));
    assertThatThrownBy(
            () -> ControlPlaneClient.connect(state, probe, new PrintWriter(progress, true)))
        .isInstanceOf(CliException.class)
        .hasMessageContaining("is running but did not answer its health check within 0.2 s")
        .hasMessageContaining("attempts in")
        .hasMessageContaining("controlplane.log")
        .hasMessageNotContaining("not running");
    assertThat(progress.toString()).contains("retrying in 0.1 s");
  }

  @Test
  void nothingListeningIsNotRunningAtOnce() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    StateDir state = stateFor("127.0.0.1:" + port);
    assertThatThrownBy(
            () -> ControlPlaneClient.connect(state, FAST, new PrintWriter(progress, true)))
        .isInstanceOf(CliException.class)
        .hasMessageContaining("the Weft control plane is not running")
        .hasMessageContaining("nothing accepts connections at 127.0.0.1:" + port)
        .hasMessageContaining("start it with: weft install");
    assertThat(progress.toString()).isEmpty();
  }

  @Test
  void noControlPlaneFileIsNotRunning() {
    assertThatThrownBy(
            () -> ControlPlaneClient.connect(StateDir.of(dir), FAST, new PrintWriter(progress)))
        .isInstanceOf(CliException.class)
        .hasMessage(
            "the Weft control plane is not running (state dir "
                + dir.toAbsolutePath()
                + "); start it with: weft install");
  }

  @Test
  void anApplyOutlastsTheReadTimeout() throws Exception {
    StateDir state = controlPlane(0);
    CountDownLatch applyArrived = new CountDownLatch(1);
    CountDownLatch finishApply = new CountDownLatch(1);
    server.createContext(
        "/api/v1/apply",
        ex -> {
          try (ex) {
            ex.getRequestBody().readAllBytes();
            applyArrived.countDown();
            finishApply.await(1, TimeUnit.MINUTES); // a big apply: the control plane is working
            byte[] body =
                ("{\"results\":[{\"kind\":\"DestinationRule\",\"group\":\"networking.istio.io\","
                        + "\"namespace\":\"bench\",\"name\":\"dr\",\"action\":\"created\"}],"
                        + "\"warnings\":[]}")
                    .getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, body.length);
            ex.getResponseBody().write(body);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        });
    server.createContext("/api/v1/proxies", ex -> {}); // never answers
    ControlPlaneClient client =
        ControlPlaneClient.connect(state, FAST, new PrintWriter(progress, true))
            .withTimeouts(Duration.ofMillis(200), Duration.ofMinutes(1));
    var apply =
        java.util.concurrent.CompletableFuture.supplyAsync(() -> client.apply("kind: x", "f"));
    assertThat(applyArrived.await(1, TimeUnit.MINUTES)).isTrue();
    // A read times out after 200 ms and says so; the apply, started before it, is still waiting.
    assertThatThrownBy(client::proxies)
        .isInstanceOf(CliException.class)
        .hasMessageContaining("did not answer GET /api/v1/proxies within 0.2 s")
        .hasMessageNotContaining("not running");
    assertThat(apply).isNotDone();
    finishApply.countDown();
    assertThat(apply.get(1, TimeUnit.MINUTES).results())
        .singleElement()
        .satisfies(r -> assertThat(r.action()).isEqualTo("created"));
  }

  @Test
  void waitsAreWrittenAsPeopleSayThem() {
    assertThat(ControlPlaneClient.human(Duration.ofSeconds(2))).isEqualTo("2 s");
    assertThat(ControlPlaneClient.human(Duration.ofMillis(500))).isEqualTo("0.5 s");
    assertThat(ControlPlaneClient.human(Duration.ofMillis(10))).isEqualTo("10 ms");
    assertThat(ControlPlaneClient.human(Duration.ofMillis(1500))).isEqualTo("1.5 s");
    assertThat(ControlPlaneClient.human(ControlPlaneClient.CHANGE_TIMEOUT)).isEqualTo("10 min");
  }
}
