package dev.weft.cli.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import dev.weft.cli.common.StateDir;
import dev.weft.cli.install.Installer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link LocalWorkloads}: what {@code weft uninstall} does with the records of dead runs. */
class LocalWorkloadsTest {
  @TempDir Path tmp;
  private Process app;

  @AfterEach
  void cleanUp() {
    if (app != null) {
      new ProcessGroup(app.pid(), true).signal("KILL");
      app.destroyForcibly();
    }
  }

  /** A process group like a supervised app's: a leader (a shell) and a child that ignore TERM. */
  private Process orphanGroup() throws Exception {
    return orphanGroup("trap '' TERM; ");
  }

  private Process orphanGroup(String prelude) throws Exception {
    assumeThat(SupervisedApp.setsid()).isPresent();
    Path started = tmp.resolve("started");
    app =
        new ProcessBuilder(
                SupervisedApp.setsid().get().toString(),
                "sh",
                "-c",
                prelude + "sleep 600 & : > " + started + "; wait")
            .start();
    Instant deadline = Instant.now().plusSeconds(30);
    while (!Files.exists(started)) {
      assertThat(Instant.now()).isBefore(deadline);
      app.waitFor(20, TimeUnit.MILLISECONDS);
    }
    return app;
  }

  /** The pid of a process that has exited: a {@code weft run} killed with its watchdog. */
  private static long deadPid() throws Exception {
    Process p = new ProcessBuilder("true").start();
    p.waitFor();
    return p.pid();
  }

  private static void record(StateDir state, String name, long runPid, Process app) {
    Map<String, Object> json = new LinkedHashMap<>();
    json.put("name", name);
    json.put("namespace", "demo");
    json.put("podIP", "127.0.1.9");
    json.put("appAddress", "127.0.2.9");
    json.put("pid", runPid);
    json.put("appPid", app.pid());
    json.put("appGroup", true);
    json.put("appStarted", app.info().startInstant().orElseThrow().toEpochMilli());
    StateDir.writeJson(state.workloadFile("demo", name), json);
  }

  @Test
  void stopAllStopsTheAppOfARunThatDiedWithItsWatchdog() throws Exception {
    StateDir state = StateDir.of(tmp.resolve("state")).create();
    Process orphan = orphanGroup();
    ProcessHandle child = orphan.children().findFirst().orElseThrow();
    record(state, "left", deadPid(), orphan);

    assertThat(LocalWorkloads.stopAll(state, Duration.ofMillis(200)))
        .containsExactly("orphaned app of workload demo/left (process group " + orphan.pid() + ")");
    assertThat(orphan.waitFor(10, TimeUnit.SECONDS)).isTrue();
    assertThat(orphan.exitValue()).isEqualTo(128 + 9); // it ignored SIGTERM
    assertThat(child.onExit().get(10, TimeUnit.SECONDS).isAlive()).isFalse();
    assertThat(state.workloadFile("demo", "left")).doesNotExist();
  }

  @Test
  void aRecordedAppPidNowUsedByAnotherProcessIsLeftAlone() throws Exception {
    StateDir state = StateDir.of(tmp.resolve("state")).create();
    Process other = orphanGroup();
    Map<String, Object> json = new LinkedHashMap<>();
    json.put("name", "old");
    json.put("namespace", "demo");
    json.put("pid", deadPid());
    json.put("appPid", other.pid());
    json.put("appGroup", true);
    json.put(
        "appStarted", other.info().startInstant().orElseThrow().toEpochMilli() - 60_000); // earlier
    StateDir.writeJson(state.workloadFile("demo", "old"), json);

    assertThat(LocalWorkloads.stopAll(state, Duration.ofMillis(200))).isEmpty();
    assertThat(other.isAlive()).isTrue();
    assertThat(state.workloadFile("demo", "old")).doesNotExist();
  }

  @Test
  void theNextRunOfTheSameNameStopsTheAppItsPredecessorLeft() throws Exception {
    StateDir state = StateDir.of(tmp.resolve("state")).create();
    Process orphan = orphanGroup("");
    record(state, "again", deadPid(), orphan);

    WorkloadAllocator.Addresses a =
        WorkloadAllocator.allocate(state, "demo", "again", java.util.List.of(), Map.of());
    try {
      // allocate returns once no member of the group runs (an exited member not reaped yet counts
      // as gone); this JVM's reaper thread may not have reaped its child yet on a busy machine,
      // and until then Process.isAlive() says true: its exit is awaited.
      assertThat(new ProcessGroup(orphan.pid(), true).alive()).isFalse();
      assertThat(orphan.waitFor(30, TimeUnit.SECONDS)).isTrue();
      assertThat(a.podIp()).startsWith("127.0.1.");
    } finally {
      WorkloadAllocator.release(state, "demo", "again");
    }
  }

  @Test
  void uninstallStopsLeftoverAppsBeforeItRemovesTheStateDir() throws Exception {
    StateDir state = StateDir.of(tmp.resolve("state")).create();
    Process orphan = orphanGroup("");
    record(state, "left", deadPid(), orphan);
    java.io.StringWriter out = new java.io.StringWriter();

    Installer.uninstall(state, true, new java.io.PrintWriter(out));

    assertThat(out.toString())
        .contains("✔ Stopped orphaned app of workload demo/left (process group " + orphan.pid())
        .contains("✔ Removed " + state.root())
        .doesNotContain("Nothing was running");
    // (awaited: this JVM's reaper thread may not have reaped its stopped child yet)
    assertThat(orphan.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(state.root()).doesNotExist();
  }
}
