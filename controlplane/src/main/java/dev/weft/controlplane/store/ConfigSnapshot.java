package dev.weft.controlplane.store;

import dev.weft.api.Resource;
import dev.weft.api.ResourceKey;
import dev.weft.api.ResourceKind;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * An immutable view of the whole store at one version, ordered by key.
 *
 * @param version the store-wide resourceVersion counter at the time of the snapshot
 * @param resources every stored resource by key
 */
public record ConfigSnapshot(long version, NavigableMap<ResourceKey, StoredResource> resources) {
  public static final ConfigSnapshot EMPTY = new ConfigSnapshot(0, new TreeMap<>());

  public ConfigSnapshot {
    resources = Collections.unmodifiableNavigableMap(new TreeMap<>(resources));
  }

  /** The stored resource with this key, or null. */
  public StoredResource get(ResourceKey key) {
    return resources.get(key);
  }

  /** Every stored resource of {@code kind}, ordered by namespace and name. */
  public List<StoredResource> list(ResourceKind kind) {
    List<StoredResource> out = new ArrayList<>();
    for (Map.Entry<ResourceKey, StoredResource> e : resources.entrySet()) {
      if (e.getKey().kind() == kind) {
        out.add(e.getValue());
      }
    }
    return out;
  }

  /**
   * Every resource of {@code kind}, oldest first (by creation, then key): the order in which Istio
   * gives precedence to conflicting configuration.
   */
  public List<Resource> byAge(ResourceKind kind) {
    List<StoredResource> list = list(kind);
    list.sort(
        (a, b) -> {
          int c = a.creationTimestamp().compareTo(b.creationTimestamp());
          return c != 0 ? c : a.key().compareTo(b.key());
        });
    return list.stream().map(StoredResource::resource).toList();
  }
}
