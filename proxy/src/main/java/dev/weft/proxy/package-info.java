/** Weft proxy module. */
package dev.weft.proxy;
