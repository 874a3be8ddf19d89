package dev.weft.proxy.stats;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * The state and counters of one {@code envoy.filters.network.connection_limit} stat prefix ({@code
 * connection_limit.<stat_prefix>.active_connections} and {@code .limited_connections}). The active
 * count is the one the limit is enforced on, shared by every event loop, and survives listener
 * updates (a connection accepted under the old configuration still counts).
 */
public final class ConnectionLimitStats {
  private final String prefix;
  private final AtomicLong active = new AtomicLong();
  final LongAdder limited = new LongAdder();

  ConnectionLimitStats(String prefix) {
    this.prefix = prefix;
  }

  public String prefix() {
    return prefix;
  }

  /**
   * Counts a new connection if fewer than {@code max} are active; otherwise counts it as limited.
   *
   * @return whether the connection may proceed (then call {@link #release()} when it closes)
   */
  public boolean tryAcquire(long max) {
    if (active.incrementAndGet() > max) {
      active.decrementAndGet();
      limited.increment();
      return false;
    }
    return true;
  }

  public void release() {
    active.decrementAndGet();
  }

  public long active() {
    return active.get();
  }

  public long limited() {
    return limited.sum();
  }
}
