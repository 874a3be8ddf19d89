/**
 * Push contexts: immutable snapshots of the config store and the service registry, rebuilt (with a
 * debounce) on one serializing executor whenever either changes.
 */
package dev.weft.controlplane.push;
