/**
 * The control plane's continuous analysis: Istio's analyzers ({@code dev.weft.analysis}) over the
 * stored config and the registry's workloads, served on {@code GET /api/v1/analysis}.
 */
package dev.weft.controlplane.analysis;
