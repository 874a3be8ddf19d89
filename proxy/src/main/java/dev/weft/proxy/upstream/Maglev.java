package dev.weft.proxy.upstream;

import dev.weft.proxy.config.Endpoint;

/**
 * Envoy's Maglev ({@code maglev_lb.cc}, the Maglev paper's table population): each host has a
 * permutation of the table's slots ({@code offset = xxh64(address, 0) % M}, {@code skip =
 * xxh64(address, 1) % (M - 1) + 1}); hosts take turns claiming their next free preferred slot until
 * the table ({@code table_size}, a prime) is full. A hash maps to {@code table[hash % M]}
 * (unsigned).
 */
public final class Maglev implements HashSelector {
  private final Endpoint[] table;

  private Maglev(Endpoint[] table) {
    this.table = table;
  }

  /** The table over {@code endpoints} (non-empty); {@code size} must be a prime. */
  public static Maglev build(Endpoint[] endpoints, int size) {
    int n = endpoints.length;
    long[] offset = new long[n];
    long[] skip = new long[n];
    long[] next = new long[n];
    for (int i = 0; i < n; i++) {
      String key = endpoints[i].hostPort();
      offset[i] = Long.remainderUnsigned(Hashing.hash(key, 0), size);
      skip[i] = Long.remainderUnsigned(Hashing.hash(key, 1), size - 1) + 1;
    }
    Endpoint[] table = new Endpoint[size];
    int filled = 0;
    while (true) {
      for (int i = 0; i < n; i++) {
        int slot;
        do {
          slot = (int) ((offset[i] + next[i] * skip[i]) % size);
          next[i]++;
        } while (table[slot] != null);
        table[slot] = endpoints[i];
        if (++filled == size) {
          return new Maglev(table);
        }
      }
    }
  }

  @Override
  public Endpoint pick(long hash) {
    return table[(int) Long.remainderUnsigned(hash, table.length)];
  }

  /** The host of each slot (for tests). */
  Endpoint slot(int i) {
    return table[i];
  }

  public int size() {
    return table.length;
  }
}
