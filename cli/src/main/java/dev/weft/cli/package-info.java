/**
 * The {@code weft} command (picocli) and the local runtime: {@code install} starts the control
 * plane and the ingress gateway as background processes recorded in a state directory, {@code run}
 * starts a workload with its sidecar, {@code apply}/{@code get}/{@code delete} talk to the control
 * plane's API like kubectl, and {@code demo} replays the guide's 90/10 canary.
 */
package dev.weft.cli;
