/**
 * Conventions shared by Weft's control plane and proxy: xDS type URLs, Istio's resource names
 * (clusters, listeners, route configurations), node identity and metadata keys, and well-known
 * ports. Neither side reaches into the other; both agree through this module and Envoy's v3 API.
 */
package dev.weft.xds;
