package dev.weft.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The {@code --state-dir} option every command takes. */
final class StateDirOption {
  @Option(
      names = {"-h", "--help"},
      usageHelp = true,
      description = "Show this help message and exit.")
  boolean help;

  @Option(
      names = "--state-dir",
      paramLabel = "DIR",
      description = "The local runtime's state directory (default: $WEFT_STATE_DIR or ~/.weft).")
  Path stateDir;

  StateDir resolve() {
    return StateDir.resolve(stateDir);
  }

  boolean given() {
    return stateDir != null;
  }
}
