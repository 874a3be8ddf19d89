package dev.weft.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs the built {@code weft} launcher as a process, the way a user does. */
final class WeftProcess {
  private WeftProcess() {}

  /**
   * What one run printed and how it ended.
   *
   * @param status the exit status, or -1 if it was killed at its deadline
   * @param out standard output
   * @param err standard error
   */
  record Result(int status, String out, String err) {
    @Override
    public String toString() {
      return "status " + status + "\n--- stdout\n" + out + "--- stderr\n" + err;
    }
  }

  /** The repository root (where the {@code weft} launcher is). */
  static Path projectDir() {
    String dir = System.getProperty("weft.project.dir");
    assumeTrue(dir != null, "weft.project.dir is not set (run through Maven)");
    return Path.of(dir);
  }

  /** The built distribution's lib directory; skips the test when it has not been built. */
  static Path distLib() {
    String lib = System.getProperty("weft.dist.lib");
    Path p = lib == null ? projectDir().resolve("cli/target/weft/lib") : Path.of(lib);
    try (var files = Files.list(p)) {
      assumeTrue(
          files.anyMatch(f -> f.getFileName().toString().startsWith("weft-cli-")),
          "the distribution is not built in " + p + " (run ./mvnw -pl cli package first)");
    } catch (IOException e) {
      assumeTrue(false, "the distribution is not built in " + p);
    }
    return p;
  }

  /**
   * {@code weft install --profile minimal} into {@code state} with the control plane's xDS and API
   * ports chosen by the kernel (port 0: recorded in the state dir; a port probed free here could be
   * taken by another process before it binds), then {@code more}; fails the test unless it exits 0.
   */
  static Result installMinimal(Path workDir, Path state, String... more)
      throws IOException, InterruptedException {
    List<String> args =
        new ArrayList<>(
            List.of(
                "install",
                "--profile",
                "minimal",
                "--state-dir",
                state.toString(),
                "--xds-address",
                "127.0.0.1:0",
                "--api-address",
                "127.0.0.1:0"));
    args.addAll(List.of(more));
    Result r = run(workDir, Duration.ofMinutes(2), args.toArray(String[]::new));
    assertThat(r.status()).as(r.toString()).isZero();
    return r;
  }

  /** {@code weft uninstall --purge} of {@code state}: whatever it started stops, its files go. */
  static Result uninstall(Path workDir, Path state) throws IOException, InterruptedException {
    return run(
        workDir, Duration.ofMinutes(1), "uninstall", "--purge", "--state-dir", state.toString());
  }

  /**
   * The last {@code lines} lines of each log of a state directory ({@code logs/*.log}: the control
   * plane's, the gateways' and the sidecars', their access logs among them), each under its name;
   * what a failed test prints before its uninstall removes them.
   */
  static String logTails(Path state, int lines) {
    Path dir = state.resolve("logs");
    StringBuilder b = new StringBuilder("--- the last " + lines + " lines of each log in " + dir);
    try (var files = Files.list(dir)) {
      for (Path f : files.filter(p -> p.toString().endsWith(".log")).sorted().toList()) {
        List<String> all =
            new String(Files.readAllBytes(f), StandardCharsets.UTF_8).lines().toList();
        b.append("\n--- ").append(f.getFileName()).append('\n');
        all.subList(Math.max(0, all.size() - lines), all.size())
            .forEach(l -> b.append(l).append('\n'));
      }
    } catch (IOException e) {
      b.append("\n(no logs: ").append(e).append(')');
    }
    return b.toString();
  }

  /** Runs {@code weft args...} with a deadline; kills it (and its descendants) past that. */
  static Result run(Path workDir, Duration timeout, String... args)
      throws IOException, InterruptedException {
    List<String> command = new ArrayList<>();
    command.add(projectDir().resolve("weft").toString());
    command.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(command).directory(workDir.toFile());
    pb.environment().put("WEFT_LIB", distLib().toString());
    pb.environment().remove("WEFT_STATE_DIR");
    File out = Files.createTempFile(workDir, "weft-", ".out").toFile();
    File err = Files.createTempFile(workDir, "weft-", ".err").toFile();
    pb.redirectOutput(out);
    pb.redirectError(err);
    pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
    Process p = pb.start();
    int status;
    if (p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      status = p.exitValue();
    } else {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly().waitFor();
      status = -1;
    }
    return new Result(
        status,
        Files.readString(out.toPath(), StandardCharsets.UTF_8),
        Files.readString(err.toPath(), StandardCharsets.UTF_8));
  }

  /**
   * Starts {@code weft args...} in the background, its output (both streams) appended to {@code
   * log}. The caller owns the process and must stop it ({@link #stop}).
   */
  static Process start(Path workDir, Path log, String... args) throws IOException {
    List<String> command = new ArrayList<>();
    command.add(projectDir().resolve("weft").toString());
    command.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(command).directory(workDir.toFile());
    pb.environment().put("WEFT_LIB", distLib().toString());
    pb.environment().remove("WEFT_STATE_DIR");
    pb.redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    pb.redirectErrorStream(true);
    pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
    return pb.start();
  }

  /** Stops a process this test started (and its descendants): SIGTERM, then SIGKILL. */
  static void stop(Process p) throws InterruptedException {
    if (p == null) {
      return;
    }
    List<ProcessHandle> tree = new ArrayList<>(p.descendants().toList());
    p.destroy();
    if (!p.waitFor(10, TimeUnit.SECONDS)) {
      p.destroyForcibly().waitFor();
    }
    tree.forEach(ProcessHandle::destroyForcibly);
  }

  /**
   * A TCP port free on 127.0.0.1 now, drawn at random below the kernel's ephemeral range (where no
   * outgoing connection can take it before the process under test binds it), never twice per JVM.
   */
  static int freePort() throws IOException {
    java.util.concurrent.ThreadLocalRandom random =
        java.util.concurrent.ThreadLocalRandom.current();
    for (int attempt = 0; attempt < 200; attempt++) {
      int port = 21000 + random.nextInt(32768 - 21000);
      if (!PICKED.add(port)) {
        continue;
      }
      try (ServerSocket s = new ServerSocket()) {
        s.setReuseAddress(true);
        s.bind(new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), port));
        return port;
      } catch (IOException e) {
        // taken: draw another
      }
    }
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  private static final java.util.Set<Integer> PICKED =
      java.util.concurrent.ConcurrentHashMap.newKeySet();
}
