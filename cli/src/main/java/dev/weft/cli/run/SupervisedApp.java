package dev.weft.cli.run;

import dev.weft.cli.common.CliException;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The app of {@code weft run}, started so that it cannot outlive the {@code weft run} process
 * (docs/architecture.md, "Supervision"). The app gets a process group of its own ({@code setsid}),
 * so that one signal reaches its whole process tree; a watchdog, a small {@code /bin/sh} outside
 * that group, holds the read end of a pipe whose only write end is this JVM's (the app's standard
 * input as {@link ProcessBuilder} creates it; the app itself reads {@code /dev/null}). When this
 * JVM closes the pipe, or dies in any way including SIGKILL, the kernel closes the write end, the
 * watchdog reads end-of-file and stops the group: SIGTERM, then SIGKILL after the grace period.
 *
 * <p>The app's {@link Process} is the app itself (the wrapper shell {@code exec}s it), so its exit
 * status is the app's. Not thread-safe beyond {@link #stop()}, which may be called from any thread
 * and more than once.
 */
final class SupervisedApp {
  /** How long the app gets between SIGTERM and SIGKILL unless told otherwise. */
  static final Duration DEFAULT_GRACE = Duration.ofSeconds(5);

  // The watchdog's tick: it polls the group only while stopping it, never while the app runs.
  private static final int TICK_MILLIS = 100;

  // $1 setsid or "", $2 ticks of grace, $3 the watchdog's script, then the app's command line. It
  // moves the lifeline to fd 3, starts the watchdog detached (a subshell that exits at once, so the
  // watchdog is nobody's child here and the app never reaps it), and execs the app, whose own
  // process group (pgid = this pid) setsid created before this shell started.
  private static final String WRAPPER =
      """
      setsid_cmd=$1; ticks=$2; watch=$3; shift 3
      if [ -n "$setsid_cmd" ]; then target=-$$; else target=$$; fi
      exec 3<&0 0</dev/null
      if [ -n "$setsid_cmd" ]; then
        ( "$setsid_cmd" /bin/sh -c "$watch" weft-watchdog "$target" "$ticks" 0<&3 3<&- >/dev/null 2>&1 & )
      else
        ( /bin/sh -c "$watch" weft-watchdog "$target" "$ticks" 0<&3 3<&- >/dev/null 2>&1 & )
      fi
      exec "$@" 3<&-
      """;

  // $1 the kill target (-pgid or pid), $2 ticks. Signals to this shell are ignored: only the end of
  // the lifeline matters (a SIGTERM meant for weft run's descendants must not disarm it).
  private static final String WATCHDOG =
      """
      trap '' INT TERM HUP
      while read -r _; do :; done
      kill -TERM $1 2>/dev/null || exit 0
      i=0
      while kill -0 $1 2>/dev/null; do
        if [ "$i" -ge "$2" ]; then kill -KILL $1 2>/dev/null; exit 0; fi
        sleep 0.1
        i=$((i + 1))
      done
      """;

  private final Process process;
  private final ProcessGroup group;
  private final Duration grace;

  private SupervisedApp(Process process, ProcessGroup group, Duration grace) {
    this.process = process;
    this.group = group;
    this.grace = grace;
  }

  /**
   * Starts {@code app} (its command, environment, directory and output redirects are kept; its
   * standard input becomes {@code /dev/null}) under a watchdog.
   *
   * @throws CliException if the command cannot be found or started
   */
  static SupervisedApp start(ProcessBuilder app, Duration grace) {
    List<String> command = app.command();
    if (command.isEmpty()) {
      throw new CliException("no command to run");
    }
    String program = command.get(0);
    if (executable(program, app.environment().get("PATH")).isEmpty()) {
      throw new CliException("cannot start " + program + ": no such executable");
    }
    Optional<Path> setsid = setsid();
    List<String> full = new ArrayList<>();
    setsid.ifPresent(p -> full.add(p.toString()));
    full.add("/bin/sh");
    full.add("-c");
    full.add(WRAPPER);
    full.add("weft-app");
    full.add(setsid.map(Path::toString).orElse(""));
    full.add(Long.toString(Math.max(1, grace.toMillis() / TICK_MILLIS)));
    full.add(WATCHDOG);
    full.addAll(command);
    ProcessBuilder pb = new ProcessBuilder(full);
    pb.environment().clear();
    pb.environment().putAll(app.environment());
    pb.directory(app.directory());
    pb.redirectInput(ProcessBuilder.Redirect.PIPE); // the lifeline
    pb.redirectOutput(app.redirectOutput());
    pb.redirectError(app.redirectError());
    pb.redirectErrorStream(app.redirectErrorStream());
    Process p;
    try {
      p = pb.start();
    } catch (IOException e) {
      throw new CliException("cannot start " + program + ": " + e.getMessage(), e);
    }
    return new SupervisedApp(p, new ProcessGroup(p.pid(), setsid.isPresent()), grace);
  }

  /** The app's process (after the wrapper's {@code exec}, the app itself). */
  Process process() {
    return process;
  }

  /** The app's process group (or, without {@code setsid}, the app's process alone). */
  ProcessGroup group() {
    return group;
  }

  /**
   * Stops the app's process tree: closes the lifeline, so the watchdog sends SIGTERM to the group
   * and SIGKILL after the grace period, and waits for that; kills the group itself if the watchdog
   * is gone. Returns when nothing of the app is left (or it could not be killed).
   */
  void stop() {
    List<ProcessHandle> tree = group.group() ? List.of() : process.descendants().toList();
    try {
      process.getOutputStream().close();
    } catch (IOException e) {
      // closed already (the JDK closes it when the app exits): the watchdog has been told
    }
    if (!group.awaitGone(grace.plusSeconds(2))) {
      group.signal("KILL");
      group.awaitGone(Duration.ofSeconds(5));
    }
    if (!tree.isEmpty()) {
      // No group: the watchdog reached only the app's own process; its children are ours.
      BackgroundProcesses.stop(tree, grace);
    }
  }

  /** {@code setsid} (util-linux; busybox has it too), if this machine has it. */
  static Optional<Path> setsid() {
    for (String p : List.of("/usr/bin/setsid", "/bin/setsid")) {
      if (Files.isExecutable(Path.of(p))) {
        return Optional.of(Path.of(p));
      }
    }
    return Optional.empty();
  }

  /** Where {@code program} is: itself if it has a '/', else the first match on {@code path}. */
  static Optional<Path> executable(String program, String path) {
    if (program.isEmpty()) {
      return Optional.empty();
    }
    if (program.contains("/")) {
      Path p = Path.of(program);
      return Files.isExecutable(p) && !Files.isDirectory(p) ? Optional.of(p) : Optional.empty();
    }
    String dirs = path == null ? "/usr/local/bin:/usr/bin:/bin" : path;
    for (String dir : dirs.split(File.pathSeparator, -1)) {
      Path p = Path.of(dir.isEmpty() ? "." : dir).resolve(program);
      if (Files.isExecutable(p) && !Files.isDirectory(p)) {
        return Optional.of(p);
      }
    }
    return Optional.empty();
  }
}
