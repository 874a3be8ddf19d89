package dev.weft.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The guide's failure drill: the control plane dies (SIGKILL), the data plane keeps routing with
 * its last configuration, {@code weft install} brings the control plane back on the addresses the
 * proxies know, they reconnect, and new configuration reaches them again.
 */
class FailureDrillE2ETest {
  private static final HttpClient HTTP =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(2))
          .build();

  @TempDir Path tmp;

  @Test
  void dataPlaneSurvivesTheControlPlaneAndResyncsAfterRestart() throws Exception {
    Path state = tmp.resolve("drill-state");
    int ingressPort = WeftProcess.freePort();
    String url = "http://127.0.0.1:" + ingressPort + "/version";
    try {
      WeftProcess.Result demo =
          WeftProcess.run(
              tmp,
              Duration.ofMinutes(5),
              "demo",
              "--keep",
              "--ingress-port",
              Integer.toString(ingressPort),
              "--state-dir",
              state.toString());
      assertThat(demo.status()).as(demo.toString()).isZero();

      long pid = Long.parseLong(Files.readString(state.resolve("pids/controlplane.pid")).trim());
      ProcessHandle cp = ProcessHandle.of(pid).orElseThrow();
      // SIGKILL (destroyForcibly on Unix): no chance to say goodbye to the proxies.
      assertThat(cp.destroyForcibly()).isTrue();
      cp.onExit().get();

      // The gateway and sidecars keep their last configuration (the header route).
      for (int i = 0; i < 10; i++) {
        assertThat(get(url, "true", Duration.ofSeconds(60))).isEqualTo("6.7.0");
        assertThat(get(url, null, Duration.ofSeconds(60))).isEqualTo("6.7.1");
      }
      WeftProcess.Result down =
          WeftProcess.run(
              tmp,
              Duration.ofMinutes(1),
              "get",
              "virtualservices",
              "-n",
              "demo",
              "--state-dir",
              state.toString());
      assertThat(down.status()).isNotZero();
      assertThat(down.err()).contains("control plane is not running").contains("weft install");

      WeftProcess.Result install =
          WeftProcess.run(tmp, Duration.ofMinutes(2), "install", "--state-dir", state.toString());
      assertThat(install.status()).as(install.toString()).isZero();
      assertThat(install.out())
          .contains("Restarting the control plane")
          .contains("✔ Ingress gateways running");

      await(
          "every proxy to resync with the restarted control plane",
          () -> {
            try {
              WeftProcess.Result ps =
                  WeftProcess.run(
                      tmp, Duration.ofMinutes(1), "proxy-status", "--state-dir", state.toString());
              return ps.status() == 0
                  && ps.out().lines().filter(l -> l.matches(".*(SYNCED +){4}yes.*")).count() == 3;
            } catch (Exception e) {
              return false;
            }
          });

      // New configuration reaches the data plane again: everything to v2.
      Path allV2 = tmp.resolve("all-v2.yaml");
      Files.writeString(
          allV2,
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
            - route:
              - destination: {host: podinfo.demo.svc.cluster.local, subset: v2}
          """);
      WeftProcess.Result applied =
          WeftProcess.run(
              tmp,
              Duration.ofMinutes(1),
              "apply",
              "-f",
              allV2.toString(),
              "--state-dir",
              state.toString());
      assertThat(applied.status()).as(applied.toString()).isZero();
      assertThat(applied.out()).contains("virtualservice.networking.istio.io/podinfo configured");
      // A probe within 5 s: the wait retries it, so one request held by a busy machine does not
      // use up the wait's 60 s.
      await(
          "the new route at the gateway",
          () -> "6.7.0".equals(get(url, null, Duration.ofSeconds(5))));
    } catch (AssertionError | RuntimeException e) {
      // The uninstall below removes the logs: the failure carries their ends (a failed demo
      // prints them itself).
      throw new AssertionError(e.getMessage() + "\n" + WeftProcess.logTails(state, 40), e);
    } finally {
      WeftProcess.uninstall(tmp, state);
    }
  }

  /**
   * The version {@code GET url} answers (with {@code x-canary} when given) within {@code timeout},
   * or null. A request that must succeed has 60 s, which only bounds a broken mesh: with the
   * control plane down, the proxies, busy reconnecting on a loaded machine, may take seconds.
   */
  private static String get(String url, String canary, Duration timeout) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(timeout);
    if (canary != null) {
      b.header("x-canary", canary);
    }
    try {
      HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() != 200) {
        return null;
      }
      int i = r.body().indexOf("\"version\":\"");
      return i < 0 ? null : r.body().substring(i + 11, r.body().indexOf('"', i + 11));
    } catch (IOException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  private static void await(String what, BooleanSupplier condition) throws InterruptedException {
    Instant deadline = Instant.now().plusSeconds(60);
    while (!condition.getAsBoolean()) {
      if (Instant.now().isAfter(deadline)) {
        throw new AssertionError("timed out waiting for " + what);
      }
      Thread.sleep(200); // polling a condition with a deadline
    }
  }
}
