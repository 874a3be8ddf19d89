package dev.weft.analysis;

import dev.weft.api.Resource;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One object an analyzer looks at: an Istio or core resource Weft parsed, or an object of a kind
 * Weft does not model (a Pod, a Deployment, a registry workload shown as a Pod...). Analyzers read
 * the document as parsed (ordered maps, lists, strings, numbers, booleans), which for a Weft kind
 * is exactly what {@link dev.weft.api.ResourceParser} accepted.
 *
 * @param apiVersion the apiVersion
 * @param kind the kind, e.g. {@code VirtualService}, {@code Pod}
 * @param namespace the effective namespace ({@code default} when the document has none; empty for
 *     cluster-scoped kinds)
 * @param namespaceShown whether messages show the namespace (Istio's tests omit it when the input
 *     omits it)
 * @param name the name
 * @param labels the labels, never null
 * @param document the document; treat as read-only
 */
public record Obj(
    String apiVersion,
    String kind,
    String namespace,
    boolean namespaceShown,
    String name,
    Map<String, String> labels,
    Map<String, Object> document) {

  /** The kinds without a namespace. */
  private static final List<String> CLUSTER_SCOPED =
      List.of("Namespace", "Node", "ClusterRole", "MutatingWebhookConfiguration");

  /** An object for a resource Weft parsed; its namespace is shown. */
  public static Obj of(Resource r) {
    return new Obj(
        r.apiVersion(),
        r.kind().kind(),
        r.metadata().namespace(),
        true,
        r.metadata().name(),
        r.metadata().labels(),
        r.document());
  }

  /**
   * An object read leniently from a document of any kind (for analysis only).
   *
   * @param document a parsed YAML/JSON document with {@code kind} and {@code metadata.name}
   * @param defaultNamespace the namespace when the document has none
   * @param showDefault whether messages show the namespace when the document has none
   */
  public static Obj ofDocument(
      Map<String, Object> document, String defaultNamespace, boolean showDefault) {
    Map<String, Object> meta = Docs.map(document, "metadata");
    String kind = Docs.str(document, "kind");
    String ns = Docs.str(meta, "namespace");
    boolean clusterScoped = CLUSTER_SCOPED.contains(kind);
    boolean set = !ns.isEmpty();
    Map<String, String> labels = new LinkedHashMap<>();
    Docs.map(meta, "labels").forEach((k, v) -> labels.put(k, String.valueOf(v)));
    return new Obj(
        Docs.str(document, "apiVersion"),
        kind,
        clusterScoped ? "" : set ? ns : defaultNamespace,
        !clusterScoped && (set || showDefault),
        Docs.str(meta, "name"),
        Map.copyOf(labels),
        document);
  }

  /**
   * A registry workload as the Pod Istio's analyzers would see: its labels, and an {@code
   * istio-proxy} container, since every registered workload runs a Weft proxy.
   */
  public static Obj workload(String namespace, String name, Map<String, String> labels) {
    Map<String, Object> meta = new LinkedHashMap<>();
    meta.put("name", name);
    meta.put("namespace", namespace);
    meta.put("labels", new LinkedHashMap<>(labels));
    Map<String, Object> doc = new LinkedHashMap<>();
    doc.put("apiVersion", "v1");
    doc.put("kind", "Pod");
    doc.put("metadata", meta);
    doc.put(
        "spec",
        Map.of("containers", List.of(Map.of("name", "istio-proxy", "image", "weft-proxy"))));
    return new Obj("v1", "Pod", namespace, true, name, Map.copyOf(labels), doc);
  }

  /** This object, its namespace shown in messages or not. */
  public Obj withNamespaceShown(boolean shown) {
    return new Obj(apiVersion, kind, namespace, shown, name, labels, document);
  }

  /** The {@code spec} map, empty when absent. */
  public Map<String, Object> spec() {
    return Docs.map(document, "spec");
  }

  /** The annotations, never null. */
  public Map<String, Object> annotations() {
    return Docs.map(Docs.map(document, "metadata"), "annotations");
  }

  /** How messages name this object. */
  public Ref ref() {
    return new Ref(kind, namespaceShown ? namespace : "", name);
  }

  /** {@code namespace/name}, as Istio's analyzers write a resource in message arguments. */
  public String fullName() {
    return namespace.isEmpty() ? name : namespace + "/" + name;
  }
}
