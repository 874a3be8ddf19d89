package dev.weft.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code weft run}: the app runs behind its sidecar, with the mesh's environment, and they stop
 * together.
 */
class RunE2ETest {
  @TempDir Path tmp;
  private Path state;

  @BeforeEach
  void install() throws Exception {
    state = tmp.resolve("state");
    WeftProcess.Result r =
        WeftProcess.run(
            tmp,
            Duration.ofMinutes(2),
            "install",
            "--profile",
            "minimal",
            "--state-dir",
            state.toString(),
            "--xds-address",
            "127.0.0.1:" + WeftProcess.freePort(),
            "--api-address",
            "127.0.0.1:" + WeftProcess.freePort());
    assertThat(r.status()).as(r.toString()).isZero();
  }

  @AfterEach
  void uninstall() throws Exception {
    WeftProcess.run(
        tmp, Duration.ofMinutes(1), "uninstall", "--purge", "--state-dir", state.toString());
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
    ProcessBuilder pb =
        new ProcessBuilder(
                WeftProcess.projectDir().resolve("weft").toString(),
                "run",
                "--state-dir",
                state.toString(),
                "--name",
                "sleeper",
                "-n",
                "demo",
                "--port",
                "http:9898",
                "--",
                "sleep",
                "600")
            .redirectErrorStream(true)
            .redirectOutput(out.toFile())
            .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
    pb.environment().put("WEFT_LIB", WeftProcess.distLib().toString());
    Process run = pb.start();
    try {
      Instant deadline = Instant.now().plusSeconds(90);
      List<ProcessHandle> app = List.of();
      while (app.isEmpty()) {
        assertThat(Instant.now()).as(Files.readString(out)).isBefore(deadline);
        assertThat(run.isAlive()).as(Files.readString(out)).isTrue();
        app =
            run.descendants()
                .filter(h -> h.info().commandLine().orElse("").contains("sleep 600"))
                .toList();
        run.waitFor(50, TimeUnit.MILLISECONDS);
      }
      assertThat(Files.readString(out, StandardCharsets.UTF_8)).contains("ready (pod IP 127.0.1.");
      run.destroy(); // SIGTERM
      assertThat(run.waitFor(30, TimeUnit.SECONDS)).isTrue();
      assertThat(run.exitValue()).isEqualTo(143);
      assertThat(app.get(0).onExit().get(10, TimeUnit.SECONDS).isAlive()).isFalse();
      assertThat(state.resolve("workloads/demo.sleeper.json")).doesNotExist();
    } finally {
      run.descendants().forEach(ProcessHandle::destroyForcibly);
      run.destroyForcibly();
    }
  }
}
