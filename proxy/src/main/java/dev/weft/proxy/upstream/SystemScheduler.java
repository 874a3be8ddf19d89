package dev.weft.proxy.upstream;

import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/** The real {@link Scheduler}: {@link System#nanoTime()} and one daemon thread. */
public final class SystemScheduler implements Scheduler {
  private static final class Holder {
    static final SystemScheduler SHARED = new SystemScheduler();
  }

  private final ScheduledThreadPoolExecutor executor;

  private SystemScheduler() {
    executor =
        new ScheduledThreadPoolExecutor(
            1,
            r -> {
              Thread t = new Thread(r, "weft-upstream-timer");
              t.setDaemon(true);
              return t;
            });
    executor.setRemoveOnCancelPolicy(true);
  }

  /** The process's scheduler (one thread for every proxy in the process). */
  public static SystemScheduler shared() {
    return Holder.SHARED;
  }

  @Override
  public long nanoTime() {
    return System.nanoTime();
  }

  @Override
  public void execute(Runnable task) {
    executor.execute(task);
  }

  @Override
  public void schedule(Runnable task, long delayNanos) {
    executor.schedule(task, delayNanos, TimeUnit.NANOSECONDS);
  }
}
