package dev.weft.cli.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** {@link ProcessGroup} with real processes. */
class ProcessGroupTest {
  private Process leader;

  @AfterEach
  void cleanUp() {
    if (leader != null) {
      leader.destroyForcibly();
    }
  }

  /** A group led by {@code sleep 600} whose child has exited and is never reaped (a zombie). */
  private ProcessHandle zombieUnder() throws Exception {
    assumeThat(SupervisedApp.setsid()).isPresent();
    assumeThat(Path.of("/proc/self")).isDirectory();
    leader =
        new ProcessBuilder(
                SupervisedApp.setsid().get().toString(), "sh", "-c", "true & exec sleep 600")
            .start();
    Instant deadline = Instant.now().plusSeconds(30);
    while (true) {
      ProcessHandle child = leader.children().findFirst().orElse(null);
      if (child != null && state(child.pid()).equals("Z")) {
        return child;
      }
      assertThat(Instant.now()).isBefore(deadline);
      leader.waitFor(20, TimeUnit.MILLISECONDS);
    }
  }

  private static String state(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
      return stat.substring(stat.lastIndexOf(')') + 2).split(" ")[0];
    } catch (Exception e) {
      return "gone";
    }
  }

  @Test
  void aMemberThatHasExitedButIsNotReapedDoesNotCount() throws Exception {
    ProcessHandle zombie = zombieUnder();
    ProcessGroup alone = new ProcessGroup(zombie.pid(), false);
    assertThat(alone.signal("0")).isTrue(); // kill(2) still finds it
    assertThat(alone.alive()).isFalse();
    assertThat(new ProcessGroup(leader.pid(), true).alive()).isTrue(); // the leader runs
  }

  @Test
  void stopEndsEveryMemberAndSaysWhetherAnyRan() throws Exception {
    zombieUnder();
    ProcessGroup g = new ProcessGroup(leader.pid(), true);
    assertThat(g.stop(Duration.ofSeconds(5))).isTrue();
    assertThat(leader.waitFor(10, TimeUnit.SECONDS)).isTrue();
    assertThat(leader.exitValue()).isEqualTo(128 + 15);
    assertThat(g.alive()).isFalse();
    assertThat(g.stop(Duration.ofSeconds(5))).isFalse();
  }

  @Test
  void targetsAreKillArguments() {
    assertThat(new ProcessGroup(42, true).target()).isEqualTo("-42");
    assertThat(new ProcessGroup(42, false).target()).isEqualTo("42");
  }
}
