package dev.weft.proxy;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;

/**
 * The start of a proxy's JVM, phase by phase (issue #10: {@code /ready} within 300 ms of the JVM's
 * start): when the environment has {@code WEFT_START_TRACE} (or the system property {@code
 * weft.start.trace} is {@code true}), each {@link #mark} prints one line to standard error, {@code
 * weft-start PHASE wall_ms=W cpu_ms=C}: the wall time since the process started and the CPU the
 * process has used so far (every thread's, from {@code /proc}). Otherwise a mark costs one volatile
 * read. {@code benchmarks/footprint.sh} turns it on.
 *
 * <p>The process's start is taken from {@code /proc}: its start in clock ticks since boot ({@code
 * /proc/PID/stat}, field 22) against the time since boot ({@code /proc/uptime}), both with 10 ms
 * resolution. The JDK's {@code ProcessHandle.Info.startInstant} adds those ticks to {@code btime}
 * of {@code /proc/stat}, a whole second: its start is early by up to a second, the same for every
 * process of one boot (620 ms on one machine here, 2026-12-01), and every wall figure with it.
 */
public final class StartTrace {
  private static final boolean ON =
      System.getenv("WEFT_START_TRACE") != null || Boolean.getBoolean("weft.start.trace");
  private static final Instant STARTED = ON ? processStart(ProcessHandle.current().pid()) : null;

  /** Linux's USER_HZ: the unit of {@code /proc/PID/stat}'s times on every architecture. */
  private static final int TICKS_PER_SECOND = 100;

  private static final java.util.Set<String> SEEN =
      ON ? java.util.concurrent.ConcurrentHashMap.newKeySet() : null;

  private StartTrace() {}

  /**
   * When process {@code pid} started, to 10 ms, from {@code /proc} (see the class comment); the
   * JDK's start where {@code /proc} cannot be read.
   */
  static Instant processStart(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
      // Fields after "(comm)" (which may hold spaces) start at field 3; starttime is field 22.
      String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      long startTicks = Long.parseLong(fields[22 - 3]);
      for (int attempt = 0; ; attempt++) {
        Instant before = Instant.now();
        String uptime = Files.readString(Path.of("/proc/uptime"));
        Instant after = Instant.now();
        // Read between two clock readings close together: a pause between them would move the
        // start by its length.
        if (Duration.between(before, after).toMillis() <= 2 || attempt == 9) {
          double sinceBoot = Double.parseDouble(uptime.substring(0, uptime.indexOf(' ')));
          long agoMillis = Math.round(sinceBoot * 1000) - startTicks * 1000 / TICKS_PER_SECOND;
          return after.minusMillis(agoMillis);
        }
      }
    } catch (IOException | RuntimeException e) {
      return ProcessHandle.of(pid).flatMap(h -> h.info().startInstant()).orElse(Instant.now());
    }
  }

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
