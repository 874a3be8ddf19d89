/**
 * xDS generators, one per type (CDS, EDS, LDS, RDS): each turns a {@link
 * dev.weft.controlplane.push.PushContext} and a {@link dev.weft.controlplane.gen.Proxy} into Envoy
 * v3 resources with Istio's names. {@link dev.weft.controlplane.gen.Enforcement} says which applied
 * fields they do not translate yet (the apply warnings).
 */
package dev.weft.controlplane.gen;
