package dev.weft.controlplane.xds;

import java.util.AbstractMap;
import java.util.AbstractSet;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;

/**
 * An immutable map made of a large map shared by many (a scope's outbound clusters, the same for
 * every proxy of the scope) and the few entries of one owner (a proxy's inbound clusters), with no
 * key in both. A delta stream keeps the resources it was sent as such a map ({@link
 * DeltaStream.TypeState#base}), so 2000 streams hold one copy of the shared part, not 2000.
 *
 * @param <V> the values
 */
final class OverlayMap<V> extends AbstractMap<String, V> {
  private final Map<String, V> shared;
  private final Map<String, V> own;

  private OverlayMap(Map<String, V> shared, Map<String, V> own) {
    this.shared = shared;
    this.own = own;
  }

  /**
   * A map equal to {@code all}, holding {@code shared} by reference when every entry of {@code
   * shared} is in {@code all} with the same value (by identity); otherwise a copy of {@code all}.
   * Neither map may change afterwards.
   */
  static <V> Map<String, V> of(Map<String, V> shared, Map<String, V> all) {
    Map<String, V> own = new HashMap<>();
    int same = 0;
    for (Map.Entry<String, V> e : all.entrySet()) {
      if (shared.get(e.getKey()) == e.getValue()) {
        same++;
      } else {
        own.put(e.getKey(), e.getValue());
      }
    }
    if (same != shared.size()) {
      return Map.copyOf(all); // not an overlay of shared: a key of shared is missing or differs
    }
    if (own.isEmpty()) {
      return shared;
    }
    return new OverlayMap<>(shared, Map.copyOf(own));
  }

  /** The part shared by many. */
  Map<String, V> shared() {
    return shared;
  }

  /** The owner's own entries, none of them in {@link #shared}. */
  Map<String, V> own() {
    return own;
  }

  /**
   * {@code shared} with {@code own}'s entries beside it, when no key of {@code own} is in {@code
   * shared} (the caller has checked); {@code shared} itself when {@code own} is empty. Neither map
   * may change afterwards.
   */
  static <V> Map<String, V> beside(Map<String, V> shared, Map<String, V> own) {
    return own.isEmpty() ? shared : new OverlayMap<>(shared, Map.copyOf(own));
  }

  @Override
  public V get(Object key) {
    V v = own.get(key);
    return v != null ? v : shared.get(key);
  }

  @Override
  public boolean containsKey(Object key) {
    return own.containsKey(key) || shared.containsKey(key);
  }

  @Override
  public int size() {
    return shared.size() + own.size();
  }

  @Override
  public Set<Map.Entry<String, V>> entrySet() {
    return new AbstractSet<>() {
      @Override
      public Iterator<Map.Entry<String, V>> iterator() {
        Iterator<Map.Entry<String, V>> first = own.entrySet().iterator();
        Iterator<Map.Entry<String, V>> second = shared.entrySet().iterator();
        return new Iterator<>() {
          @Override
          public boolean hasNext() {
            return first.hasNext() || second.hasNext();
          }

          @Override
          public Map.Entry<String, V> next() {
            if (first.hasNext()) {
              return first.next();
            }
            if (second.hasNext()) {
              return second.next();
            }
            throw new NoSuchElementException();
          }
        };
      }

      @Override
      public int size() {
        return OverlayMap.this.size();
      }
    };
  }
}
