/**
 * networking.istio.io: VirtualService, DestinationRule, Gateway, ServiceEntry, Sidecar,
 * WorkloadEntry.
 */
package dev.weft.api.networking;
