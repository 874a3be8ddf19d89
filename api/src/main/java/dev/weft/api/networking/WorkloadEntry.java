package dev.weft.api.networking;

import dev.weft.api.Spec;
import java.util.Map;

/**
 * Istio's WorkloadEntry: a workload that is not a pod (or, locally, one not started by weft run).
 *
 * @param address the address
 * @param ports named ports; never null
 * @param labels labels; never null
 * @param network the network, or empty
 * @param locality the locality, or empty
 * @param weight the load balancing weight, or 0
 * @param serviceAccount the service account, or empty
 */
public record WorkloadEntry(
    String address,
    Map<String, Integer> ports,
    Map<String, String> labels,
    String network,
    String locality,
    int weight,
    String serviceAccount)
    implements Spec {}
