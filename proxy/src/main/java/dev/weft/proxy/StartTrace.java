package dev.weft.proxy;

import java.io.PrintStream;
import java.time.Duration;
import java.time.Instant;

/**
 * The start of a proxy's JVM, phase by phase (issue #10: {@code /ready} within 300 ms of the JVM's
 * start): when the environment has {@code WEFT_START_TRACE} (or the system property {@code
 * weft.start.trace} is {@code true}), each {@link #mark} prints one line to standard error, {@code
 * weft-start PHASE wall_ms=W cpu_ms=C}: the wall time since the process started and the CPU the
 * process has used so far (every thread's, from {@code /proc}). Otherwise a mark costs one volatile
 * read. {@code benchmarks/footprint.sh} turns it on.
 */
public final class StartTrace {
  private static final boolean ON =
      System.getenv("WEFT_START_TRACE") != null || Boolean.getBoolean("weft.start.trace");
  private static final Instant STARTED =
      ON ? ProcessHandle.current().info().startInstant().orElse(Instant.now()) : null;

  private static final java.util.Set<String> SEEN =
      ON ? java.util.concurrent.ConcurrentHashMap.newKeySet() : null;

  private StartTrace() {}

  /** {@link #mark}, the first time {@code phase} happens only. */
  public static void markOnce(String phase) {
    if (ON && SEEN.add(phase)) {
      mark(phase);
    }
  }

  /** Whether marks are printed. */
  public static boolean enabled() {
    return ON;
  }

  /** Prints {@code phase} with the wall time since the process started and its CPU time. */
  public static void mark(String phase) {
    if (!ON) {
      return;
    }
    long wall = Duration.between(STARTED, Instant.now()).toMillis();
    long cpu =
        ProcessHandle.current().info().totalCpuDuration().map(Duration::toMillis).orElse(-1L);
    PrintStream err = System.err;
    err.println("weft-start " + phase + " wall_ms=" + wall + " cpu_ms=" + cpu);
  }
}
