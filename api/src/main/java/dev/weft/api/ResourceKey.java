package dev.weft.api;

import java.util.Objects;

/**
 * Identifies one resource: kind, namespace (empty for cluster-scoped kinds) and name.
 *
 * @param kind the resource kind
 * @param namespace the namespace, empty for cluster-scoped kinds
 * @param name the resource name
 */
public record ResourceKey(ResourceKind kind, String namespace, String name)
    implements Comparable<ResourceKey> {
  public ResourceKey {
    Objects.requireNonNull(kind, "kind");
    namespace = namespace == null ? "" : namespace;
    Objects.requireNonNull(name, "name");
  }

  @Override
  public int compareTo(ResourceKey o) {
    int c = kind.compareTo(o.kind);
    if (c == 0) {
      c = namespace.compareTo(o.namespace);
    }
    return c != 0 ? c : name.compareTo(o.name);
  }

  /** How errors and logs name a resource: {@code VirtualService demo/podinfo}. */
  @Override
  public String toString() {
    return kind.kind() + " " + (namespace.isEmpty() ? name : namespace + "/" + name);
  }
}
