/**
 * {@code weft install} and {@code weft uninstall}: {@link dev.weft.cli.install.Installer} starts
 * the control plane and the ingress gateway as background processes recorded in the state
 * directory, and stops them (and the workloads) again.
 */
package dev.weft.cli.install;
