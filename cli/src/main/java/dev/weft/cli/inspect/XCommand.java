package dev.weft.cli.inspect;

import picocli.CommandLine.Command;

/**
 * {@code weft x}: experimental commands, as istioctl's {@code x} (its subcommands are listed in
 * their own files).
 */
@Command(
    name = "x",
    description = "Experimental commands.",
    mixinStandardHelpOptions = true,
    subcommands = {GrpcBootstrapCommand.class})
public final class XCommand {}
