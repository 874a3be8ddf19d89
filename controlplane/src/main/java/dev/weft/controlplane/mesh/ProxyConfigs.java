package dev.weft.controlplane.mesh;

import dev.weft.api.networking.ProxyConfig;
import dev.weft.controlplane.store.StoredResource;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;

/**
 * The ProxyConfig a proxy starts with, as far as Weft's proxies read one (its worker threads,
 * {@code concurrency}): Istio's {@code EffectiveProxyConfig} (pilot/pkg/model/proxy_config.go),
 * which its sidecar injector applies when a pod is created. Weft's injector is {@code weft run}
 * (and {@code weft proxy} for a gateway), which asks the API for it before its proxy starts; like
 * Istio's, a change reaches a proxy when it restarts, never a running one.
 *
 * <p>Precedence, highest first, each level giving its value only if it sets one:
 *
 * <ol>
 *   <li>the ProxyConfig of the proxy's namespace whose {@code selector.matchLabels} (not empty)
 *       match its labels;
 *   <li>its annotation {@code proxy.istio.io/config} (a ProxyConfig of Istio's MeshConfig, as YAML
 *       or JSON);
 *   <li>the ProxyConfig of its namespace without a selector (unless that is the root namespace);
 *   <li>the ProxyConfig of the root namespace ({@code rootNamespace}) without a selector;
 *   <li>the mesh config's {@code defaultConfig.concurrency};
 *   <li>Istio's default, 2 ({@code mesh.DefaultProxyConfig}).
 * </ol>
 *
 * At each resource level only the first resource counts, oldest first (creation time, then name and
 * namespace: Istio's {@code sortConfigByCreationTime}), whether or not it sets {@code concurrency}.
 * Immutable; built per question from the store's snapshot.
 */
public final class ProxyConfigs {
  /** The pod annotation that carries a proxy's own ProxyConfig. */
  public static final String ANNOTATION = "proxy.istio.io/config";

  /** Istio's default worker threads ({@code mesh.DefaultProxyConfig}: 2). */
  public static final int DEFAULT_CONCURRENCY = 2;

  /**
   * What a proxy starts with.
   *
   * @param concurrency its worker threads; 0 for one per core
   * @param source where that came from: {@code ProxyConfig NS/NAME}, {@code annotation
   *     proxy.istio.io/config}, {@code meshConfig.defaultConfig.concurrency} or {@code default}
   * @param isDefault whether nothing set it (Istio's default applies)
   * @param ignored the fields of the annotation Weft does not read, each named as it is written
   */
  public record Effective(int concurrency, String source, boolean isDefault, List<String> ignored) {
    public Effective {
      ignored = List.copyOf(ignored);
    }
  }

  private final List<StoredResource> resources;
  private final String rootNamespace;
  private final Integer meshConcurrency;

  private ProxyConfigs(List<StoredResource> resources, MeshConfig mesh) {
    this.resources =
        resources.stream()
            .sorted(
                Comparator.comparing(StoredResource::creationTimestamp)
                    .thenComparing(r -> r.key().name())
                    .thenComparing(r -> r.key().namespace()))
            .toList();
    this.rootNamespace = mesh.rootNamespace();
    this.meshConcurrency = mesh.concurrency();
  }

  /** The ProxyConfig resources {@code proxyConfigs} (of the store) under {@code mesh}. */
  public static ProxyConfigs of(MeshConfig mesh, List<StoredResource> proxyConfigs) {
    return new ProxyConfigs(proxyConfigs, mesh);
  }

  /**
   * The effective ProxyConfig of a proxy in {@code namespace} with {@code labels} and {@code
   * annotations}.
   *
   * @throws IllegalArgumentException when its {@code proxy.istio.io/config} annotation is not a
   *     ProxyConfig (the message names the annotation and the field)
   */
  public Effective effective(
      String namespace, Map<String, String> labels, Map<String, String> annotations) {
    List<String> ignored = new ArrayList<>();
    Integer annotated = null;
    String annotation = annotations.get(ANNOTATION);
    if (annotation != null) {
      annotated = annotation(annotation, ignored);
    }
    StoredResource workload = first(namespace, true, labels);
    if (workload != null && spec(workload).concurrency() != null) {
      return found(spec(workload).concurrency(), workload, ignored);
    }
    if (annotated != null) {
      return new Effective(annotated, "annotation " + ANNOTATION, false, ignored);
    }
    if (!namespace.equals(rootNamespace)) {
      StoredResource ns = first(namespace, false, labels);
      if (ns != null && spec(ns).concurrency() != null) {
        return found(spec(ns).concurrency(), ns, ignored);
      }
    }
    StoredResource root = first(rootNamespace, false, labels);
    if (root != null && spec(root).concurrency() != null) {
      return found(spec(root).concurrency(), root, ignored);
    }
    if (meshConcurrency != null) {
      return new Effective(meshConcurrency, "meshConfig.defaultConfig.concurrency", false, ignored);
    }
    return new Effective(DEFAULT_CONCURRENCY, "default", true, ignored);
  }

  /**
   * The oldest ProxyConfig of {@code namespace} with a selector matching {@code labels}, or not.
   */
  private StoredResource first(String namespace, boolean selected, Map<String, String> labels) {
    for (StoredResource r : resources) {
      if (!r.key().namespace().equals(namespace)) {
        continue;
      }
      ProxyConfig pc = spec(r);
      if (selected ? pc.selects(labels) : pc.namespaceWide()) {
        return r;
      }
    }
    return null;
  }

  private static ProxyConfig spec(StoredResource r) {
    return r.resource().spec(ProxyConfig.class);
  }

  private static Effective found(int concurrency, StoredResource r, List<String> ignored) {
    return new Effective(concurrency, r.key().toString(), false, ignored);
  }

  /**
   * The {@code concurrency} of an annotation's ProxyConfig (null when it sets none); the other
   * fields it sets are added to {@code ignored}.
   */
  private static Integer annotation(String text, List<String> ignored) {
    Object doc;
    try {
      doc = new Load(LoadSettings.builder().build()).loadFromString(text);
    } catch (YamlEngineException e) {
      throw new IllegalArgumentException(
          "annotation " + ANNOTATION + " is not YAML or JSON: " + firstLine(e.getMessage()));
    }
    if (doc == null) {
      return null;
    }
    if (!(doc instanceof Map<?, ?> m)) {
      throw new IllegalArgumentException(
          "annotation " + ANNOTATION + " must be a ProxyConfig object, not " + text.strip());
    }
    for (Object key : m.keySet()) {
      if (!"concurrency".equals(key)) {
        ignored.add(String.valueOf(key));
      }
    }
    return concurrency(m.get("concurrency"), "annotation " + ANNOTATION + ": concurrency");
  }

  /**
   * A ProxyConfig's {@code concurrency} (a protobuf {@code Int32Value}: a number, or in JSON a
   * string of one) as YAML loaded it; null when absent.
   *
   * @throws IllegalArgumentException naming {@code field} when it is not an integer of 0 or more
   */
  static Integer concurrency(Object value, String field) {
    if (value == null) {
      return null;
    }
    long v;
    if (value instanceof Integer || value instanceof Long) {
      v = ((Number) value).longValue();
    } else if (value instanceof String s && s.strip().matches("-?\\d{1,10}")) {
      v = Long.parseLong(s.strip());
    } else {
      throw new IllegalArgumentException(field + " must be an integer, not " + value);
    }
    if (v < 0 || v > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(field + " must be 0 or more, not " + v);
    }
    return (int) v;
  }

  private static String firstLine(String s) {
    int nl = s == null ? -1 : s.indexOf('\n');
    return nl < 0 ? String.valueOf(s) : s.substring(0, nl);
  }
}
