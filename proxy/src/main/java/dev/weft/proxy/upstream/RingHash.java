package dev.weft.proxy.upstream;

import dev.weft.proxy.config.Endpoint;
import java.util.Arrays;

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
    long[] keys = new long[size];
    Endpoint[] owners = new Endpoint[size];
    long[][] pairs = new long[size][];
    double target = 0;
    int current = 0;
    for (int h = 0; h < n; h++) {
      String prefix = endpoints[h].hostPort() + "_";
      target += scale * normalized;
      for (int i = 0; current < target && current < size; i++) {
        pairs[current] = new long[] {Hashing.hash(prefix + i, 0), h};
        current++;
      }
    }
    long[][] filled = Arrays.copyOf(pairs, current);
    Arrays.sort(filled, (a, b) -> Long.compareUnsigned(a[0], b[0]));
    keys = new long[current];
    owners = new Endpoint[current];
    for (int i = 0; i < current; i++) {
      keys[i] = filled[i][0];
      owners[i] = endpoints[(int) filled[i][1]];
    }
    return new RingHash(keys, owners);
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
