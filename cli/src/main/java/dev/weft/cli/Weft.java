package dev.weft.cli;

import dev.weft.cli.common.CliException;
import dev.weft.cli.config.ApplyCommand;
import dev.weft.cli.config.DeleteCommand;
import dev.weft.cli.config.GetCommand;
import dev.weft.cli.config.ValidateCommand;
import dev.weft.cli.demo.DemoCommand;
import dev.weft.cli.demo.SampleCommand;
import dev.weft.cli.inspect.AnalyzeCommand;
import dev.weft.cli.inspect.BugReportCommand;
import dev.weft.cli.inspect.DashboardCommand;
import dev.weft.cli.inspect.ExperimentalCommand;
import dev.weft.cli.inspect.ProxyConfigCommand;
import dev.weft.cli.inspect.ProxyStatusCommand;
import dev.weft.cli.inspect.VerifyInstallCommand;
import dev.weft.cli.inspect.VersionCommand;
import dev.weft.cli.install.InstallCommand;
import dev.weft.cli.install.UninstallCommand;
import dev.weft.cli.run.ControlPlaneCommand;
import dev.weft.cli.run.ProxyCommand;
import dev.weft.cli.run.RunCommand;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * The {@code weft} command: kubectl's and istioctl's verbs for a local Weft mesh. Exit status 0 on
 * success, 1 on any error (printed as {@code error: ...} on standard error).
 */
@Command(
    name = "weft",
    mixinStandardHelpOptions = true,
    versionProvider = Weft.VersionProvider.class,
    description = "Weft: a service mesh in Java that speaks Istio's APIs.",
    subcommands = {
      VersionCommand.class,
      InstallCommand.class,
      UninstallCommand.class,
      ControlPlaneCommand.class,
      ProxyCommand.class,
      ProxyStatusCommand.class,
      ProxyConfigCommand.class,
      ApplyCommand.class,
      DeleteCommand.class,
      GetCommand.class,
      ValidateCommand.class,
      AnalyzeCommand.class,
      VerifyInstallCommand.class,
      BugReportCommand.class,
      ExperimentalCommand.class,
      RunCommand.class,
      SampleCommand.class,
      DemoCommand.class,
      DashboardCommand.class,
      CommandLine.HelpCommand.class
    })
public final class Weft implements Runnable {
  @Spec CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  public static void main(String[] args) {
    PrintWriter out = utf8(new FileOutputStream(FileDescriptor.out));
    PrintWriter err = utf8(new FileOutputStream(FileDescriptor.err));
    int status = commandLine(out, err).execute(args);
    out.flush();
    err.flush();
    System.exit(status);
  }

  private static PrintWriter utf8(FileOutputStream stream) {
    return new PrintWriter(new OutputStreamWriter(stream, StandardCharsets.UTF_8), true);
  }

  /** The command line with Weft's error handling: {@code error: ...} and exit status 1. */
  public static CommandLine commandLine(PrintWriter out, PrintWriter err) {
    CommandLine cmd = new CommandLine(new Weft());
    cmd.setOut(out);
    cmd.setErr(err);
    cmd.setParameterExceptionHandler(
        (ex, args) -> {
          CommandLine c = ex.getCommandLine();
          c.getErr().println("error: " + ex.getMessage());
          c.getErr().println("See '" + c.getCommandSpec().qualifiedName() + " --help' for usage.");
          c.getErr().flush();
          return 1;
        });
    cmd.setExecutionExceptionHandler(
        (ex, c, parseResult) -> {
          PrintWriter e = c.getErr();
          if (ex instanceof CliException) {
            e.println("error: " + ex.getMessage());
          } else {
            e.println("error: " + (ex.getMessage() == null ? ex.toString() : ex.getMessage()));
            if (System.getenv("WEFT_DEBUG") != null) {
              ex.printStackTrace(e);
            }
          }
          e.flush();
          return 1;
        });
    cmd.setExitCodeExceptionMapper(t -> 1);
    return cmd;
  }

  /** This distribution's version ({@code project.version} at build time). */
  public static String version() {
    return dev.weft.cli.common.WeftVersion.current();
  }

  /** {@code weft --version}. */
  static final class VersionProvider implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"weft " + version()};
    }
  }
}
