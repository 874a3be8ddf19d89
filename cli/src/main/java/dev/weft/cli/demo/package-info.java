/**
 * {@code weft demo}, the guide's 90/10 podinfo canary replayed as a list of {@link
 * dev.weft.cli.demo.DemoStep}s on a local mesh, and {@code weft sample}, the podinfo-like app it
 * runs.
 */
package dev.weft.cli.demo;
