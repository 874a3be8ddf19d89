package dev.weft.controlplane.store;

import dev.weft.api.Resource;
import dev.weft.api.ResourceKey;
import dev.weft.api.ResourceKind;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * An immutable view of the whole store at one version, ordered by key.
 *
 * <p>Resources are held per kind: a write copies only the kinds it changes and shares every other
 * kind's table with the snapshot before it (copy-on-write per kind), so applying one VirtualService
 * does not copy 28,000 DestinationRules. Per-kind views ({@link #list}, {@link #byAge}) and indexes
 * that callers derive from a snapshot ({@link #derived}) are computed once per snapshot.
 */
public final class ConfigSnapshot {
  public static final ConfigSnapshot EMPTY =
      new ConfigSnapshot(0, new EnumMap<>(ResourceKind.class));

  private static final Comparator<StoredResource> BY_AGE =
      Comparator.comparing(StoredResource::creationTimestamp).thenComparing(StoredResource::key);

  private final long version;
  private final EnumMap<ResourceKind, KindTable> kinds;
  private final Map<Object, Object> derived = new ConcurrentHashMap<>();
  private volatile NavigableMap<ResourceKey, StoredResource> all;

  /**
   * A snapshot holding {@code resources} (copied).
   *
   * @param version the store-wide resourceVersion counter at the time of the snapshot
   * @param resources every stored resource by key
   */
  public ConfigSnapshot(long version, Map<ResourceKey, StoredResource> resources) {
    this(version, split(resources));
  }

  private ConfigSnapshot(long version, EnumMap<ResourceKind, KindTable> kinds) {
    this.version = version;
    this.kinds = kinds;
  }

  private static EnumMap<ResourceKind, KindTable> split(Map<ResourceKey, StoredResource> all) {
    EnumMap<ResourceKind, TreeMap<ResourceKey, StoredResource>> maps =
        new EnumMap<>(ResourceKind.class);
    all.forEach((k, v) -> maps.computeIfAbsent(k.kind(), x -> new TreeMap<>()).put(k, v));
    EnumMap<ResourceKind, KindTable> out = new EnumMap<>(ResourceKind.class);
    maps.forEach((k, m) -> out.put(k, new KindTable(m)));
    return out;
  }

  /**
   * A snapshot at {@code version} that has {@code changed}'s tables for the kinds it names (a kind
   * mapped to an empty map has no resources left) and shares this snapshot's tables for the others.
   * The maps are owned by the new snapshot from now on: the caller must not change them.
   */
  ConfigSnapshot with(
      long version, Map<ResourceKind, TreeMap<ResourceKey, StoredResource>> changed) {
    EnumMap<ResourceKind, KindTable> next = new EnumMap<>(kinds);
    changed.forEach(
        (kind, map) -> {
          if (map.isEmpty()) {
            next.remove(kind);
          } else {
            next.put(kind, new KindTable(map));
          }
        });
    return new ConfigSnapshot(version, next);
  }

  /** A new mutable copy of the resources of {@code kind}, for {@link #with}. */
  TreeMap<ResourceKey, StoredResource> copyOf(ResourceKind kind) {
    KindTable t = kinds.get(kind);
    return t == null ? new TreeMap<>() : new TreeMap<>(t.byKey);
  }

  /** The store-wide resourceVersion counter at the time of the snapshot. */
  public long version() {
    return version;
  }

  /** Every stored resource by key (built on first use; prefer {@link #list} for one kind). */
  public NavigableMap<ResourceKey, StoredResource> resources() {
    NavigableMap<ResourceKey, StoredResource> a = all;
    if (a == null) {
      TreeMap<ResourceKey, StoredResource> m = new TreeMap<>();
      kinds.values().forEach(t -> m.putAll(t.byKey));
      a = Collections.unmodifiableNavigableMap(m);
      all = a;
    }
    return a;
  }

  /** How many resources the snapshot holds. */
  public int size() {
    int n = 0;
    for (KindTable t : kinds.values()) {
      n += t.byKey.size();
    }
    return n;
  }

  /** The stored resource with this key, or null. */
  public StoredResource get(ResourceKey key) {
    KindTable t = kinds.get(key.kind());
    return t == null ? null : t.byKey.get(key);
  }

  /** Every stored resource of {@code kind}, ordered by namespace and name. Unmodifiable. */
  public List<StoredResource> list(ResourceKind kind) {
    KindTable t = kinds.get(kind);
    return t == null ? List.of() : t.list();
  }

  /**
   * Every resource of {@code kind}, oldest first (by creation, then key): the order in which Istio
   * gives precedence to conflicting configuration. Unmodifiable.
   */
  public List<Resource> byAge(ResourceKind kind) {
    KindTable t = kinds.get(kind);
    return t == null ? List.of() : t.byAge();
  }

  /**
   * An index derived from this snapshot, computed by {@code compute} on first use and kept for the
   * snapshot's life (so that, say, the apply warnings of 28,000 DestinationRules look hosts up in
   * one map instead of scanning every rule for each). {@code key} names the index (use a constant
   * owned by the caller); {@code compute} must be a pure function of the snapshot.
   */
  @SuppressWarnings("unchecked")
  public <T> T derived(Object key, Function<ConfigSnapshot, T> compute) {
    Object v = derived.get(key);
    if (v == null) {
      v = compute.apply(this);
      Object prev = derived.putIfAbsent(key, v);
      if (prev != null) {
        v = prev;
      }
    }
    return (T) v;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ConfigSnapshot s
        && s.version == version
        && s.resources().equals(resources());
  }

  @Override
  public int hashCode() {
    return Long.hashCode(version);
  }

  @Override
  public String toString() {
    return "ConfigSnapshot[version=" + version + ", resources=" + size() + "]";
  }

  /** One kind's resources: an unmodifiable sorted map, and its list views made on first use. */
  private static final class KindTable {
    final NavigableMap<ResourceKey, StoredResource> byKey;
    private volatile List<StoredResource> list;
    private volatile List<Resource> byAge;

    KindTable(TreeMap<ResourceKey, StoredResource> owned) {
      this.byKey = Collections.unmodifiableNavigableMap(owned);
    }

    List<StoredResource> list() {
      List<StoredResource> l = list;
      if (l == null) {
        l = List.copyOf(byKey.values());
        list = l;
      }
      return l;
    }

    List<Resource> byAge() {
      List<Resource> l = byAge;
      if (l == null) {
        List<StoredResource> sorted = new ArrayList<>(byKey.values());
        sorted.sort(BY_AGE);
        l = sorted.stream().map(StoredResource::resource).toList();
        byAge = l;
      }
      return l;
    }
  }
}
