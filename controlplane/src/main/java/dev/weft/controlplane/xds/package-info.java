/**
 * The ADS server: Envoy's AggregatedDiscoveryService over gRPC, state of the world, with versions,
 * nonces, ACK/NACK and pushes of only the types whose resources changed.
 */
package dev.weft.controlplane.xds;
