/**
 * The {@code weft} command (picocli): {@link dev.weft.cli.Weft}, the root command, lists the
 * subcommands, one class per command in a package per family: {@code config} ({@code apply}, {@code
 * delete}, {@code get}, {@code validate}: kubectl's verbs against the control plane's API), {@code
 * install} ({@code install}, {@code uninstall}), {@code run} ({@code run}, {@code proxy}, {@code
 * control-plane} and the local runtime that starts them as processes), {@code inspect} ({@code
 * proxy-status}, {@code proxy-config}, {@code analyze}, {@code version}, {@code dashboard}), {@code
 * demo} ({@code demo}, which replays the guide's 90/10 canary, and {@code sample}); what commands
 * share (the control plane client, the state directory, tables and messages) is in {@code common}.
 */
package dev.weft.cli;
