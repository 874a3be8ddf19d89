package dev.weft.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code weft run}: the app runs behind its sidecar, with the mesh's environment, and they stop
 * together: on SIGTERM, on SIGKILL of {@code weft run}, and on {@code weft uninstall}.
 */
class RunE2ETest {
  @TempDir Path tmp;
  private Path state;

  @BeforeEach
  void install() throws Exception {
    state = tmp.resolve("state");
    WeftProcess.installMinimal(tmp, state);
  }

  @AfterEach
  void uninstall() throws Exception {
    WeftProcess.uninstall(tmp, state);
  }

  @Test
  void appGetsTheMeshEnvironmentAndItsExitStatusIsKept() throws Exception {
    WeftProcess.Result r =
        WeftProcess.run(
            tmp,
            Duration.ofMinutes(2),
            "run",
            "--state-dir",
            state.toString(),
            "--name",
            "probe",
            "-n",
            "demo",
            "--labels",
            "app=probe",
            "--port",
            "http:9898",
            "--",
            "sh",
            "-c",
            "echo \"proxy=$http_proxy app=$WEFT_APP_ADDRESS pod=$POD_IP name=$POD_NAME.$POD_NAMESPACE\"; exit 3");
    assertThat(r.status()).as(r.toString()).isEqualTo(3);
    Matcher m =
        Pattern.compile(
                "proxy=http://127\\.0\\.1\\.(\\d+):15001 app=127\\.0\\.2\\.(\\d+) pod=127\\.0\\.1\\.(\\d+) name=probe\\.demo")
            .matcher(r.out());
    assertThat(m.find()).as(r.toString()).isTrue();
    assertThat(m.group(2)).isEqualTo(m.group(1));
    assertThat(m.group(3)).isEqualTo(m.group(1));
    assertThat(state.resolve("workloads/demo.probe.json")).doesNotExist();
  }

  @Test
  void sigtermStopsTheAppAndTheSidecar() throws Exception {
    Path out = tmp.resolve("run.out");
    Process run = startRun(out, "sleeper", "sleep", "600");
    try {
      // Wait on the condition itself: the ready line is written before the app starts, but the
      // app's process exists (as the wrapper, then the app) a moment before, so look for both.
      ProcessHandle app =
          awaitCondition(
              "the ready line and the app",
              run,
              out,
              () ->
                  Files.readString(out, StandardCharsets.UTF_8).contains("ready (pod IP 127.0.1.")
                      ? run.descendants()
                          .filter(
                              h ->
                                  h.info().command().orElse("").endsWith("/sleep")
                                      && List.of("600")
                                          .equals(List.of(h.info().arguments().orElse(NONE))))
                          .findFirst()
                      : Optional.empty());
      // Issue #10: the sidecar's JVM (the launcher exec'd it: same pid) runs the proxy's main
      // class on the proxy's jars, not the CLI's class path.
      String cmdline =
          Files.readString(Path.of("/proc", Long.toString(run.pid()), "cmdline"))
              .replace('\0', ' ');
      assertThat(cmdline)
          .contains("dev.weft.cli.run.ProxyMain run")
          .contains("grpc-netty-1.")
          .doesNotContain("picocli")
          .doesNotContain("weft-controlplane")
          .doesNotContain("grpc-netty-shaded")
          .doesNotContain("snakeyaml");
      run.destroy(); // SIGTERM
      assertThat(run.waitFor(30, TimeUnit.SECONDS)).isTrue();
      assertThat(run.exitValue()).isEqualTo(143);
      assertThat(app.onExit().get(10, TimeUnit.SECONDS).isAlive()).isFalse();
      assertThat(state.resolve("workloads/demo.sleeper.json")).doesNotExist();
    } finally {
      kill(run);
    }
  }

  /** Issue #5/#10: SIGKILL of weft run must not orphan the app (nor the app's own children). */
  @Test
  void sigkillOfWeftRunStopsTheAppsWholeProcessTree() throws Exception {
    Path out = tmp.resolve("run.out");
    Process run = startRun(out, "killed", sampleAppWithAChild());
    List<ProcessHandle> tree = new ArrayList<>();
    try {
      InetSocketAddress app = awaitAppListening(run, out);
      run.descendants().forEach(tree::add);
      assertThat(tree).hasSizeGreaterThanOrEqualTo(2); // the shell and the sample's JVM

      Instant killed = Instant.now();
      run.destroyForcibly(); // SIGKILL: no shutdown hook runs
      assertThat(run.waitFor(30, TimeUnit.SECONDS)).isTrue();
      awaitCondition(
          "the app to stop listening on " + app,
          null,
          out,
          () -> listening(app) ? Optional.empty() : Optional.of(true));
      for (ProcessHandle h : tree) {
        assertThat(h.onExit().get(30, TimeUnit.SECONDS).isAlive()).as(h.toString()).isFalse();
      }
      System.out.println(
          "weft run SIGKILLed: the app stopped listening after "
              + Duration.between(killed, Instant.now()).toMillis()
              + " ms");
    } finally {
      tree.forEach(ProcessHandle::destroyForcibly); // if the test failed: no orphans left
      kill(run);
    }
  }

  /** Issue #5: uninstall stops running workloads before it removes the state dir under them. */
  @Test
  void uninstallPurgeStopsARunningWorkloadAndItsApp() throws Exception {
    Path out = tmp.resolve("run.out");
    Process run = startRun(out, "podinfo", sampleAppWithAChild());
    List<ProcessHandle> tree = new ArrayList<>();
    try {
      InetSocketAddress app = awaitAppListening(run, out);
      run.descendants().forEach(tree::add);

      WeftProcess.Result r =
          WeftProcess.run(
              tmp, Duration.ofMinutes(2), "uninstall", "--purge", "--state-dir", state.toString());

      assertThat(r.status()).as(r.toString()).isZero();
      assertThat(r.out())
          .as(r.toString())
          .contains("✔ Stopped workload demo/podinfo (weft run pid " + run.pid() + ")")
          .contains("✔ Stopped controlplane")
          .contains("✔ Removed " + state);
      // Its weft run was asked to stop (SIGTERM), so it stopped its app and sidecar itself.
      assertThat(run.waitFor(30, TimeUnit.SECONDS)).isTrue();
      assertThat(run.exitValue()).isEqualTo(143);
      assertThat(listening(app)).isFalse();
      // weft run returns once no member of the app's group runs, counting an exited member that
      // is not reaped yet (an orphan waits for init, which may take its time on a busy machine)
      // as gone, while the JDK's ProcessHandle.isAlive() counts such a zombie as alive: each
      // exit is awaited.
      for (ProcessHandle h : tree) {
        assertThat(h.onExit().get(30, TimeUnit.SECONDS).isAlive()).as(h.toString()).isFalse();
      }
      assertThat(state).doesNotExist();
    } finally {
      tree.forEach(ProcessHandle::destroyForcibly); // if the test failed: no orphans left
      kill(run);
    }
  }

  /**
   * Issue #10, graceful drain: on SIGTERM the sidecar first drains its inbound listener (new
   * connections refused, a request in progress completes with {@code Connection: close}) while the
   * app still runs; only then is the app stopped.
   */
  @Test
  void sigtermDrainsTheSidecarsInboundBeforeTheAppStops() throws Exception {
    Path out = tmp.resolve("run.out");
    // A Service that selects it, so that its sidecar has an inbound listener on 9898.
    Path svc = tmp.resolve("drained.yaml");
    Files.writeString(
        svc,
        "apiVersion: v1\nkind: Service\nmetadata: {name: drained, namespace: demo}\n"
            + "spec:\n  selector: {app: drained}\n"
            + "  ports:\n  - {name: http, port: 80, targetPort: 9898}\n");
    WeftProcess.Result applied =
        WeftProcess.run(
            tmp,
            Duration.ofMinutes(2),
            "apply",
            "--state-dir",
            state.toString(),
            "-f",
            svc.toString());
    assertThat(applied.status()).as(applied.toString()).isZero();
    Process run =
        startRun(
            out,
            "drained",
            List.of("--labels", "app=drained", "--drain-duration", "120s"),
            sampleAppWithAChild());
    try {
      InetSocketAddress app = awaitAppListening(run, out);
      Matcher m =
          Pattern.compile("ready \\(pod IP ([0-9.]+),")
              .matcher(Files.readString(out, StandardCharsets.UTF_8));
      assertThat(m.find()).isTrue();
      InetSocketAddress inbound = new InetSocketAddress(m.group(1), 9898);
      InetSocketAddress admin = new InetSocketAddress(m.group(1), 15000);
      // A slow request through the sidecar's inbound, until the sidecar has forwarded it.
      Socket slow =
          awaitCondition(
              "the sidecar's inbound " + inbound,
              run,
              out,
              () -> {
                Socket s = new Socket();
                try {
                  s.connect(inbound, 1000);
                  return Optional.of(s);
                } catch (IOException e) {
                  s.close();
                  return Optional.empty();
                }
              });
      try (slow) {
        slow.setSoTimeout(120_000);
        slow.getOutputStream()
            .write(
                "GET /delay/15 HTTP/1.1\r\nHost: drained\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
        awaitCondition(
            "the sidecar to forward the request",
            run,
            out,
            () -> inboundConnectionsOpened(admin) > 0 ? Optional.of(true) : Optional.empty());

        run.destroy(); // SIGTERM

        // Draining: new connections to the inbound are refused while the app still serves.
        awaitCondition(
            "the inbound to refuse connections",
            null,
            out,
            () -> listening(inbound) ? Optional.empty() : Optional.of(true));
        assertThat(listening(app)).as("the app outlives the sidecar's drain").isTrue();
        assertThat(run.isAlive()).isTrue();

        // The request in progress completes, told to close the connection.
        String response =
            new String(slow.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
        assertThat(response).startsWith("HTTP/1.1 200").containsIgnoringCase("connection: close");
      }
      // Then the app and the sidecar stop.
      assertThat(run.waitFor(60, TimeUnit.SECONDS)).isTrue();
      assertThat(run.exitValue()).isEqualTo(143);
      assertThat(listening(app)).isFalse();
    } finally {
      kill(run);
    }
  }

  /** The sidecar's {@code upstream_cx_total} of its inbound cluster, from its admin's /stats. */
  private static long inboundConnectionsOpened(InetSocketAddress admin) {
    try (java.net.http.HttpClient c = java.net.http.HttpClient.newHttpClient()) {
      String stats =
          c.send(
                  java.net.http.HttpRequest.newBuilder(
                          java.net.URI.create(
                              "http://" + admin.getHostString() + ":" + admin.getPort() + "/stats"))
                      .build(),
                  java.net.http.HttpResponse.BodyHandlers.ofString())
              .body();
      for (String line : stats.split("\n")) {
        if (line.contains("inbound|9898") && line.contains("upstream_cx_total: ")) {
          return Long.parseLong(line.substring(line.lastIndexOf(' ') + 1).trim());
        }
      }
      return 0;
    } catch (IOException | InterruptedException | RuntimeException e) {
      return 0;
    }
  }

  /** Issue #5: a name is a DNS-1123 label, as the API says; nothing is written outside. */
  @Test
  void aNameWithAPathInItIsRefusedAndNothingIsWritten() throws Exception {
    Set<Path> before = files();
    WeftProcess.Result r =
        WeftProcess.run(
            tmp,
            Duration.ofMinutes(2),
            "run",
            "--state-dir",
            state.toString(),
            "--name",
            "/../../../x",
            "-n",
            "demo",
            "--port",
            "http:9898",
            "--",
            "true");
    assertThat(r.status()).as(r.toString()).isEqualTo(1);
    assertThat(r.err())
        .isEqualTo(
            "error: invalid --name: \"/../../../x\" is not a valid DNS-1123 label (at most 63"
                + " lower-case letters, digits or '-', starting and ending with a letter or"
                + " digit)\n");
    assertThat(files()).isEqualTo(before);
    assertThat(tmp.resolve("x.json")).doesNotExist();
  }

  private static final String[] NONE = new String[0];

  /** The files under the test's directory, but the launcher's own output files. */
  private Set<Path> files() throws Exception {
    try (Stream<Path> all = Files.walk(tmp)) {
      return all.filter(p -> !p.getFileName().toString().startsWith("weft-"))
          .collect(Collectors.toSet());
    }
  }

  /** The sample app as a shell with a child (the JVM), so that a whole tree must be stopped. */
  private static String[] sampleAppWithAChild() {
    return new String[] {
      "sh",
      "-c",
      "\"$0\" sample podinfo --port 9898 & wait",
      WeftProcess.projectDir().resolve("weft").toString()
    };
  }

  /**
   * Starts {@code weft run --name NAME -n demo --port http:9898 -- APP...}, output to {@code out}.
   */
  private Process startRun(Path out, String name, String... app) throws Exception {
    return startRun(out, name, List.of(), app);
  }

  /** As above, with {@code options} for {@code weft run} before the {@code --}. */
  private Process startRun(Path out, String name, List<String> options, String... app)
      throws Exception {
    List<String> command =
        new ArrayList<>(
            List.of(
                WeftProcess.projectDir().resolve("weft").toString(),
                "run",
                "--state-dir",
                state.toString(),
                "--name",
                name,
                "-n",
                "demo",
                "--port",
                "http:9898"));
    command.addAll(options);
    command.add("--");
    command.addAll(List.of(app));
    ProcessBuilder pb =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(out.toFile())
            .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
    pb.environment().put("WEFT_LIB", WeftProcess.distLib().toString());
    pb.environment().remove("WEFT_STATE_DIR");
    return pb.start();
  }

  /** Waits for the ready line, then until the app accepts connections on its address. */
  private InetSocketAddress awaitAppListening(Process run, Path out) throws Exception {
    Pattern ready = Pattern.compile("ready \\(pod IP [0-9.]+, app address ([0-9.]+),");
    String address =
        awaitCondition(
            "the ready line",
            run,
            out,
            () -> {
              Matcher m = ready.matcher(Files.readString(out, StandardCharsets.UTF_8));
              return m.find() ? Optional.of(m.group(1)) : Optional.empty();
            });
    InetSocketAddress app = new InetSocketAddress(address, 9898);
    awaitCondition(
        "the app to listen on " + app,
        run,
        out,
        () -> listening(app) ? Optional.of(true) : Optional.empty());
    return app;
  }

  private static boolean listening(InetSocketAddress address) {
    try (Socket s = new Socket()) {
      s.connect(address, 1000);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /** A condition that yields a value once it holds. */
  private interface Probe<T> {
    Optional<T> check() throws Exception;
  }

  /**
   * Polls {@code probe} until it yields, for at most 90 s; fails early if {@code run} (when given)
   * exits. Its output is the failure's description.
   */
  private static <T> T awaitCondition(String what, Process run, Path out, Probe<T> probe)
      throws Exception {
    Instant deadline = Instant.now().plusSeconds(90);
    while (true) {
      Optional<T> v = probe.check();
      if (v.isPresent()) {
        return v.get();
      }
      String log = Files.exists(out) ? Files.readString(out, StandardCharsets.UTF_8) : "";
      assertThat(Instant.now()).as("waiting for " + what + "; output:\n" + log).isBefore(deadline);
      if (run != null) {
        assertThat(run.isAlive()).as("weft run exited; output:\n" + log).isTrue();
        run.waitFor(50, TimeUnit.MILLISECONDS);
      } else {
        TimeUnit.MILLISECONDS.sleep(50);
      }
    }
  }

  private static void kill(Process run) {
    run.descendants().forEach(ProcessHandle::destroyForcibly);
    run.destroyForcibly();
  }
}
