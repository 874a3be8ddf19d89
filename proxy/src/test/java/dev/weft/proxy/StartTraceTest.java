package dev.weft.proxy;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

class StartTraceTest {
  /**
   * /proc's tick (10 ms) and /proc/uptime's resolution (10 ms): the start read from /proc lies
   * within them of the true start.
   */
  private static final Duration RESOLUTION = Duration.ofMillis(25);

  @Test
  @EnabledOnOs(OS.LINUX)
  void aChildsStartLiesBetweenTheClockBeforeItsSpawnAndAfter() throws Exception {
    for (int i = 0; i < 3; i++) {
      Instant before = Instant.now();
      Process child = new ProcessBuilder("sleep", "5").start();
      Instant after = Instant.now();
      try {
        Instant start = StartTrace.processStart(child.pid());
        // The JDK's startInstant (btime, a whole second, plus ticks) fails this by up to 1 s.
        assertTrue(
            !start.isBefore(before.minus(RESOLUTION)) && !start.isAfter(after.plus(RESOLUTION)),
            "start " + start + " outside [" + before + ", " + after + "] ± " + RESOLUTION);
      } finally {
        child.destroy();
        child.waitFor();
      }
    }
  }

  @Test
  @EnabledOnOs(OS.LINUX)
  void thisJvmsProcessStartedNoLaterThanItsRuntimeSays() {
    Instant jvm =
        Instant.ofEpochMilli(
            java.lang.management.ManagementFactory.getRuntimeMXBean().getStartTime());
    Instant start = StartTrace.processStart(ProcessHandle.current().pid());
    assertTrue(!start.isAfter(jvm.plus(RESOLUTION)), "process " + start + " after JVM " + jvm);
  }
}
