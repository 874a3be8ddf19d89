package dev.weft.cli.config;

import dev.weft.api.Resource;
import dev.weft.api.ValidationError;
import dev.weft.cli.common.ControlPlaneClient;
import dev.weft.cli.common.Sources;
import dev.weft.cli.common.StateDirOption;
import dev.weft.controlplane.gen.Enforcement;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code weft validate -f FILE...}: strict local validation, every error with its field path; valid
 * files also get the {@code Warning:} lines {@code weft apply} would print (fields Weft accepts but
 * does not enforce yet).
 */
@Command(name = "validate", description = "Validate resources locally (no control plane needed).")
public final class ValidateCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin StateDirOption state;

  @Option(
      names = {"-f", "--filename"},
      paramLabel = "FILE",
      required = true,
      arity = "1..*",
      description = "Files, directories or - (standard input).")
  List<String> files;

  @Override
  public Integer call() {
    Sources.Parsed parsed = Sources.parse(Sources.read(files, System.in));
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    if (!parsed.errors().isEmpty()) {
      for (ValidationError e : parsed.errors()) {
        err.println("error: " + e);
      }
      err.println(
          "✘ "
              + parsed.errors().size()
              + (parsed.errors().size() == 1 ? " error" : " errors")
              + " found");
      err.flush();
      return 1;
    }
    int n = parsed.resources().size();
    out.println("✔ " + n + (n == 1 ? " resource valid" : " resources valid"));
    out.flush();
    // The warnings `weft apply` would get from the control plane; they do not make it invalid.
    for (Resource r : parsed.resources()) {
      for (Enforcement.Warning w : Enforcement.unenforced(r)) {
        err.println(ControlPlaneClient.Warning.of(w).line());
      }
    }
    err.flush();
    return 0;
  }
}
