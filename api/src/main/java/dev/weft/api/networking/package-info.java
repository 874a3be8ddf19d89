/**
 * networking.istio.io: VirtualService, DestinationRule, Gateway, ServiceEntry, Sidecar,
 * WorkloadEntry, ProxyConfig.
 */
package dev.weft.api.networking;
