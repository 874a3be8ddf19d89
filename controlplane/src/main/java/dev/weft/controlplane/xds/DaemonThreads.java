package dev.weft.controlplane.xds;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Makes the daemon threads of the xDS server's pools (the ADS services' writers, the {@link
 * GenerationPool}), named {@code prefix1}, {@code prefix2}, ... in the order they start, so that
 * they never keep the JVM alive. Thread-safe.
 */
final class DaemonThreads implements ThreadFactory {
  private final String prefix;
  private final AtomicLong count = new AtomicLong();

  DaemonThreads(String prefix) {
    this.prefix = prefix;
  }

  /** A pool of {@code n} threads made by a {@link DaemonThreads} of {@code prefix}. */
  static ExecutorService pool(int n, String prefix) {
    return Executors.newFixedThreadPool(n, new DaemonThreads(prefix));
  }

  @Override
  public Thread newThread(Runnable r) {
    Thread t = new Thread(r, prefix + count.incrementAndGet());
    t.setDaemon(true);
    return t;
  }
}
