/**
 * Looking at a running mesh, istioctl's way: {@code weft proxy-status}, {@code proxy-config},
 * {@code analyze} and {@code version}.
 */
package dev.weft.cli.inspect;
