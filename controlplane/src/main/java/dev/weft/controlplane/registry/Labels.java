package dev.weft.controlplane.registry;

import java.util.Map;

/** Kubernetes label selection. */
public final class Labels {
  private Labels() {}

  /**
   * Whether {@code selector} selects {@code labels}: every selector entry is among the labels. An
   * empty selector selects nothing (a Service without a selector has no automatic endpoints).
   */
  public static boolean selects(Map<String, String> selector, Map<String, String> labels) {
    if (selector == null || selector.isEmpty()) {
      return false;
    }
    return matches(selector, labels);
  }

  /** Whether every entry of {@code required} is among {@code labels}; true when it is empty. */
  public static boolean matches(Map<String, String> required, Map<String, String> labels) {
    if (required == null) {
      return true;
    }
    for (Map.Entry<String, String> e : required.entrySet()) {
      if (!e.getValue().equals(labels.get(e.getKey()))) {
        return false;
      }
    }
    return true;
  }
}
