package dev.weft.analysis;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What analyzers look at: the objects (resources, plus the registry's workloads as Pods) and the
 * mesh options they read (Istio's MeshConfig {@code defaultConfig.proxyMetadata}).
 *
 * @param objects every object, in input order
 * @param proxyMetadata the mesh-wide proxy metadata (e.g. {@code ISTIO_META_DNS_AUTO_ALLOCATE})
 * @param rootNamespace the mesh root namespace ({@code istio-system}), where policies are mesh-wide
 */
public record AnalysisInput(
    List<Obj> objects, Map<String, String> proxyMetadata, String rootNamespace) {
  public AnalysisInput {
    objects = List.copyOf(objects);
    proxyMetadata = Map.copyOf(proxyMetadata);
  }

  /** Input with Istio's default mesh options. */
  public static AnalysisInput of(List<Obj> objects) {
    return new AnalysisInput(objects, Map.of(), "istio-system");
  }

  /** The objects of {@code kind}, in input order. */
  public List<Obj> all(String kind) {
    List<Obj> out = new ArrayList<>();
    for (Obj o : objects) {
      if (o.kind().equals(kind)) {
        out.add(o);
      }
    }
    return out;
  }

  /** The object of {@code kind} named {@code name} in {@code namespace}, if any. */
  public Optional<Obj> find(String kind, String namespace, String name) {
    for (Obj o : objects) {
      if (o.kind().equals(kind) && o.namespace().equals(namespace) && o.name().equals(name)) {
        return Optional.of(o);
      }
    }
    return Optional.empty();
  }

  /**
   * The object named by {@code ref} as Istio's {@code resource.NewShortOrFullName}: {@code
   * ns/name}, or {@code name} in {@code namespace}.
   */
  public Optional<Obj> findShortOrFull(String kind, String namespace, String ref) {
    int slash = ref.indexOf('/');
    return slash < 0
        ? find(kind, namespace, ref)
        : find(kind, ref.substring(0, slash), ref.substring(slash + 1));
  }
}
