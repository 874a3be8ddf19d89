package dev.weft.proxy.upstream;

import dev.weft.proxy.config.Endpoint;

/**
 * Envoy's ring hash ({@code ring_hash_lb.cc}, Ketama): every host gets {@code scale} points on a
 * 64-bit ring, the XXH64 of {@code "<address>_<i>"}; scale is {@code minimum_ring_size} divided
 * among the hosts (equal weights), rounded up so each host gets a whole number, capped by {@code
 * maximum_ring_size}. A hash maps to the host of the first point at or after it (unsigned),
 * wrapping to the first point.
 */
public final class RingHash implements HashSelector {
  private final long[] hashes;
  private final Endpoint[] hosts;

  private RingHash(long[] hashes, Endpoint[] hosts) {
    this.hashes = hashes;
    this.hosts = hosts;
  }

  /** The ring over {@code endpoints} (non-empty). */
  public static RingHash build(Endpoint[] endpoints, long minRingSize, long maxRingSize) {
    int n = endpoints.length;
    double normalized = 1.0 / n;
    double scale = Math.min(Math.ceil(normalized * minRingSize) / normalized, maxRingSize);
    int size = (int) Math.ceil(scale);
    // Sorted by the hash's unsigned order: the sign bit flipped, compared signed.
    long[] keys = new long[size];
    int[] owner = new int[size];
    double target = 0;
    int current = 0;
    for (int h = 0; h < n; h++) {
      String prefix = endpoints[h].hostPort() + "_";
      target += scale * normalized;
      for (int i = 0; current < target && current < size; i++) {
        keys[current] = Hashing.hash(prefix + i, 0) ^ Long.MIN_VALUE;
        owner[current] = h;
        current++;
      }
    }
    sort(keys, owner, 0, current - 1);
    long[] hashes = new long[current];
    Endpoint[] hosts = new Endpoint[current];
    for (int i = 0; i < current; i++) {
      hashes[i] = keys[i] ^ Long.MIN_VALUE;
      hosts[i] = endpoints[owner[i]];
    }
    return new RingHash(hashes, hosts);
  }

  /** Sorts {@code keys[lo..hi]} (signed), moving {@code values} along; no boxing. */
  private static void sort(long[] keys, int[] values, int lo, int hi) {
    while (hi - lo > 16) {
      long pivot = keys[(lo + hi) >>> 1];
      int i = lo;
      int j = hi;
      while (i <= j) {
        while (keys[i] < pivot) {
          i++;
        }
        while (keys[j] > pivot) {
          j--;
        }
        if (i <= j) {
          long k = keys[i];
          keys[i] = keys[j];
          keys[j] = k;
          int v = values[i];
          values[i] = values[j];
          values[j] = v;
          i++;
          j--;
        }
      }
      // Recurse into the smaller side, loop on the larger (bounded stack depth).
      if (j - lo < hi - i) {
        sort(keys, values, lo, j);
        lo = i;
      } else {
        sort(keys, values, i, hi);
        hi = j;
      }
    }
    for (int i = lo + 1; i <= hi; i++) {
      long k = keys[i];
      int v = values[i];
      int j = i - 1;
      while (j >= lo && keys[j] > k) {
        keys[j + 1] = keys[j];
        values[j + 1] = values[j];
        j--;
      }
      keys[j + 1] = k;
      values[j + 1] = v;
    }
  }

  @Override
  public Endpoint pick(long hash) {
    int lo = 0;
    int hi = hashes.length;
    // The first point whose hash is >= hash (unsigned); none: wrap to the first.
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (Long.compareUnsigned(hashes[mid], hash) < 0) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return hosts[lo == hashes.length ? 0 : lo];
  }

  /** The number of points on the ring. */
  public int size() {
    return hashes.length;
  }
}
