package dev.weft.cli;

import dev.weft.api.ValidationError;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code weft apply -f FILE}: validates every file locally, then sends them all in one
 * all-or-nothing request; prints kubectl's {@code virtualservice.networking.istio.io/podinfo
 * created}, then on stderr a {@code Warning:} line per field the control plane accepted but does
 * not enforce yet (the exit status stays 0).
 */
@Command(name = "apply", description = "Apply resources from files or standard input.")
final class ApplyCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin StateDirOption state;

  @Option(
      names = {"-f", "--filename"},
      paramLabel = "FILE",
      required = true,
      description = "A file, a directory or - (standard input); repeatable.")
  List<String> files;

  @Override
  public Integer call() {
    Sources.Parsed parsed = Sources.parse(Sources.read(files, System.in));
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    if (!parsed.errors().isEmpty()) {
      printErrors(err, parsed.errors());
      err.println("error: nothing applied");
      err.flush();
      return 1;
    }
    if (parsed.resources().isEmpty()) {
      throw new CliException("no objects passed to apply");
    }
    ControlPlaneClient client = ControlPlaneClient.connect(state.resolve());
    ControlPlaneClient.Outcome outcome = client.apply(parsed.joined(), parsed.sourceName());
    if (!outcome.errors().isEmpty()) {
      printErrors(err, outcome.errors());
      err.println("error: nothing applied");
      err.flush();
      return 1;
    }
    for (ControlPlaneClient.Result r : outcome.results()) {
      out.println(r.qualifiedName() + " " + r.action());
    }
    out.flush();
    // As kubectl prints the API server's warnings: on stderr, and they never fail the apply.
    for (ControlPlaneClient.Warning w : outcome.warnings()) {
      err.println(w.line());
    }
    err.flush();
    return 0;
  }

  static void printErrors(PrintWriter err, List<ValidationError> errors) {
    for (ValidationError e : errors) {
      err.println("error: " + e);
    }
  }
}
