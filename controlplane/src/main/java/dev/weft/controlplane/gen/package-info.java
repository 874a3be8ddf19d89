/**
 * xDS generators, one per type (CDS, EDS, LDS, RDS): each turns a {@link
 * dev.weft.controlplane.push.PushContext} and a {@link dev.weft.controlplane.gen.Proxy} into Envoy
 * v3 resources with Istio's names.
 */
package dev.weft.controlplane.gen;
