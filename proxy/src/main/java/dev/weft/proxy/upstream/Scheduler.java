package dev.weft.proxy.upstream;

/**
 * The clock and timer of the proxy's upstream housekeeping (outlier detection's ejections and
 * unejection sweeps), which never runs on an event loop. Tasks run one at a time, in order, on the
 * scheduler's own thread. {@link SystemScheduler} is the real one; tests inject a manual clock.
 */
public interface Scheduler {
  /** A monotonic time in nanoseconds (as {@link System#nanoTime()}). */
  long nanoTime();

  /** Runs {@code task} soon on the scheduler's thread. */
  void execute(Runnable task);

  /** Runs {@code task} once on the scheduler's thread when {@code delayNanos} have passed. */
  void schedule(Runnable task, long delayNanos);
}
