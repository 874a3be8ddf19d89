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

  private final Map<Set<String>, Set<String>> canonical =
      new LinkedHashMap<>(64, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Set<String>, Set<String>> eldest) {
          return size() > MAX;
        }
      };

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
    Set<String> set = Set.copyOf(names);
    Set<String> prev = canonical.putIfAbsent(set, set);
    return prev == null ? set : prev;
  }

  /** How many distinct sets are kept (for tests). */
  int size() {
    return canonical.size();
  }
}
