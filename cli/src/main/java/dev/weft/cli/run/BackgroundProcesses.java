package dev.weft.cli.run;

import dev.weft.cli.common.CliException;
import dev.weft.cli.common.StateDir;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Background processes of a state directory: started detached (own session, output to {@code
 * logs/<name>.log}, no stdin) and recorded in {@code pids/<name>.pid} so that {@code weft
 * uninstall} can stop them.
 */
public final class BackgroundProcesses {
  // In the command line of every process a distribution starts: dev.weft.cli.Weft (the CLI) and
  // dev.weft.cli.run.ProxyMain (the gateway's and the sidecars' lean JVMs), ControlPlaneMain.
  private static final String MARKER = "dev.weft.cli.";

  private BackgroundProcesses() {}

  /**
   * Starts {@code weft <args>} as a long-running process of {@code dist} ({@link
   * Distribution#weftServer}) with its environment ({@link Distribution#serverEnvironment}),
   * detached as {@link #start}.
   */
  public static Process startServer(
      StateDir state, String name, Distribution dist, List<String> args) {
    return start(state, name, dist.weftServer(args), Distribution.serverEnvironment(args));
  }

  /** Starts {@code command} detached, logging to {@code logs/<name>.log}; records its pid. */
  public static Process start(
      StateDir state, String name, List<String> command, Map<String, String> env) {
    state.create();
    List<String> full = new ArrayList<>();
    // A session of its own, so that signals to the caller's terminal or process group (Ctrl-C,
    // a CI runner's kill) do not reach the background process; `weft uninstall` stops it.
    if (Files.isExecutable(Path.of("/usr/bin/setsid"))) {
      full.add("/usr/bin/setsid");
    } else if (Files.isExecutable(Path.of("/bin/setsid"))) {
      full.add("/bin/setsid");
    }
    full.addAll(command);
    ProcessBuilder pb = new ProcessBuilder(full);
    pb.environment().putAll(env);
    pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
    Path log = state.log(name);
    pb.redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    pb.redirectErrorStream(true);
    Process process;
    try {
      process = pb.start();
    } catch (IOException e) {
      throw new CliException("cannot start " + name + ": " + e.getMessage(), e);
    }
    writePid(state, name, process.pid());
    return process;
  }

  static void writePid(StateDir state, String name, long pid) {
    try {
      Files.createDirectories(state.pids());
      Files.writeString(state.pidFile(name), pid + "\n", StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new CliException("cannot write " + state.pidFile(name) + ": " + e.getMessage(), e);
    }
  }

  /** The process recorded as {@code name}, if it is still a running weft process. */
  public static Optional<ProcessHandle> running(StateDir state, String name) {
    return readPid(state.pidFile(name)).flatMap(BackgroundProcesses::weftProcess);
  }

  private static Optional<Long> readPid(Path file) {
    try {
      return Optional.of(Long.parseLong(Files.readString(file, StandardCharsets.UTF_8).trim()));
    } catch (IOException | NumberFormatException e) {
      return Optional.empty();
    }
  }

  /** The live process {@code pid} if it is a weft process (guards against reused pids). */
  static Optional<ProcessHandle> weftProcess(long pid) {
    return ProcessHandle.of(pid)
        .filter(ProcessHandle::isAlive)
        .filter(
            h -> {
              Optional<String> cmd = commandLine(h);
              return cmd.isEmpty() || cmd.get().contains(MARKER);
            });
  }

  /**
   * The whole command line of {@code h}: on Linux from {@code /proc/PID/cmdline} (proc(5)), as the
   * JDK's {@code ProcessHandle.Info.commandLine()} stops at 4096 bytes, before the main class of a
   * proxy's JVM (its class path names every jar); elsewhere the JDK's.
   */
  static Optional<String> commandLine(ProcessHandle h) {
    Path proc = Path.of("/proc", Long.toString(h.pid()), "cmdline");
    try {
      byte[] raw = Files.readAllBytes(proc);
      if (raw.length > 0) {
        return Optional.of(new String(raw, StandardCharsets.UTF_8).replace('\0', ' ').trim());
      }
    } catch (IOException e) {
      // not Linux, or gone: ask the JDK
    }
    return h.info().commandLine();
  }

  /**
   * Stops every process recorded in {@code pids/}: SIGTERM to each (and to their descendants after
   * {@code deadline}, SIGKILL to whatever is still alive); removes the pid files.
   *
   * @return the names of the processes that were running
   */
  public static List<String> stopAll(StateDir state, Duration deadline) {
    List<String> stopped = new ArrayList<>();
    List<ProcessHandle> handles = new ArrayList<>();
    List<Path> files = new ArrayList<>();
    if (Files.isDirectory(state.pids())) {
      try (DirectoryStream<Path> dir = Files.newDirectoryStream(state.pids(), "*.pid")) {
        dir.forEach(files::add);
      } catch (IOException e) {
        throw new CliException("cannot list " + state.pids() + ": " + e.getMessage(), e);
      }
    }
    for (Path file : files) {
      Optional<ProcessHandle> h = readPid(file).flatMap(BackgroundProcesses::weftProcess);
      if (h.isPresent()) {
        String name = file.getFileName().toString();
        stopped.add(name.substring(0, name.length() - ".pid".length()));
        handles.add(h.get());
      }
    }
    stop(handles, deadline);
    for (Path file : files) {
      try {
        Files.deleteIfExists(file);
      } catch (IOException e) {
        // best effort: a stale pid file is checked against the process's command line anyway
      }
    }
    return stopped;
  }

  /**
   * SIGTERM to each process and its descendants; after {@code deadline}, SIGKILL to whatever is
   * still alive.
   */
  static void stop(List<ProcessHandle> handles, Duration deadline) {
    List<ProcessHandle> all = new ArrayList<>();
    for (ProcessHandle h : handles) {
      all.add(h);
      h.descendants().forEach(all::add);
    }
    all.forEach(ProcessHandle::destroy);
    Instant end = Instant.now().plus(deadline);
    for (ProcessHandle h : all) {
      long left = Duration.between(Instant.now(), end).toMillis();
      if (left > 0) {
        try {
          h.onExit().get(left, java.util.concurrent.TimeUnit.MILLISECONDS);
        } catch (Exception e) {
          // timed out: killed below
        }
      }
    }
    for (ProcessHandle h : all) {
      if (h.isAlive()) {
        h.destroyForcibly();
      }
    }
  }
}
