package dev.weft.cli.run;

import dev.weft.cli.Weft;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * How to start another {@code weft} process from this one: the same java and the same class path.
 * The launcher passes them as {@code -Dweft.java=...} and {@code -Dweft.lib=...}; without them the
 * current JVM's command and class path are used.
 *
 * @param java the java executable
 * @param classpath the class path argument
 */
public record Distribution(String java, String classpath) {
  /** JVM options for short-lived commands (the CLI, the sample app): start fast. */
  public static final List<String> FAST_START =
      List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC");

  /**
   * JVM options of a sidecar ({@code weft run}, {@code weft proxy sidecar}): a proxy's working set
   * is small and short-lived (pooled direct buffers hold the bytes), so the serial collector (no GC
   * threads, no remembered sets) on a small fixed heap, compact object headers (JEP 519), small
   * thread stacks and bounded direct memory; the measurements behind each figure are in
   * docs/benchmarks.md ("Sidecar footprint"). The {@code weft} launcher passes the same options
   * (DistributionTest checks).
   */
  public static final List<String> SIDECAR =
      List.of(
          "-XX:+UseSerialGC",
          "-Xms32m",
          "-Xmx48m",
          "-XX:+UseCompactObjectHeaders",
          "-Xss512k",
          "-XX:MaxDirectMemorySize=32m",
          "-XX:ReservedCodeCacheSize=48m",
          "-XX:CICompilerCount=2",
          "-XX:MaxHeapFreeRatio=30",
          "-XX:MinHeapFreeRatio=10");

  /**
   * JVM options of the ingress gateway ({@code weft proxy router}): as a sidecar's, with room for a
   * whole mesh's traffic and configuration.
   */
  public static final List<String> GATEWAY =
      List.of(
          "-XX:+UseSerialGC",
          "-Xms32m",
          "-Xmx96m",
          "-XX:+UseCompactObjectHeaders",
          "-Xss512k",
          "-XX:MaxDirectMemorySize=64m",
          "-XX:ReservedCodeCacheSize=48m",
          "-XX:CICompilerCount=2",
          "-XX:MaxHeapFreeRatio=30",
          "-XX:MinHeapFreeRatio=10");

  /**
   * JVM options of the control plane: a small heap while idle that may grow to a large mesh's
   * (docs/benchmarks.md: 2000 proxies and 1000 Services hold about 100 MB live after a full
   * collection), capped at 256 MB so that the process stays within 512 MB at that scale (the heap
   * grows to its ceiling while the proxies sync, whatever the ceiling), given back after a burst
   * (serial collector, heap shrunk to 30% free after each full collection).
   */
  public static final List<String> CONTROL_PLANE =
      List.of(
          "-XX:+UseSerialGC",
          "-Xms32m",
          "-Xmx256m",
          "-XX:+UseCompactObjectHeaders",
          "-XX:MaxHeapFreeRatio=30",
          "-XX:MinHeapFreeRatio=10");

  /** The distribution this JVM runs from. */
  public static Distribution current() {
    String java = System.getProperty("weft.java");
    if (java == null || java.isBlank()) {
      java =
          ProcessHandle.current()
              .info()
              .command()
              .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    }
    String lib = System.getProperty("weft.lib");
    String classpath;
    if (lib != null && !lib.isBlank() && Files.isDirectory(Path.of(lib))) {
      classpath = Path.of(lib).toAbsolutePath() + File.separator + "*";
    } else {
      classpath = System.getProperty("java.class.path");
    }
    return new Distribution(java, classpath);
  }

  /** The command line of {@code weft <args>} with the given JVM options. */
  public List<String> weft(List<String> jvmOptions, List<String> args) {
    List<String> command = new ArrayList<>();
    command.add(java);
    command.addAll(jvmOptions);
    // Netty loads its native transport; protobuf still uses sun.misc.Unsafe (quiet JDK 24+).
    command.add("--enable-native-access=ALL-UNNAMED");
    command.add("--sun-misc-unsafe-memory-access=allow");
    String extra = System.getenv("WEFT_JAVA_OPTS");
    if (extra != null && !extra.isBlank()) {
      command.addAll(List.of(extra.trim().split("\\s+")));
    }
    command.add("-Dweft.java=" + java);
    String lib = System.getProperty("weft.lib");
    if (lib != null && !lib.isBlank()) {
      command.add("-Dweft.lib=" + lib);
    }
    command.add("-Dstdout.encoding=UTF-8");
    command.add("-Dstderr.encoding=UTF-8");
    command.add("-cp");
    command.add(classpath);
    command.add(Weft.class.getName());
    command.addAll(args);
    return command;
  }

  /**
   * {@code weft <args>} started as a long-running process: the control plane, a sidecar ({@code
   * run}, {@code proxy sidecar}) or the gateway ({@code proxy router}) with its own options ({@link
   * #serverOptions}).
   */
  public List<String> weftServer(List<String> args) {
    return weft(serverOptions(args), args);
  }

  /**
   * The JVM options for {@code weft <args>} when it is a long-running command, else none; none
   * either when the environment has {@code WEFT_SERVER_JVM=default} (as the launcher does: to
   * measure against the JVM's defaults).
   */
  public static List<String> serverOptions(List<String> args) {
    if ("default".equals(System.getenv("WEFT_SERVER_JVM"))) {
      return List.of();
    }
    String command = args.isEmpty() ? "" : args.get(0);
    return switch (command) {
      case "control-plane" -> CONTROL_PLANE;
      case "run" -> SIDECAR;
      case "proxy" -> args.size() > 1 && args.get(1).equals("router") ? GATEWAY : SIDECAR;
      default -> List.of();
    };
  }

  /** {@code weft <args>} started for a fast start (CLI commands, the sample app). */
  public List<String> weftFast(List<String> args) {
    return weft(FAST_START, args);
  }
}
