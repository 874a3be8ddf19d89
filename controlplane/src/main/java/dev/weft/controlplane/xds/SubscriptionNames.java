package dev.weft.controlplane.xds;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Canonical copies of the resource-name sets that streams subscribe to. Sidecars that see the same
 * services ask for the same EDS names (one per outbound cluster, thousands in a large mesh), and
 * every ACK repeats them: each stream holding its own set of its own strings cost 2.45 million map
 * entries at 2000 proxies (issue #10). Equal sets are shared here instead, compact and immutable.
 *
 * <p>Keeps the {@value #MAX} most recently used distinct sets, so that a proxy changing its names
 * for ever cannot grow it. Owned by the ADS server's executor (not thread-safe).
 */
final class SubscriptionNames {
  static final int MAX = 1024;

  /** How many lists {@link #byList} keeps. */
  static final int MAX_LISTS = 64;

  private final Map<Set<String>, Set<String>> canonical =
      new LinkedHashMap<>(64, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Set<String>, Set<String>> eldest) {
          return size() > MAX;
        }
      };

  /**
   * The shared sets by the list they were last asked for as, in its order: sidecars of one mesh
   * subscribe to the same names in the same order (the order of the clusters they received), so a
   * new stream's 3000 names are found by their (cached) string hashes and reference comparisons of
   * canonical names ({@link RequestNames}), without building a set of them to look up. 3.3% of the
   * control plane's CPU in the 2000-sidecar sync went to those sets (docs/benchmarks.md, "Control
   * plane at scale", 2026-12-01 scale/cp3). The {@value #MAX_LISTS} most recently used lists (a
   * reference per name each); a list not here is looked up as a set.
   */
  private final Map<NameList, Set<String>> byList =
      new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<NameList, Set<String>> eldest) {
          return size() > MAX_LISTS;
        }
      };

  /**
   * A list of names as a key: equal when the names are equal in the same order (compared by
   * reference first: canonical names are one string each).
   */
  private record NameList(List<String> names, int hash) {
    static NameList of(List<String> names) {
      int h = 1;
      for (String n : names) {
        h = 31 * h + n.hashCode();
      }
      return new NameList(names, h);
    }

    @Override
    public boolean equals(Object o) {
      if (!(o instanceof NameList other)
          || other.hash != hash
          || other.names.size() != names.size()) {
        return false;
      }
      for (int i = 0; i < names.size(); i++) {
        String a = names.get(i);
        String b = other.names.get(i);
        if (a != b && !a.equals(b)) {
          return false;
        }
      }
      return true;
    }

    @Override
    public int hashCode() {
      return hash;
    }
  }

  /** The set of {@code names} (duplicates dropped), shared with every equal set asked for. */
  Set<String> of(List<String> names) {
    return of(names, Set.of());
  }

  /**
   * As {@link #of(List)}, answering {@code current} itself when {@code names} are its names: an ACK
   * repeats a stream's subscription, thousands of names, and is checked without a new set.
   */
  Set<String> of(List<String> names, Set<String> current) {
    if (names.isEmpty()) {
      return Set.of();
    }
    if (names.size() == current.size() && current.containsAll(names)) {
      return current;
    }
    NameList key = NameList.of(names);
    Set<String> known = byList.get(key);
    if (known != null) {
      return known;
    }
    Set<String> set = Set.copyOf(names);
    Set<String> prev = canonical.putIfAbsent(set, set);
    Set<String> shared = prev == null ? set : prev;
    byList.put(new NameList(List.copyOf(names), key.hash), shared);
    return shared;
  }

  /** How many distinct sets are kept (for tests). */
  int size() {
    return canonical.size();
  }
}
