package dev.weft.analysis;

/**
 * The resource a message is about, written as Istio writes it: {@code Kind namespace/name}, or
 * {@code Kind name} when the namespace is empty (a cluster-scoped resource, or a test input without
 * one).
 *
 * @param kind the kind, e.g. {@code VirtualService}
 * @param namespace the namespace, or empty
 * @param name the name
 */
public record Ref(String kind, String namespace, String name) {
  public Ref {
    namespace = namespace == null ? "" : namespace;
  }

  @Override
  public String toString() {
    return kind + " " + (namespace.isEmpty() ? name : namespace + "/" + name);
  }
}
