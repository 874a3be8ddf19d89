package dev.weft.cli.common;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The {@code --state-dir} option every command takes. */
public final class StateDirOption {
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

  /** The option as given on a command line ({@code dir} null when it was not). */
  public static StateDirOption of(Path dir) {
    StateDirOption o = new StateDirOption();
    o.stateDir = dir;
    return o;
  }

  public StateDir resolve() {
    return StateDir.resolve(stateDir);
  }

  public boolean given() {
    return stateDir != null;
  }
}
