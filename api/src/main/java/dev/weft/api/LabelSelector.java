package dev.weft.api;

import java.util.Map;

/**
 * Kubernetes' equality-based label selector ({@code matchLabels}, a Service's {@code selector}, an
 * Istio {@code workloadSelector}, a DestinationRule subset's {@code labels}).
 *
 * <p>An empty selector matches every set of labels, as {@code matchLabels: {}} does. Note that a
 * Service with no selector selects no pods (its endpoints are managed by hand in Kubernetes); that
 * is for the registry to decide before it calls this, not a property of the selector.
 */
public final class LabelSelector {
  private LabelSelector() {}

  /**
   * Whether {@code labels} has every key of {@code selector} with the same value.
   *
   * @param selector the required labels; null or empty matches everything
   * @param labels the labels of a workload; null is treated as empty
   */
  public static boolean matches(Map<String, String> selector, Map<String, String> labels) {
    if (selector == null || selector.isEmpty()) {
      return true;
    }
    if (labels == null) {
      return false;
    }
    for (Map.Entry<String, String> e : selector.entrySet()) {
      if (!e.getValue().equals(labels.get(e.getKey()))) {
        return false;
      }
    }
    return true;
  }
}
