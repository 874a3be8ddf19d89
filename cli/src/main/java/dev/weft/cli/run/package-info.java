/**
 * Running mesh parts as local processes: {@code weft run} (a workload with its sidecar), {@code
 * weft proxy} (a sidecar or gateway), {@code weft control-plane}, and the local runtime beneath
 * them: background processes and their records, workload addresses, the app's supervision in its
 * own process group, and the proxies' credentials.
 */
package dev.weft.cli.run;
