package dev.weft.cli.run;

import dev.weft.cli.common.CliException;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A POSIX process group, or a single process when the app could not get a group of its own (no
 * {@code setsid}). Java has no API to signal a group, so signals go through the shell's {@code
 * kill} builtin ({@code kill -TERM -PGID}, POSIX kill(2) with a negative pid): one signal reaches
 * every member at once, including children forked a moment ago.
 *
 * @param id the process group id (the leader's pid), or the process id when {@code group} is false
 * @param group whether {@code id} names a group
 */
record ProcessGroup(long id, boolean group) {
  private static final Duration POLL = Duration.ofMillis(50);
  private static final Path PROC = Path.of("/proc");
  private static final Path PROC_SELF = PROC.resolve("self");

  ProcessGroup {
    if (id <= 1) {
      throw new IllegalArgumentException("not a process (group) id: " + id);
    }
  }

  /** The {@code kill} target: {@code -id} for a group, {@code id} for a process. */
  String target() {
    return group ? "-" + id : Long.toString(id);
  }

  /**
   * Sends {@code signal} (a name such as {@code TERM}, {@code KILL}, or {@code 0} to test) to every
   * member; false if there was none (or it could not be signalled).
   */
  boolean signal(String signal) {
    ProcessBuilder pb =
        new ProcessBuilder("/bin/sh", "-c", "kill -" + signal + " " + target() + " 2>/dev/null");
    pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
    pb.redirectOutput(ProcessBuilder.Redirect.DISCARD);
    pb.redirectError(ProcessBuilder.Redirect.DISCARD);
    try {
      return pb.start().waitFor() == 0;
    } catch (IOException e) {
      throw new CliException("cannot run /bin/sh to signal " + this + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CliException("interrupted");
    }
  }

  /**
   * Whether any member still runs. On Linux, from {@code /proc}: a member that has exited but is
   * not reaped yet (a zombie; an orphan's new parent, init, may take its time) does not count.
   * Elsewhere, {@code kill -0}, which counts zombies too.
   */
  boolean alive() {
    if (!Files.isDirectory(PROC_SELF)) {
      return signal("0");
    }
    if (!group) {
      return runningMember(PROC.resolve(Long.toString(id)));
    }
    try (DirectoryStream<Path> procs = Files.newDirectoryStream(PROC)) {
      for (Path p : procs) {
        String pid = p.getFileName().toString();
        if (!pid.isEmpty() && Character.isDigit(pid.charAt(0)) && runningMember(p)) {
          return true;
        }
      }
      return false;
    } catch (IOException e) {
      return signal("0");
    }
  }

  /** Whether {@code /proc/PID} is a member that has not exited (its stat line, proc(5)). */
  private boolean runningMember(Path proc) {
    String stat;
    try {
      stat = Files.readString(proc.resolve("stat"), StandardCharsets.US_ASCII);
    } catch (IOException e) {
      return false; // gone meanwhile
    }
    // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses, so from the last ')'.
    int close = stat.lastIndexOf(')');
    if (close < 0 || close + 2 >= stat.length()) {
      return false;
    }
    String[] f = stat.substring(close + 2).split(" ", 4);
    if (f.length < 3 || f[0].equals("Z") || f[0].equals("X")) {
      return false;
    }
    String id = Long.toString(this.id);
    return group ? f[2].equals(id) : proc.getFileName().toString().equals(id);
  }

  /** Polls until no member is left or {@code timeout} passes; true if none is left. */
  boolean awaitGone(Duration timeout) {
    Instant end = Instant.now().plus(timeout);
    while (alive()) {
      if (Instant.now().isAfter(end)) {
        return false;
      }
      pause();
    }
    return true;
  }

  /**
   * SIGTERM to every member; SIGKILL to whatever is left after {@code grace}. Returns false if
   * nothing was running.
   */
  boolean stop(Duration grace) {
    return !stopAll(List.of(this), grace).isEmpty();
  }

  /**
   * Stops {@code groups} together: SIGTERM to each, then SIGKILL to those with members left after
   * {@code grace}. Returns the groups that were running.
   */
  static List<ProcessGroup> stopAll(List<ProcessGroup> groups, Duration grace) {
    List<ProcessGroup> running = groups.stream().filter(ProcessGroup::alive).toList();
    running.forEach(g -> g.signal("TERM"));
    Instant end = Instant.now().plus(grace);
    for (ProcessGroup g : running) {
      if (!g.awaitGone(Duration.between(Instant.now(), end))) {
        g.signal("KILL");
      }
    }
    Instant killed = Instant.now().plusSeconds(5);
    for (ProcessGroup g : running) {
      g.awaitGone(Duration.between(Instant.now(), killed));
    }
    return running;
  }

  private static void pause() {
    try {
      // Polling another process's state; no event to wait on for a group that is not our child.
      TimeUnit.MILLISECONDS.sleep(POLL.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CliException("interrupted");
    }
  }

  @Override
  public String toString() {
    return (group ? "process group " : "process ") + id;
  }
}
