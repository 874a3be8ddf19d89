package dev.weft.proxy.xds;

import java.util.random.RandomGenerator;

/**
 * Exponential backoff with jitter for reconnecting to the control plane (as grpc-java's xDS client
 * does): 0.5 s, 1 s, 2 s, ... up to 30 s, each delay multiplied by a random factor in [0.8, 1.2].
 * Not thread safe; owned by the xDS client's executor.
 */
public final class Backoff {
  private final long initialMillis;
  private final long maxMillis;
  private final double jitter;
  private final RandomGenerator random;
  private long next;

  public Backoff(long initialMillis, long maxMillis, double jitter, RandomGenerator random) {
    if (initialMillis <= 0 || maxMillis < initialMillis || jitter < 0 || jitter >= 1) {
      throw new IllegalArgumentException("invalid backoff parameters");
    }
    this.initialMillis = initialMillis;
    this.maxMillis = maxMillis;
    this.jitter = jitter;
    this.random = random;
    this.next = initialMillis;
  }

  /** The default policy: 500 ms to 30 s, 20% jitter. */
  public static Backoff defaults(RandomGenerator random) {
    return new Backoff(500, 30_000, 0.2, random);
  }

  /** The delay before the next attempt; each call doubles the base (up to the maximum). */
  public long nextDelayMillis() {
    long base = next;
    next = Math.min(maxMillis, next * 2);
    double factor = 1 + jitter * (2 * random.nextDouble() - 1);
    return Math.max(1, Math.round(base * factor));
  }

  /** Starts over after a successful exchange. */
  public void reset() {
    next = initialMillis;
  }
}
