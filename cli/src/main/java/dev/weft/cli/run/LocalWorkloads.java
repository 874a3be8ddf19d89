package dev.weft.cli.run;

import dev.weft.cli.common.CliException;
import dev.weft.cli.common.StateDir;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The workloads that {@code weft run} recorded in a state directory ({@code workloads/*.json}), and
 * stopping them for {@code weft uninstall}: each running {@code weft run} (which stops its app and
 * sidecar), then any app left behind by a {@code weft run} that died with its watchdog.
 */
public final class LocalWorkloads {
  private LocalWorkloads() {}

  /**
   * One record.
   *
   * @param file the record's file
   * @param namespace the workload's namespace
   * @param name the workload's name
   * @param runPid the {@code weft run} process
   * @param runStarted when it started (epoch ms), -1 if unknown
   * @param app the app's process group, empty until the app started
   * @param appStarted when the app's process started (epoch ms), -1 if unknown
   */
  record Entry(
      Path file,
      String namespace,
      String name,
      long runPid,
      long runStarted,
      Optional<ProcessGroup> app,
      long appStarted) {
    String id() {
      return namespace + "/" + name;
    }
  }

  /** The records of {@code state}, in file name order. */
  static List<Entry> list(StateDir state) {
    List<Path> files = new ArrayList<>();
    if (Files.isDirectory(state.workloads())) {
      try (DirectoryStream<Path> dir = Files.newDirectoryStream(state.workloads(), "*.json")) {
        dir.forEach(files::add);
      } catch (IOException e) {
        throw new CliException("cannot list " + state.workloads() + ": " + e.getMessage(), e);
      }
    }
    files.sort(Comparator.naturalOrder());
    List<Entry> entries = new ArrayList<>();
    for (Path f : files) {
      read(f).ifPresent(entries::add);
    }
    return entries;
  }

  /** The record in {@code file}; empty if it is not (yet) one. */
  static Optional<Entry> read(Path file) {
    Map<String, Object> n = StateDir.readObject(file).orElse(null);
    if (n == null
        || !(n.get("name") instanceof String name)
        || !(n.get("namespace") instanceof String namespace)) {
      return Optional.empty();
    }
    long appPid = StateDir.longValue(n.get("appPid"), -1);
    Optional<ProcessGroup> app =
        appPid > 1
            ? Optional.of(new ProcessGroup(appPid, Boolean.TRUE.equals(n.get("appGroup"))))
            : Optional.empty();
    return Optional.of(
        new Entry(
            file,
            namespace,
            name,
            StateDir.longValue(n.get("pid"), -1),
            StateDir.longValue(n.get("started"), -1),
            app,
            StateDir.longValue(n.get("appStarted"), -1)));
  }

  /**
   * The entry's {@code weft run} if it still runs: the same process (same start time: pids are
   * reused), or, for a record without one, a live weft process with that pid.
   */
  static Optional<ProcessHandle> run(Entry e) {
    if (e.runStarted() < 0) {
      return BackgroundProcesses.weftProcess(e.runPid());
    }
    return ProcessHandle.of(e.runPid())
        .filter(ProcessHandle::isAlive)
        .filter(h -> sameStart(h, e.runStarted()));
  }

  /**
   * The entry's app if any of it is still running. The group's leader, if still there, must be the
   * process that was recorded (same start time: pids are reused); a group whose leader has exited
   * but whose members remain is still the app's (the kernel does not reuse an id that still names a
   * group).
   */
  static Optional<ProcessGroup> leftoverApp(Entry e) {
    if (e.app().isEmpty()) {
      return Optional.empty();
    }
    ProcessGroup g = e.app().get();
    Optional<ProcessHandle> leader = ProcessHandle.of(g.id()).filter(ProcessHandle::isAlive);
    if (leader.isPresent() && !sameStart(leader.get(), e.appStarted())) {
      return Optional.empty();
    }
    if (leader.isEmpty() && !g.group()) {
      return Optional.empty();
    }
    return g.alive() ? Optional.of(g) : Optional.empty();
  }

  private static boolean sameStart(ProcessHandle h, long recorded) {
    if (recorded < 0) {
      return true;
    }
    return h.info().startInstant().map(i -> i.toEpochMilli() == recorded).orElse(true);
  }

  /**
   * Stops every workload of {@code state}: SIGTERM to each running {@code weft run} (it stops its
   * app, gracefully, and its sidecar), SIGKILL to one still running after {@code grace} (its
   * watchdog then stops the app); then stops, SIGTERM then SIGKILL, any app still left, including
   * those of a {@code weft run} that died before; removes the records.
   *
   * @return what was stopped, one line each, e.g. {@code workload demo/podinfo-v1 (weft run pid
   *     42)}
   */
  public static List<String> stopAll(StateDir state, Duration grace) {
    List<Entry> entries = list(state);
    Map<Entry, ProcessHandle> runs = new LinkedHashMap<>();
    for (Entry e : entries) {
      run(e).ifPresent(h -> runs.put(e, h));
    }
    runs.values().forEach(ProcessHandle::destroy);
    Instant end = Instant.now().plus(grace);
    for (ProcessHandle h : runs.values()) {
      long left = Math.max(1, Duration.between(Instant.now(), end).toMillis());
      try {
        h.onExit().get(left, TimeUnit.MILLISECONDS);
      } catch (Exception ex) {
        h.destroyForcibly(); // its watchdog stops the app; whatever is left is stopped below
      }
    }
    Map<Entry, ProcessGroup> leftovers = new LinkedHashMap<>();
    for (Entry e : entries) {
      leftoverApp(e).ifPresent(g -> leftovers.put(e, g));
    }
    ProcessGroup.stopAll(List.copyOf(leftovers.values()), grace);
    List<String> stopped = new ArrayList<>();
    for (Entry e : entries) {
      if (runs.containsKey(e)) {
        stopped.add("workload " + e.id() + " (weft run pid " + e.runPid() + ")");
      } else if (leftovers.containsKey(e)) {
        stopped.add("orphaned app of workload " + e.id() + " (" + leftovers.get(e) + ")");
      }
      try {
        Files.deleteIfExists(e.file());
      } catch (IOException ex) {
        // best effort: a record whose processes are gone is reused by the next weft run
      }
    }
    return stopped;
  }
}
