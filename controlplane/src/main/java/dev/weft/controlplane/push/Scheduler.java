package dev.weft.controlplane.push;

import java.time.Duration;

/**
 * Runs tasks after a delay, one at a time, on the control plane's serializing executor. Tests pass
 * a manual implementation driven by their clock.
 */
@FunctionalInterface
public interface Scheduler {
  /** Runs {@code task} after {@code delay}. */
  void schedule(Runnable task, Duration delay);
}
