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
 * @param workloadSelector {@code matchLabels} of the workloads (in the rule's namespace) whose
 *     proxies the rule applies to; empty for every proxy that sees it; never null
 */
public record DestinationRule(
    String host,
    TrafficPolicy trafficPolicy,
    List<Subset> subsets,
    List<String> exportTo,
    java.util.Map<String, String> workloadSelector)
    implements Spec {
  public DestinationRule {
    workloadSelector = workloadSelector == null ? java.util.Map.of() : workloadSelector;
  }

  /**
   * This rule with other subsets and top-level traffic policy: what Istio's {@code
   * mergeDestinationRule} makes of several rules for one host (the control plane's merge; every
   * other field stays this rule's).
   */
  public DestinationRule merged(List<Subset> mergedSubsets, TrafficPolicy mergedPolicy) {
    return new DestinationRule(
        host, mergedPolicy, List.copyOf(mergedSubsets), exportTo, workloadSelector);
  }
}
