package dev.weft.cli.inspect;

import dev.weft.cli.Weft;
import dev.weft.cli.common.CliException;
import dev.weft.cli.common.ControlPlaneClient;
import dev.weft.cli.common.StateDirOption;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code weft version}: the client's version, and the control plane's when it runs. */
@Command(name = "version", description = "Print the client and control plane versions.")
public final class VersionCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin StateDirOption state;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    out.println("client version: " + Weft.version());
    try {
      ControlPlaneClient client = ControlPlaneClient.connect(state.resolve());
      String v = client.version();
      if (v.isEmpty()) {
        try {
          v = java.nio.file.Files.readString(state.resolve().controlPlaneVersionFile()).trim();
        } catch (java.io.IOException e) {
          v = "";
        }
      }
      out.println("control plane version: " + (v.isEmpty() ? "unknown" : v));
    } catch (CliException e) {
      // like `istioctl version` without a control plane: only the client's version
    }
    out.flush();
    return 0;
  }
}
