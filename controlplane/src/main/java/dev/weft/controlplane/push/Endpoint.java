package dev.weft.controlplane.push;

import dev.weft.controlplane.registry.Workload;

/**
 * One endpoint of a service port: a workload's address and its resolved port.
 *
 * @param address the workload address
 * @param port the workload's port for the service port
 * @param workload the workload
 */
public record Endpoint(String address, int port, Workload workload) {}
