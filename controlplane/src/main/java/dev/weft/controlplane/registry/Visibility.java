package dev.weft.controlplane.registry;

import java.util.List;

/**
 * Istio's {@code exportTo} visibility: which namespaces may see a Service, ServiceEntry,
 * VirtualService or DestinationRule. Istio's mesh defaults ({@code defaultServiceExportTo}, {@code
 * defaultVirtualServiceExportTo}, {@code defaultDestinationRuleExportTo}) are {@code *}: an empty
 * list exports everywhere.
 */
public final class Visibility {
  private Visibility() {}

  /**
   * Whether a resource in {@code ownNamespace} with {@code exportTo} is visible in {@code
   * namespace}: {@code *} everywhere, {@code .} its own namespace, {@code ~} nowhere, a name that
   * namespace.
   */
  public static boolean visible(List<String> exportTo, String ownNamespace, String namespace) {
    if (exportTo == null || exportTo.isEmpty()) {
      return true;
    }
    for (String e : exportTo) {
      if (e.equals("*")
          || (e.equals(".") && ownNamespace.equals(namespace))
          || e.equals(namespace)) {
        return true;
      }
    }
    return false;
  }
}
