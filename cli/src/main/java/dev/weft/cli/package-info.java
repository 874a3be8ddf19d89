/** Weft cli module. */
package dev.weft.cli;
