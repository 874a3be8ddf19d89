package dev.weft.proxy.upstream;

import java.nio.charset.StandardCharsets;

/**
 * XXH64 (seed-parameterised), the hash Envoy uses for ring hash, Maglev and request hash policies.
 * {@link #hash(CharSequence, long)} hashes the UTF-8 bytes of text without copying it when it is
 * ASCII (request headers almost always are).
 */
public final class Hashing {
  private static final long P1 = 0x9E3779B185EBCA87L;
  private static final long P2 = 0xC2B2AE3D27D4EB4FL;
  private static final long P3 = 0x165667B19E3779F9L;
  private static final long P4 = 0x85EBCA77C2B2AE63L;
  private static final long P5 = 0x27D4EB2F165667C5L;

  private Hashing() {}

  /** XXH64 of the UTF-8 encoding of {@code s}. */
  public static long hash(CharSequence s, long seed) {
    int n = s.length();
    for (int i = 0; i < n; i++) {
      if (s.charAt(i) >= 0x80) {
        byte[] b = s.toString().getBytes(StandardCharsets.UTF_8);
        return hash(b, 0, b.length, seed);
      }
    }
    return xx(s, null, 0, n, seed);
  }

  /** XXH64 of {@code len} bytes of {@code b} from {@code off}. */
  public static long hash(byte[] b, int off, int len, long seed) {
    return xx(null, b, off, len, seed);
  }

  private static int at(CharSequence s, byte[] b, int i) {
    return s != null ? s.charAt(i) & 0xff : b[i] & 0xff;
  }

  private static long u64(CharSequence s, byte[] b, int i) {
    long v = 0;
    for (int k = 7; k >= 0; k--) {
      v = (v << 8) | at(s, b, i + k);
    }
    return v;
  }

  private static long u32(CharSequence s, byte[] b, int i) {
    long v = 0;
    for (int k = 3; k >= 0; k--) {
      v = (v << 8) | at(s, b, i + k);
    }
    return v;
  }

  private static long round(long acc, long input) {
    acc += input * P2;
    acc = Long.rotateLeft(acc, 31);
    return acc * P1;
  }

  private static long merge(long acc, long val) {
    acc ^= round(0, val);
    return acc * P1 + P4;
  }

  private static long xx(CharSequence s, byte[] b, int off, int len, long seed) {
    int i = off;
    int end = off + len;
    long h;
    if (len >= 32) {
      long v1 = seed + P1 + P2;
      long v2 = seed + P2;
      long v3 = seed;
      long v4 = seed - P1;
      int limit = end - 32;
      do {
        v1 = round(v1, u64(s, b, i));
        v2 = round(v2, u64(s, b, i + 8));
        v3 = round(v3, u64(s, b, i + 16));
        v4 = round(v4, u64(s, b, i + 24));
        i += 32;
      } while (i <= limit);
      h =
          Long.rotateLeft(v1, 1)
              + Long.rotateLeft(v2, 7)
              + Long.rotateLeft(v3, 12)
              + Long.rotateLeft(v4, 18);
      h = merge(h, v1);
      h = merge(h, v2);
      h = merge(h, v3);
      h = merge(h, v4);
    } else {
      h = seed + P5;
    }
    h += len;
    while (i + 8 <= end) {
      h ^= round(0, u64(s, b, i));
      h = Long.rotateLeft(h, 27) * P1 + P4;
      i += 8;
    }
    if (i + 4 <= end) {
      h ^= u32(s, b, i) * P1;
      h = Long.rotateLeft(h, 23) * P2 + P3;
      i += 4;
    }
    while (i < end) {
      h ^= at(s, b, i) * P5;
      h = Long.rotateLeft(h, 11) * P1;
      i++;
    }
    h ^= h >>> 33;
    h *= P2;
    h ^= h >>> 29;
    h *= P3;
    h ^= h >>> 32;
    return h;
  }
}
