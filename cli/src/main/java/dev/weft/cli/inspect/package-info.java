/**
 * Looking at a running mesh, istioctl's way: {@code weft proxy-status}, {@code proxy-config},
 * {@code analyze}, {@code version} and {@code dashboard}.
 */
package dev.weft.cli.inspect;
