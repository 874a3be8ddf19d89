package dev.weft.cli.install;

import dev.weft.cli.common.StateDirOption;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code weft uninstall [--purge]}: stops everything {@code install} and {@code demo} started. */
@Command(name = "uninstall", description = "Stop the local mesh; --purge also removes its state.")
public final class UninstallCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin StateDirOption state;

  @Option(names = "--purge", description = "Remove the state directory (config store, logs).")
  boolean purge;

  @Option(
      names = {"-y", "--skip-confirmation"},
      description = "Accepted for istioctl compatibility.")
  boolean yes;

  @Override
  public Integer call() {
    Installer.uninstall(state.resolve(), purge, spec.commandLine().getOut());
    return 0;
  }
}
