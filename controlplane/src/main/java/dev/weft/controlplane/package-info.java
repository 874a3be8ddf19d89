/**
 * Weft's control plane: a durable config store and a service registry feed immutable push contexts,
 * from which one generator per xDS type builds each proxy's Envoy configuration; an ADS server
 * pushes it, and an HTTP API on loopback serves {@code weft apply|get|delete}. Entry point: {@link
 * dev.weft.controlplane.ControlPlane}.
 */
package dev.weft.controlplane;
