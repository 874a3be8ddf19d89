package dev.weft.api.networking;

import java.util.Map;

/**
 * Istio's Subset of a DestinationRule.
 *
 * @param name the subset name
 * @param labels labels an endpoint must have to be in the subset; never null
 * @param trafficPolicy the subset's policy, or null
 */
public record Subset(String name, Map<String, String> labels, TrafficPolicy trafficPolicy) {}
