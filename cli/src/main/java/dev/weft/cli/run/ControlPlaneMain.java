package dev.weft.cli.run;

import dev.weft.cli.common.GoDurationSyntax;
import dev.weft.cli.common.StateDirOption;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;

/**
 * The main class of the control plane's JVM: {@code weft control-plane} (what {@code weft install}
 * starts), the same command as {@link ControlPlaneCommand} without the rest of the CLI. It parses
 * the command's own options itself, so the process never builds picocli's model of every {@code
 * weft} subcommand (~240 classes of picocli and the CLI's commands, issue #10). The {@code weft}
 * launcher and {@link Distribution#weftServer} start it; help goes to the CLI ({@code weft help
 * control-plane}). Exit status 1 on an error, printed as {@code error: ...} as the CLI does.
 */
public final class ControlPlaneMain {
  private ControlPlaneMain() {}

  public static void main(String[] args) {
    MainStatus.runAndExit(args, ControlPlaneMain::run);
  }

  /**
   * Runs {@code args} ({@code control-plane [OPTIONS]}) until the JVM shuts down; returns the exit
   * status (at once when the options are wrong or the control plane cannot start).
   */
  static int run(List<String> args, PrintWriter out, PrintWriter err) {
    try {
      if (args.isEmpty() || !args.get(0).equals("control-plane")) {
        throw new ProxyArgs.ParseException(
            "not the control plane: '" + (args.isEmpty() ? "" : args.get(0)) + "'");
      }
      List<String> rest = args.subList(1, args.size());
      if (asksForHelp(rest)) {
        out.println("The help of weft control-plane: weft help control-plane");
        return 0;
      }
      return parse(rest).run(out);
    } catch (Exception e) {
      return MainStatus.failed(e, "control-plane", err);
    } finally {
      out.flush();
      err.flush();
    }
  }

  /** Whether {@code -h} or {@code --help} is among {@code args}. */
  static boolean asksForHelp(List<String> args) {
    return args.contains("-h") || args.contains("--help");
  }

  /**
   * The command with {@code args} ({@code --name VALUE} or {@code --name=VALUE}), as picocli parses
   * {@link ControlPlaneCommand}'s options (its defaults where one is not given).
   *
   * @throws ProxyArgs.ParseException for an unknown option, a missing value or a bad duration
   */
  static ControlPlaneCommand parse(List<String> args) {
    ControlPlaneCommand c = new ControlPlaneCommand();
    Path stateDir = null;
    for (int i = 0; i < args.size(); i++) {
      String a = args.get(i);
      String name = a;
      String value = null;
      int eq = a.indexOf('=');
      if (a.startsWith("--") && eq > 0) {
        name = a.substring(0, eq);
        value = a.substring(eq + 1);
      }
      if (!List.of(
              "--state-dir",
              "--xds-address",
              "--api-address",
              "--workload-cert-ttl",
              "--dashboard-address",
              "--prometheus-url")
          .contains(name)) {
        throw new ProxyArgs.ParseException(
            a.startsWith("-") ? "Unknown option: '" + a + "'" : "Unmatched argument: '" + a + "'");
      }
      if (value == null) {
        if (i + 1 >= args.size()) {
          throw new ProxyArgs.ParseException(
              "Missing required parameter for option '" + name + "'");
        }
        value = args.get(++i);
      }
      switch (name) {
        case "--state-dir" -> stateDir = Path.of(value);
        case "--xds-address" -> c.xds = value;
        case "--api-address" -> c.api = value;
        case "--workload-cert-ttl" -> {
          try {
            c.workloadCertTtl = GoDurationSyntax.parse(value);
          } catch (IllegalArgumentException e) {
            throw new ProxyArgs.ParseException(
                "Invalid value for option '--workload-cert-ttl': " + e.getMessage());
          }
        }
        case "--dashboard-address" -> c.dashboard = value;
        default -> c.prometheusUrl = value;
      }
    }
    c.state = StateDirOption.of(stateDir);
    return c;
  }
}
