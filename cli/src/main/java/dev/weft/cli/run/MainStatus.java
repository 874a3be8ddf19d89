package dev.weft.cli.run;

import dev.weft.cli.common.CliException;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/**
 * What the JVM mains without picocli ({@link ProxyMain}, {@link ControlPlaneMain}) print and return
 * when a command fails, as the CLI does: {@code error: ...} on standard error and exit status 1 (a
 * usage hint after wrong options, the stack trace only with {@code WEFT_DEBUG} set).
 */
final class MainStatus {
  private MainStatus() {}

  /** A main's command: its arguments and where it prints; returns the exit status. */
  @FunctionalInterface
  interface Command {
    int run(List<String> args, PrintWriter out, PrintWriter err);
  }

  /**
   * Runs {@code command} with {@code args} on standard output and error in UTF-8, flushes both and
   * exits the JVM with its status: the whole of {@link ProxyMain#main} and {@link
   * ControlPlaneMain#main}.
   */
  static void runAndExit(String[] args, Command command) {
    PrintWriter out = utf8(FileDescriptor.out);
    PrintWriter err = utf8(FileDescriptor.err);
    int status = command.run(Arrays.asList(args), out, err);
    out.flush();
    err.flush();
    System.exit(status);
  }

  /** Standard output or error ({@link FileDescriptor#out}, {@link FileDescriptor#err}) in UTF-8. */
  static PrintWriter utf8(FileDescriptor fd) {
    return new PrintWriter(
        new OutputStreamWriter(new FileOutputStream(fd), StandardCharsets.UTF_8), true);
  }

  /**
   * Prints why {@code command} ({@code run}, {@code proxy}, {@code control-plane}) failed with
   * {@code e} to {@code err}; returns the exit status, 1. Restores the interrupt status when {@code
   * e} is an {@link InterruptedException}.
   */
  static int failed(Exception e, String command, PrintWriter err) {
    switch (e) {
      case ProxyArgs.ParseException p -> {
        err.println("error: " + p.getMessage());
        err.println("See 'weft " + command + " --help' for usage.");
      }
      case CliException c -> err.println("error: " + c.getMessage());
      case InterruptedException i -> {
        Thread.currentThread().interrupt();
        err.println("error: interrupted");
      }
      default -> {
        err.println("error: " + (e.getMessage() == null ? e.toString() : e.getMessage()));
        if (System.getenv("WEFT_DEBUG") != null) {
          e.printStackTrace(err);
        }
      }
    }
    return 1;
  }
}
