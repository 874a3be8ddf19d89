package dev.weft.controlplane.bench;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A small distinct index per name (0, 1, 2, ...), shared by threads: the simulated sidecars keep
 * their endpoint counts in arrays indexed by cluster. Each name gets its own index however many
 * threads ask at once; an index taken from the map's {@code size()} inside {@code computeIfAbsent}
 * was not (a {@link ConcurrentHashMap} counts an insertion after it publishes it, so two new names
 * could read the same size and share a slot: a sidecar's tally then lost one cluster's endpoints
 * and the initial sync waited for ever short of them).
 */
final class DenseIndex {
  private final Map<String, Integer> indexes = new ConcurrentHashMap<>();
  private final AtomicInteger next = new AtomicInteger();

  /** {@code name}'s index, assigned on first use. */
  int of(String name) {
    Integer i = indexes.get(name);
    return i != null ? i : indexes.computeIfAbsent(name, k -> next.getAndIncrement());
  }

  /** How many names have an index. */
  int size() {
    return indexes.size();
  }
}
