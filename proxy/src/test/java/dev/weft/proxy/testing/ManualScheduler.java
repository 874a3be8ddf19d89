package dev.weft.proxy.testing;

import dev.weft.proxy.upstream.Scheduler;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * A {@link Scheduler} whose clock moves only when a test calls {@link #advance}: tasks run one at a
 * time on the scheduler's own thread (as the real one's), timed tasks when the clock reaches them.
 */
public final class ManualScheduler implements Scheduler, AutoCloseable {
  private record Timed(long due, long seq, Runnable task) {}

  private final ExecutorService thread =
      Executors.newSingleThreadExecutor(
          r -> {
            Thread t = new Thread(r, "manual-scheduler");
            t.setDaemon(true);
            return t;
          });
  private final List<Timed> timed = new ArrayList<>();
  private volatile long now = 1_000_000_000L;
  private long seq;

  @Override
  public long nanoTime() {
    return now;
  }

  @Override
  public void execute(Runnable task) {
    thread.execute(task);
  }

  @Override
  public synchronized void schedule(Runnable task, long delayNanos) {
    timed.add(new Timed(now + delayNanos, seq++, task));
  }

  /**
   * Moves the clock forward by {@code d}, running every timed task that falls due on the way (in
   * time order, the clock set to each one's time), and waits until they have run.
   */
  public void advance(Duration d) throws Exception {
    long target = now + d.toNanos();
    while (true) {
      Timed next;
      synchronized (this) {
        next =
            timed.stream()
                .filter(t -> t.due() <= target)
                .min(
                    (a, b) ->
                        a.due() != b.due()
                            ? Long.compare(a.due(), b.due())
                            : Long.compare(a.seq(), b.seq()))
                .orElse(null);
        if (next != null) {
          timed.remove(next);
          now = Math.max(now, next.due());
        }
      }
      if (next == null) {
        break;
      }
      Future<?> f = thread.submit(next.task());
      f.get();
    }
    now = target;
    // Tasks handed over with execute() before now have run too.
    thread.submit(() -> {}).get();
  }

  /** Waits until tasks handed over with {@link #execute} so far have run. */
  public void drain() throws Exception {
    thread.submit(() -> {}).get();
  }

  @Override
  public void close() {
    thread.shutdownNow();
  }
}
