package dev.weft.cli.run;

import static dev.weft.cli.run.Conditions.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.weft.cli.common.CliException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link SupervisedApp} with real processes: a shell app with children, a real watchdog. */
class SupervisedAppTest {
  private static final Duration DEADLINE = Duration.ofSeconds(30);

  @TempDir Path tmp;
  private SupervisedApp app;

  @AfterEach
  void cleanUp() {
    if (app != null) {
      app.group().signal("KILL");
      app.process().destroyForcibly();
    }
  }

  /** Starts {@code script} under a watchdog and waits until it has written {@code started}. */
  private SupervisedApp start(String script, Duration grace) throws Exception {
    Path started = tmp.resolve("started");
    ProcessBuilder pb =
        new ProcessBuilder("sh", "-c", script)
            .redirectOutput(tmp.resolve("out").toFile())
            .redirectErrorStream(true);
    pb.environment().put("STARTED", started.toString());
    app = SupervisedApp.start(pb, grace);
    await("the app to start", () -> Files.exists(started));
    return app;
  }

  @Test
  void theAppHasAProcessGroupOfItsOwnWithItsChildren() throws Exception {
    SupervisedApp a =
        start("sleep 600 & sleep 601 & : > \"$STARTED\"; wait", Duration.ofSeconds(5));
    assertThat(a.group().group()).isTrue();
    assertThat(a.group().id()).isEqualTo(a.process().pid());
    long self = ProcessHandle.current().pid();
    assertThat(pgid(a.process().pid())).isEqualTo(a.process().pid()).isNotEqualTo(pgid(self));
    List<ProcessHandle> children = a.process().children().toList();
    assertThat(children).hasSize(2); // the watchdog is nobody's child here
    for (ProcessHandle c : children) {
      assertThat(pgid(c.pid())).isEqualTo(a.process().pid());
    }
  }

  /** The same kernel event as this JVM dying: the lifeline's only write end closes. */
  @Test
  void closingTheLifelineStopsTheWholeProcessTree() throws Exception {
    SupervisedApp a =
        start("sleep 600 & sleep 601 & : > \"$STARTED\"; wait", Duration.ofSeconds(5));
    List<ProcessHandle> tree =
        java.util.stream.Stream.concat(
                java.util.stream.Stream.of(a.process().toHandle()), a.process().descendants())
            .toList();
    assertThat(tree).hasSize(3);
    a.process().getOutputStream().close();
    await("the app's process group to be gone", () -> !a.group().alive());
    for (ProcessHandle h : tree) {
      await("process " + h.pid() + " to exit", () -> !h.isAlive());
    }
    assertThat(a.process().waitFor()).isEqualTo(128 + 15); // SIGTERM
  }

  @Test
  void anAppThatIgnoresSigtermIsKilledAfterTheGrace() throws Exception {
    SupervisedApp a =
        start("trap '' TERM; sleep 600 & : > \"$STARTED\"; wait", Duration.ofMillis(300));
    ProcessHandle child = a.process().children().findFirst().orElseThrow();
    a.stop();
    assertThat(a.group().alive()).isFalse();
    assertThat(a.process().waitFor(DEADLINE.toSeconds(), TimeUnit.SECONDS)).isTrue();
    assertThat(a.process().exitValue()).isEqualTo(128 + 9); // SIGKILL
    await("the child to exit", () -> !child.isAlive());
  }

  @Test
  void theExitStatusIsTheAppsAndItReadsNothing() throws Exception {
    ProcessBuilder pb =
        new ProcessBuilder("sh", "-c", "read line; echo \"[$line] $GREETING\"; exit 7")
            .redirectOutput(tmp.resolve("out").toFile());
    pb.environment().put("GREETING", "hello");
    app = SupervisedApp.start(pb, Duration.ofSeconds(5));
    assertThat(app.process().waitFor(DEADLINE.toSeconds(), TimeUnit.SECONDS)).isTrue();
    assertThat(app.process().exitValue()).isEqualTo(7);
    assertThat(Files.readString(tmp.resolve("out"), StandardCharsets.UTF_8))
        .isEqualTo("[] hello\n");
    app.stop(); // after the app's own exit: harmless
  }

  @Test
  void aCommandThatIsNotThereIsAClearError() {
    assertThatThrownBy(
            () ->
                SupervisedApp.start(
                    new ProcessBuilder("no-such-command-weft-test"), Duration.ofSeconds(1)))
        .isInstanceOf(CliException.class)
        .hasMessage("cannot start no-such-command-weft-test: no such executable");
  }

  @Test
  void executableSearchesThePath() throws Exception {
    Path bin = Files.createDirectories(tmp.resolve("bin"));
    Path tool = Files.writeString(bin.resolve("tool"), "#!/bin/sh\n");
    assertThat(SupervisedApp.executable("tool", bin.toString())).isEmpty(); // not executable
    assertThat(tool.toFile().setExecutable(true)).isTrue();
    assertThat(SupervisedApp.executable("tool", "/nonexistent:" + bin)).contains(tool);
    assertThat(SupervisedApp.executable(tool.toString(), "")).contains(tool);
    assertThat(SupervisedApp.executable(bin.toString(), "")).isEmpty(); // a directory
  }

  /** The process group of {@code pid}, from /proc (Linux): the 5th field of its stat line. */
  static long pgid(long pid) throws Exception {
    String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
    String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    return Long.parseLong(fields[2]);
  }
}
