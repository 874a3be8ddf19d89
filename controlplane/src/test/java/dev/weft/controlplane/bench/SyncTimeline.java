package dev.weft.controlplane.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntSupplier;
import java.util.stream.Stream;

/**
 * The first seconds of the benchmark's initial sync, sampled every {@code step} milliseconds from
 * the first connect (issue #10: what the seconds before the first response are): the control
 * plane's CPU per thread group ({@code /proc/<pid>/task/<tid>/stat}, grouped by the thread's name
 * with its numbers taken out, e.g. {@code weft-xds-io}, {@code C1 CompilerThre}, {@code VM
 * Thread}), the simulated sidecars' JVM's CPU, and the sims' own counts: TCP connections up, TLS
 * handshakes done ({@link EnvoyLikeTls}), sidecars with a first response. Reads only {@code /proc}
 * and counters: nothing of the control plane is instrumented. Printed once the window is over, so
 * the printing costs nothing during it. {@code TIMELINE=0} turns it off.
 */
final class SyncTimeline implements Runnable {
  /** Simulated sidecars whose TCP connection is up (the TLS handshake starts). */
  static final AtomicInteger TCP_UP = new AtomicInteger();

  /** Simulated sidecars whose TLS handshake finished. */
  static final AtomicInteger HANDSHAKES = new AtomicInteger();

  /** Simulated sidecars that received their first response. */
  static final AtomicInteger FIRST_RESPONSES = new AtomicInteger();

  private final long cpPid;
  private final long selfPid;
  private final long start;
  private final long stepNanos;
  private final int steps;
  private final IntSupplier firstResponses;
  private final List<String> rows = new ArrayList<>();
  private final Map<String, Long> totals = new TreeMap<>();
  private volatile boolean stopped;

  SyncTimeline(
      long cpPid,
      long selfPid,
      long start,
      int stepMillis,
      int seconds,
      IntSupplier firstResponses) {
    this.cpPid = cpPid;
    this.selfPid = selfPid;
    this.start = start;
    this.stepNanos = stepMillis * 1_000_000L;
    this.steps = seconds * 1000 / stepMillis;
    this.firstResponses = firstResponses;
  }

  /** Stops sampling (the sync ended first). */
  void stop() {
    stopped = true;
  }

  @Override
  public void run() {
    try {
      rows.add(
          String.format(
              "timeline from the first connect, %s (wall clock), every %d ms: the machine's busy"
                  + " CPU of %d cores, the control plane's and the sims' CPU and thread groups",
              java.time.Instant.now(),
              stepNanos / 1_000_000,
              Runtime.getRuntime().availableProcessors()));
      Map<String, Long> before = threadTicks(cpPid);
      Map<String, Long> simsBefore = threadTicks(selfPid);
      long cpBefore = processTicks(cpPid);
      long selfBefore = processTicks(selfPid);
      long[] machineBefore = machineTicks();
      for (int i = 1; i <= steps && !stopped; i++) {
        long until = start + i * stepNanos;
        long wait = until - System.nanoTime();
        if (wait > 0) {
          Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
        }
        Map<String, Long> now = threadTicks(cpPid);
        Map<String, Long> simsNow = threadTicks(selfPid);
        long cp = processTicks(cpPid);
        long self = processTicks(selfPid);
        long[] machine = machineTicks();
        rows.add(
            String.format(
                "timeline %5.1f s: machine busy %4d ms (idle %4d), cp %4d ms, sims %4d ms | tcp %4d,"
                    + " tls %4d, first responses %4d | cp threads (ms):%s | sims threads (ms):%s",
                i * stepNanos / 1e9,
                (machine[0] - machineBefore[0]) * 10,
                (machine[1] - machineBefore[1]) * 10,
                (cp - cpBefore) * 10,
                (self - selfBefore) * 10,
                TCP_UP.get(),
                HANDSHAKES.get(),
                firstResponses.getAsInt(),
                groups(before, now, "cp "),
                groups(simsBefore, simsNow, "sims ")));
        before = now;
        simsBefore = simsNow;
        cpBefore = cp;
        selfBefore = self;
        machineBefore = machine;
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (IOException | RuntimeException e) {
      rows.add("timeline stopped: " + e);
    }
  }

  private String groups(Map<String, Long> before, Map<String, Long> now, String prefix) {
    StringBuilder groups = new StringBuilder();
    for (Map.Entry<String, Long> e : now.entrySet()) {
      long d = e.getValue() - before.getOrDefault(e.getKey(), 0L);
      if (d > 0) {
        groups.append(String.format(" %s=%d", e.getKey().replace(' ', '_'), d * 10));
        totals.merge(prefix + e.getKey(), d * 10, Long::sum);
      }
    }
    return groups.toString();
  }

  /**
   * The machine's busy and idle clock ticks so far, all cores ({@code /proc/stat}'s {@code cpu}
   * line: busy is user, nice, system, irq, softirq and steal; idle is idle and iowait).
   */
  static long[] machineTicks() throws IOException {
    String line = Files.readAllLines(Path.of("/proc/stat")).get(0);
    String[] f = line.trim().split("\\s+");
    long busy = 0;
    for (int i : new int[] {1, 2, 3, 6, 7, 8}) {
      busy += Long.parseLong(f[i]);
    }
    return new long[] {busy, Long.parseLong(f[4]) + Long.parseLong(f[5])};
  }

  /** The samples, one line each, and each thread group's total. */
  String report() {
    StringBuilder sb = new StringBuilder();
    for (String r : rows) {
      sb.append(r).append('\n');
    }
    sb.append("timeline totals (ms):");
    totals.forEach((k, v) -> sb.append(' ').append(k.replace(' ', '_')).append('=').append(v));
    return sb.toString();
  }

  /** utime+stime of a process in clock ticks (USER_HZ, 100 a second). */
  static long processTicks(long pid) throws IOException {
    return ticks(Files.readString(Path.of("/proc/" + pid + "/stat")));
  }

  /**
   * utime+stime per thread group of a process: threads grouped by their name with digits and the
   * separators before them removed ({@code weft-xds-io-3-1} and {@code weft-xds-io-4-2} are {@code
   * weft-xds-io}). Threads that exited are missing (their ticks move to nothing).
   */
  static Map<String, Long> threadTicks(long pid) throws IOException {
    Map<String, Long> m = new TreeMap<>();
    try (Stream<Path> tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
      for (Path t : (Iterable<Path>) tasks::iterator) {
        try {
          String stat = Files.readString(t.resolve("stat"));
          String name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
          m.merge(group(name), ticks(stat), Long::sum);
        } catch (IOException gone) {
          // the thread exited between the listing and the read
        }
      }
    }
    return m;
  }

  /**
   * What each thread group used between two {@link #threadTicks} readings, in milliseconds, the
   * largest first, groups that used nothing left out: {@code "weft-controlpla=6220
   * weft-xds-io=..."}. A group only in {@code before} (its threads exited) is left out too.
   */
  static String used(Map<String, Long> before, Map<String, Long> after) {
    List<Map.Entry<String, Long>> used = new ArrayList<>();
    for (Map.Entry<String, Long> e : after.entrySet()) {
      long d = e.getValue() - before.getOrDefault(e.getKey(), 0L);
      if (d > 0) {
        used.add(Map.entry(e.getKey().replace(' ', '_'), d * 10));
      }
    }
    used.sort(
        Map.Entry.<String, Long>comparingByValue()
            .reversed()
            .thenComparing(Map.Entry.comparingByKey()));
    StringBuilder sb = new StringBuilder();
    for (Map.Entry<String, Long> e : used) {
      sb.append(sb.length() == 0 ? "" : " ").append(e.getKey()).append('=').append(e.getValue());
    }
    return sb.toString();
  }

  static String group(String threadName) {
    String g = threadName.replaceAll("[-#_ ]?[0-9]+", "");
    return g.isEmpty() ? threadName : g;
  }

  private static long ticks(String stat) {
    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    return Long.parseLong(f[11]) + Long.parseLong(f[12]);
  }
}
