/** Weft samples module. */
package dev.weft.samples;
