package dev.weft.api.networking;

import dev.weft.api.Spec;
import java.util.List;
import java.util.Map;

/**
 * Istio's ServiceEntry: adds hosts (often outside the mesh) to Weft's service registry. Lists and
 * maps are never null.
 *
 * @param hosts the hosts (no bare {@code *})
 * @param addresses virtual IPs or CIDR blocks of the service
 * @param ports the ports; the protocol is upper-cased, empty when not given
 * @param location {@code MESH_EXTERNAL} or {@code MESH_INTERNAL}, or empty
 * @param resolution {@code NONE} (default), {@code STATIC}, {@code DNS} or {@code DNS_ROUND_ROBIN}
 * @param endpoints the endpoints (WorkloadEntry specs); empty when {@code workloadSelector} is used
 * @param workloadSelector labels of WorkloadEntries/workloads that are the endpoints
 * @param exportTo namespaces this is visible to; empty means all
 * @param subjectAltNames SANs to verify in the server certificate
 */
public record ServiceEntry(
    List<String> hosts,
    List<String> addresses,
    List<Port> ports,
    String location,
    String resolution,
    List<WorkloadEntry> endpoints,
    Map<String, String> workloadSelector,
    List<String> exportTo,
    List<String> subjectAltNames)
    implements Spec {}
