package dev.weft.cli.run;

import java.io.PrintWriter;
import java.util.List;

/**
 * The main class of a sidecar's and the gateway's JVM: {@code weft run} (the sidecar and the
 * supervisor of its app) and {@code weft proxy sidecar|router}, the same commands as {@link
 * RunCommand} and {@link ProxyCommand} without the rest of the CLI. Its class path is the proxy's
 * jars plus this module's and the API's name rules ({@link Distribution#proxyClasspath}), so the
 * process loads the proxy and the few classes of the local runtime it needs (state directory,
 * workload addresses, tokens, the app's supervision), never picocli, the control plane, YAML or the
 * API model (issue #10). The {@code weft} launcher and {@link Distribution#weftServer} start it;
 * help goes to the CLI. Exit status: the app's for {@code run}; 1 on an error, printed as {@code
 * error: ...} as the CLI does.
 */
public final class ProxyMain {
  private ProxyMain() {}

  public static void main(String[] args) {
    dev.weft.proxy.StartTrace.markOnce("main");
    MainStatus.runAndExit(args, ProxyMain::run);
  }

  /** Runs {@code args} ({@code run ...} or {@code proxy ...}); returns the exit status. */
  static int run(List<String> args, PrintWriter out, PrintWriter err) {
    String command = args.isEmpty() ? "" : args.get(0);
    List<String> rest = args.isEmpty() ? List.of() : args.subList(1, args.size());
    try {
      if (asksForHelp(rest)) {
        out.println("The help of weft " + command + ": weft help " + command);
        return 0;
      }
      if (command.equals("run") || command.equals("proxy")) {
        withoutNettyJfrEvents();
        nettyLogsToJdkLogging();
        // The workload key, epoll and BoringSSL load while this thread reads the state directory
        // and asks for the workload token.
        dev.weft.proxy.Proxy.prepare();
      }
      return switch (command) {
        case "run" -> ProxyArgs.run(rest).run(out, err);
        case "proxy" -> ProxyArgs.proxy(rest).run(out, err);
        default -> throw new ProxyArgs.ParseException("not a proxy command: '" + command + "'");
      };
    } catch (Exception e) {
      return MainStatus.failed(e, command, err);
    } finally {
      out.flush();
      err.flush();
    }
  }

  /**
   * Netty's JDK Flight Recorder events for its buffer allocators off ({@code io.netty.jfr.enabled},
   * read once when Netty's {@code PlatformDependent} initialises; unless the JVM was started with
   * it): Netty 4.2.18 registers its first event class when it allocates its first pooled chunk
   * (BoringSSL's self-test in {@code OpenSsl}'s class initialisation, on the way to the channel to
   * the CA), and that registration initialises JFR's metadata of every JVM event type, ~50 ms of
   * interpreted work on a sidecar's start path (issue #10); also one check less per allocation. A
   * recording of those events: {@code -Dio.netty.jfr.enabled=true}.
   */
  static void withoutNettyJfrEvents() {
    if (System.getProperty(NETTY_JFR) == null) {
      System.setProperty(NETTY_JFR, "false");
    }
  }

  static final String NETTY_JFR = "io.netty.jfr.enabled";

  /**
   * Netty logs through the JDK's logging, as it would find for itself, without looking for SLF4J
   * and Log4j first ({@code InternalLoggerFactory}'s default): those classes are in no proxy's
   * class path, and the first lookup of a class the AOT cache lacks makes the class loader open
   * every jar of the class path (~55, their central directories read) to fail; Netty does it in
   * {@code Epoll}'s class initialisation, on the way from {@code main} to the channel to the CA
   * (issue #10).
   */
  static void nettyLogsToJdkLogging() {
    io.netty.util.internal.logging.InternalLoggerFactory.setDefaultFactory(
        io.netty.util.internal.logging.JdkLoggerFactory.INSTANCE);
  }

  /** Whether {@code -h} or {@code --help} comes before {@code --} (the launcher sends those on). */
  static boolean asksForHelp(List<String> args) {
    for (String a : args) {
      if (a.equals("--")) {
        return false;
      }
      if (a.equals("-h") || a.equals("--help")) {
        return true;
      }
    }
    return false;
  }
}
