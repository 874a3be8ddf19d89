package dev.weft.cli.run;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.cli.common.StateDir;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BackgroundProcessesTest {
  @TempDir Path tmp;

  @Test
  void stopKillsAProcessThatIgnoresSigtermAfterTheDeadline() throws Exception {
    Path started = tmp.resolve("started");
    Process p =
        new ProcessBuilder(
                "sh", "-c", "trap '' TERM; touch " + started + "; while :; do sleep 0.05; done")
            .start();
    Instant deadline = Instant.now().plusSeconds(10);
    while (!Files.exists(started)) {
      assertThat(Instant.now()).isBefore(deadline);
      p.waitFor(20, java.util.concurrent.TimeUnit.MILLISECONDS);
    }
    BackgroundProcesses.stop(List.of(p.toHandle()), Duration.ofMillis(300));
    assertThat(p.waitFor(5, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).isEqualTo(128 + 9);
  }

  @Test
  void stopAllIgnoresPidFilesOfOtherProgramsAndRemovesThem() throws Exception {
    StateDir state = StateDir.of(tmp.resolve("state")).create();
    Process other = new ProcessBuilder("sleep", "30").start();
    try {
      BackgroundProcesses.writePid(state, "not-weft", other.pid());
      assertThat(BackgroundProcesses.running(state, "not-weft")).isEmpty();
      assertThat(BackgroundProcesses.stopAll(state, Duration.ofSeconds(1))).isEmpty();
      assertThat(other.isAlive()).isTrue();
      assertThat(state.pidFile("not-weft")).doesNotExist();
    } finally {
      other.destroyForcibly();
    }
  }

  /**
   * A proxy's JVM names every jar on its command line, so its main class comes after the first 4096
   * bytes (where the JDK's ProcessHandle.Info stops): it is still found as a weft process and
   * stopped.
   */
  @Test
  void aWeftProcessWithALongCommandLineIsStillOne() throws Exception {
    StateDir state = StateDir.of(tmp.resolve("state")).create();
    String classpath = String.join(":", java.util.Collections.nCopies(400, "/weft/lib/a-jar.jar"));
    Process proxy =
        new ProcessBuilder(
                "sh",
                "-c",
                "sleep 30 & wait",
                "-cp",
                classpath,
                "dev.weft.cli.run.ProxyMain",
                "proxy")
            .start();
    try {
      BackgroundProcesses.writePid(state, "istio-ingressgateway", proxy.pid());
      assertThat(BackgroundProcesses.running(state, "istio-ingressgateway")).isPresent();
      assertThat(BackgroundProcesses.stopAll(state, Duration.ofSeconds(5)))
          .containsExactly("istio-ingressgateway");
      assertThat(proxy.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
    } finally {
      proxy.destroyForcibly();
    }
  }
}
