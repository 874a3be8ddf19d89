/**
 * The service registry: Services from the store, and workloads, which register when their proxy's
 * xDS stream connects (Istio's WorkloadEntry auto-registration) or come from stored WorkloadEntry
 * resources.
 */
package dev.weft.controlplane.registry;
