package dev.weft.controlplane.push;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

/**
 * Istio's push debounce: after a change, wait until no change has come for {@code debounce} (but no
 * longer than {@code maxDelay} after the first change), then run the push once for all of them
 * (pilot's {@code debounce}: {@code debounceAfter}, {@code debounceMax}). Thread-safe; the push
 * runs on the scheduler.
 *
 * <p>Changes that the scheduler's own tasks record (a proxy's registration, handled on the control
 * plane's serializing executor) are recorded when their task runs, not when they arrived: a check
 * that runs after a long task (a push to hundreds of streams) would find the quiet period over
 * while the registrations that came during that task still wait in the queue behind it. So a check
 * that finds the quiet period over looks once more from the back of the queue ({@code
 * Duration.ZERO}: after every task already due) before it pushes; in a connect storm the quiet
 * period then ends when the registrations stop, not whenever the executor was busy for {@code
 * debounce}.
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

  /** The check found the quiet period over and looks again once the tasks already due ran. */
  private boolean confirming;

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
    changes++;
    if (!pending) {
      pending = true;
      first = last;
      changesWhenScheduled = changes;
      scheduled = debounce;
      scheduler.schedule(this::check, debounce);
    }
  }

  private void check() {
    synchronized (this) {
      Instant now = clock.instant();
      Duration quiet = Duration.between(last, now);
      // No change since this check was scheduled: the scheduler itself waited the quiet period
      // (this also holds when the clock does not move, e.g. a fixed clock).
      boolean quietEnough = changes == changesWhenScheduled || quiet.compareTo(debounce) >= 0;
      // Waited: by the clock, or by the scheduler's delays when the clock does not move.
      boolean waitedEnough =
          Duration.between(first, now).compareTo(maxDelay) >= 0
              || scheduled.compareTo(maxDelay) >= 0;
      if (!quietEnough && !waitedEnough) {
        confirming = false;
        changesWhenScheduled = changes;
        Duration rest = debounce.minus(quiet);
        Duration delay = rest.isNegative() || rest.isZero() ? debounce : rest;
        scheduled = scheduled.plus(delay);
        scheduler.schedule(this::check, delay);
        return;
      }
      if (!waitedEnough && !confirming && !debounce.isZero()) {
        // Quiet, unless changes wait in the scheduler's queue: look again behind them.
        confirming = true;
        changesWhenScheduled = changes;
        scheduler.schedule(this::check, Duration.ZERO);
        return;
      }
      confirming = false;
      pending = false;
    }
    push.run();
  }
}
