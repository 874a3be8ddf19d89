package dev.weft.analysis;

import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * Kubernetes equality label selectors ({@code labels.SelectorFromSet}) as Istio's analyzers use.
 */
final class Selectors {
  private Selectors() {}

  /**
   * Whether every {@code key=value} of {@code selector} is in {@code labels}; empty matches all.
   */
  static boolean matches(Map<String, String> selector, Map<String, String> labels) {
    for (Map.Entry<String, String> e : selector.entrySet()) {
      if (!e.getValue().equals(labels.get(e.getKey()))) {
        return false;
      }
    }
    return true;
  }

  /** The selector as Kubernetes prints it: {@code k1=v1,k2=v2}, keys sorted; empty for none. */
  static String string(Map<String, String> selector) {
    return new TreeMap<>(selector)
        .entrySet().stream()
            .map(e -> e.getKey() + "=" + e.getValue())
            .collect(Collectors.joining(","));
  }
}
