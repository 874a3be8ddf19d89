package dev.weft.controlplane.push;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

/**
 * Istio's push debounce: after a change, wait until no change has come for {@code debounce} (but no
 * longer than {@code maxDelay} after the first change), then run the push once for all of them.
 * Thread-safe; the push runs on the scheduler.
 */
public final class Debouncer {
  private final Clock clock;
  private final Duration debounce;
  private final Duration maxDelay;
  private final Scheduler scheduler;
  private final Runnable push;

  private boolean pending;
  private Instant first;
  private Instant last;

  /**
   * @param clock the clock that measures quiet periods
   * @param debounce the quiet period; zero pushes on the next scheduler turn
   * @param maxDelay the longest a change waits
   * @param scheduler where checks and the push run
   * @param push the push
   */
  public Debouncer(
      Clock clock, Duration debounce, Duration maxDelay, Scheduler scheduler, Runnable push) {
    this.clock = clock;
    this.debounce = debounce;
    this.maxDelay = maxDelay;
    this.scheduler = scheduler;
    this.push = push;
  }

  /** Records a change. */
  public synchronized void trigger() {
    last = clock.instant();
    if (!pending) {
      pending = true;
      first = last;
      scheduler.schedule(this::check, debounce);
    }
  }

  private void check() {
    synchronized (this) {
      Instant now = clock.instant();
      Duration quiet = Duration.between(last, now);
      Duration waited = Duration.between(first, now);
      if (quiet.compareTo(debounce) < 0 && waited.compareTo(maxDelay) < 0) {
        scheduler.schedule(this::check, debounce.minus(quiet));
        return;
      }
      pending = false;
    }
    push.run();
  }
}
