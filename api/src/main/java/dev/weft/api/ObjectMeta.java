package dev.weft.api;

import java.util.Map;

/**
 * The part of Kubernetes' ObjectMeta that Weft keeps.
 *
 * @param name the resource name (DNS-1123 subdomain)
 * @param namespace the namespace; {@code default} when the document omits it for a namespaced kind
 * @param labels labels, never null
 * @param annotations annotations, never null
 * @param resourceVersion the store's version of the resource; empty when not yet stored or, in a
 *     request, when the writer does not ask for an optimistic-concurrency check
 */
public record ObjectMeta(
    String name,
    String namespace,
    Map<String, String> labels,
    Map<String, String> annotations,
    String resourceVersion) {
  public ObjectMeta {
    namespace = namespace == null ? "" : namespace;
    labels = labels == null ? Map.of() : Map.copyOf(labels);
    annotations = annotations == null ? Map.of() : Map.copyOf(annotations);
    resourceVersion = resourceVersion == null ? "" : resourceVersion;
  }
}
