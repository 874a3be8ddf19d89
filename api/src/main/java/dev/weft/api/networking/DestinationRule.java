package dev.weft.api.networking;

import dev.weft.api.Spec;
import java.util.List;

/**
 * Istio's DestinationRule.
 *
 * @param host the service host, short or fully qualified
 * @param trafficPolicy the default policy, or null
 * @param subsets named subsets; never null
 * @param exportTo namespaces this is visible to; empty means all
 */
public record DestinationRule(
    String host, TrafficPolicy trafficPolicy, List<Subset> subsets, List<String> exportTo)
    implements Spec {}
