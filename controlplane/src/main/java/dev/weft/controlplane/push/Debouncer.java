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
  private long changes;
  private long changesWhenScheduled;
  private Duration scheduled = Duration.ZERO;

  /** Whether changes are under way that have not been recorded yet (never, by default). */
  private volatile java.util.function.BooleanSupplier underWay = () -> false;

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

  /**
   * Makes {@code underWay} part of the quiet period: while it answers true, a non-zero debounce
   * does not find the period quiet (the longest wait still holds). For changes a check cannot see
   * yet: registrations whose connections are still in their TLS handshake.
   */
  public void whileUnderWay(java.util.function.BooleanSupplier underWay) {
    this.underWay = underWay;
  }

  /** Records a change. */
  public synchronized void trigger() {
    last = clock.instant();
    changes++;
    if (!pending) {
      pending = true;
      first = last;
      changesWhenScheduled = changes;
      scheduled = debounce;
      scheduler.schedule(this::check, debounce);
    }
  }

  /**
   * Records activity that is about to become a change (a registration whose request waits for the
   * scheduler): while a push is pending, it restarts the quiet period as a change would, so that a
   * scheduler too busy to record the changes themselves does not find a quiet period that was not
   * there. Nothing when no push is pending (the change itself will start one).
   */
  public synchronized void touch() {
    if (pending) {
      last = clock.instant();
      changes++;
    }
  }

  private void check() {
    synchronized (this) {
      Instant now = clock.instant();
      Duration quiet = Duration.between(last, now);
      // No change since this check was scheduled: the scheduler itself waited the quiet period
      // (this also holds when the clock does not move, e.g. a fixed clock).
      boolean quietEnough =
          (changes == changesWhenScheduled || quiet.compareTo(debounce) >= 0)
              && (debounce.isZero() || !underWay.getAsBoolean());
      // Waited: by the clock, or by the scheduler's delays when the clock does not move.
      boolean waitedEnough =
          Duration.between(first, now).compareTo(maxDelay) >= 0
              || scheduled.compareTo(maxDelay) >= 0;
      if (!quietEnough && !waitedEnough) {
        changesWhenScheduled = changes;
        Duration rest = debounce.minus(quiet);
        Duration delay = rest.isNegative() || rest.isZero() ? debounce : rest;
        scheduled = scheduled.plus(delay);
        scheduler.schedule(this::check, delay);
        return;
      }
      pending = false;
    }
    push.run();
  }
}
