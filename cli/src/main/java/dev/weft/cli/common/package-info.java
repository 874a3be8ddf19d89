/**
 * What the {@code weft} commands share: {@link dev.weft.cli.common.ControlPlaneClient} (the control
 * plane's HTTP API), {@link dev.weft.cli.common.StateDir} and its {@code --state-dir} option,
 * kubectl-style tables ({@link dev.weft.cli.common.ResourceTable}), the wording several commands
 * print ({@link dev.weft.cli.common.Output}), option parsing ({@link dev.weft.cli.common.HostPort},
 * {@link dev.weft.cli.common.KeyValues}, {@link dev.weft.cli.common.GoDuration}), reading manifests
 * ({@link dev.weft.cli.common.Sources}) and {@link dev.weft.cli.common.CliException}, the one-line
 * error a command fails with.
 */
package dev.weft.cli.common;
