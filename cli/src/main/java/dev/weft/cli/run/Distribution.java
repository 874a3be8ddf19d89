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

  /** {@code weft <args>} started with JIT defaults (long-running: control plane, proxies). */
  public List<String> weftServer(List<String> args) {
    return weft(List.of(), args);
  }

  /** {@code weft <args>} started for a fast start (CLI commands, the sample app). */
  public List<String> weftFast(List<String> args) {
    return weft(FAST_START, args);
  }
}
