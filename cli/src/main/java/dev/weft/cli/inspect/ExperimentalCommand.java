package dev.weft.cli.inspect;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code weft x}: istioctl's {@code experimental} commands. A new one is a picocli command class
 * added to {@code subcommands} below (its own package when it is a family of its own).
 */
@Command(
    name = "x",
    aliases = "experimental",
    description = "Experimental commands (istioctl's x): describe, simulate, grpc-bootstrap.",
    subcommands = {DescribeCommand.class, SimulateCommand.class, GrpcBootstrapCommand.class})
public final class ExperimentalCommand implements Runnable {
  @Spec CommandSpec spec;
  @picocli.CommandLine.Mixin dev.weft.cli.common.StateDirOption state;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(
        spec.commandLine(), "missing subcommand: describe, simulate or grpc-bootstrap");
  }
}
