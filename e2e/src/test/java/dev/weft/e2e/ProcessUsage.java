package dev.weft.e2e;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * What a JVM process of the mesh holds, from Linux's {@code /proc} and the JDK's {@code jcmd}: open
 * file descriptors, resident memory, and the heap in use right after a full GC (its live set).
 *
 * @param fds open file descriptors ({@code /proc/PID/fd})
 * @param rssKib resident set size ({@code VmRSS} of {@code /proc/PID/status})
 * @param liveHeapKib heap used after {@code jcmd PID GC.run}, or -1 when jcmd cannot attach
 */
record ProcessUsage(long fds, long rssKib, long liveHeapKib) {
  private static final Pattern RSS = Pattern.compile("VmRSS:\\s+(\\d+) kB");
  private static final Pattern USED = Pattern.compile("used (\\d+)K");

  /** Measures process {@code pid} (a full GC first, so the heap figure is what is live). */
  static ProcessUsage of(long pid) throws IOException, InterruptedException {
    long heap = -1;
    if (jcmd(pid, "GC.run") != null) {
      String info = jcmd(pid, "GC.heap_info");
      Matcher m = info == null ? null : USED.matcher(info);
      if (m != null && m.find()) {
        heap = Long.parseLong(m.group(1));
      }
    }
    long fds;
    try (Stream<Path> s = Files.list(Path.of("/proc", Long.toString(pid), "fd"))) {
      fds = s.count();
    }
    Matcher rss = RSS.matcher(Files.readString(Path.of("/proc", Long.toString(pid), "status")));
    return new ProcessUsage(fds, rss.find() ? Long.parseLong(rss.group(1)) : -1, heap);
  }

  /** {@code jcmd pid command}'s output, or null when it fails. */
  private static String jcmd(long pid, String command) throws IOException, InterruptedException {
    Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
    if (!Files.isExecutable(jcmd)) {
      return null;
    }
    Process p =
        new ProcessBuilder(List.of(jcmd.toString(), Long.toString(pid), command))
            .redirectErrorStream(true)
            .start();
    byte[] out = p.getInputStream().readAllBytes();
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      return null;
    }
    return p.exitValue() == 0 ? new String(out, StandardCharsets.UTF_8) : null;
  }

  @Override
  public String toString() {
    return fds + " fds, RSS " + rssKib / 1024 + " MiB, live heap " + liveHeapKib / 1024 + " MiB";
  }
}
