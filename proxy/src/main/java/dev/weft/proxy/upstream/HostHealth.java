package dev.weft.proxy.upstream;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * The load and outlier state of one host of one cluster, shared by every configuration version that
 * lists the host and by every event loop. Event loops only add to its atomics and read its {@link
 * #ejected()} flag; ejecting, unejecting and the ejection backoff belong to the cluster's {@link
 * Scheduler} thread ({@link ClusterState}).
 */
public final class HostHealth {
  final AtomicInteger activeRequests = new AtomicInteger();
  final AtomicInteger consecutive5xx = new AtomicInteger();
  final AtomicInteger consecutiveGateway = new AtomicInteger();
  final AtomicInteger consecutiveLocalOrigin = new AtomicInteger();
  volatile boolean ejected;

  /** When the host joined its cluster, on the cluster's scheduler clock (slow start). */
  final long createdNanos;

  // The scheduler thread's (guarded by the ClusterState's monitor).
  long lastEjectionNanos;
  long lastUnejectionNanos;
  boolean unejectedOnce;
  int ejectTimeBackoff;
  volatile int numEjections;

  /** A host state created now on no particular clock (time 0). */
  public HostHealth() {
    this(0);
  }

  /**
   * @param createdNanos when the host joined its cluster, on the cluster's {@link Scheduler} clock
   */
  public HostHealth(long createdNanos) {
    this.createdNanos = createdNanos;
  }

  /** When the host joined its cluster ({@link Scheduler#nanoTime()}). */
  public long createdNanos() {
    return createdNanos;
  }

  /** Whether outlier detection has taken the host out of load balancing. */
  public boolean ejected() {
    return ejected;
  }

  /** Requests in flight to the host (LEAST_REQUEST's load). */
  public int activeRequests() {
    return activeRequests.get();
  }

  /** How many times the host has been ejected. */
  public int numEjections() {
    return numEjections;
  }

  /** A request to the host starts (event loop). */
  public void requestStarted() {
    activeRequests.incrementAndGet();
  }

  /** A request to the host ended (event loop). */
  public void requestEnded() {
    activeRequests.decrementAndGet();
  }

  static void reset(AtomicInteger counter) {
    if (counter.get() != 0) {
      counter.set(0);
    }
  }
}
