/**
 * The xDS client: one ADS stream (state of the world) that subscribes, validates, ACKs or NACKs,
 * reconnects with backoff, and publishes compiled configuration.
 */
package dev.weft.proxy.xds;
