/** Weft controlplane module. */
package dev.weft.controlplane;
