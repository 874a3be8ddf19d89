package dev.weft.controlplane.xds;

import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongFunction;

/**
 * An ADS service's {@link ProxyTracker#startSync} waits: each is answered its generation's {@link
 * SyncReport}, made by the service on its serializing executor, once that is {@link
 * SyncReport#finished}, or else at its timeout (or when {@link SyncWait#answerNow} asks) the report
 * of that moment. The service calls {@link #check} on its executor after whatever may move a report
 * (a discovery request, a push, a drained or closed stream). The waits not answered yet are owned
 * by the executor; {@link #start} hands everything to it and to a timer, and blocks nothing.
 *
 * <p>The report of the timeout's moment comes from the executor too, which may be busy (a connect
 * storm's first answers) or stuck: a wait gives it {@link #FINAL_REPORT_WAIT} at most, then answers
 * the newest report the executor made for it (not finished, or it would have been answered), or,
 * when the executor never took it up, one that knows nothing pushed ({@link
 * SyncReport#pushedGeneration} -1). So {@code weft apply --wait} ends within its timeout and that
 * bound, whatever the executor does.
 */
final class SyncWaiters {
  private static final System.Logger logger = System.getLogger(SyncWaiters.class.getName());

  /**
   * How long a wait gives the executor past its timeout for its report of that moment: as long as
   * the delta service's {@code flowState} waits for the executor.
   */
  static final Duration FINAL_REPORT_WAIT = Duration.ofSeconds(10);

  /**
   * Fires the waits' timeouts and final reports' bounds: not a service's executor, which may be the
   * one not answering. One daemon thread for every {@link SyncWaiters}; its tasks only hand work to
   * an executor or answer a wait.
   */
  private static final ScheduledExecutorService TIMER = timer();

  private final Executor executor;
  private final LongFunction<SyncReport> report;
  private final Duration finalReportWait;

  /** The waits not answered yet that the executor took up. Owned by the executor. */
  private final List<Waiter> waiters = new ArrayList<>();

  /**
   * @param executor the service's serializing executor
   * @param report the service's report of a generation, from its streams' state; run on {@code
   *     executor}
   */
  SyncWaiters(Executor executor, LongFunction<SyncReport> report) {
    this(executor, report, FINAL_REPORT_WAIT);
  }

  /**
   * @param finalReportWait how long a wait gives the executor past its timeout for its report
   *     ({@link #FINAL_REPORT_WAIT}; tests pass less)
   */
  SyncWaiters(Executor executor, LongFunction<SyncReport> report, Duration finalReportWait) {
    this.executor = executor;
    this.report = report;
    this.finalReportWait = finalReportWait;
  }

  private static ScheduledExecutorService timer() {
    ScheduledThreadPoolExecutor timer =
        new ScheduledThreadPoolExecutor(1, new DaemonThreads("weft-xds-sync-timer-"));
    timer.setRemoveOnCancelPolicy(true); // most waits are answered before their timeout
    return timer;
  }

  /**
   * Starts waiting for {@code generation} as {@link ProxyTracker#startSync} does: every answer is
   * computed on the executor, so it is never older than the last request, push and closed stream it
   * handled. A zero or negative timeout asks for the report now. Answered within {@code timeout}
   * and {@link #FINAL_REPORT_WAIT}, or failed at once with a {@link RejectedExecutionException}
   * when the executor is shut down.
   */
  SyncWait start(long generation, Duration timeout) {
    Waiter w = new Waiter(generation);
    if (timeout.isZero() || timeout.isNegative()) {
      w.answerNow();
    } else if (w.hand(w::takeUp)) {
      w.after(timeout, w::answerNow);
    }
    return new SyncWait(w.answer, w::answerNow);
  }

  /**
   * Answers the waits whose generation has reached every affected proxy or was NACKed (one report
   * per generation waited for), and drops those answered otherwise. On the executor.
   */
  void check() {
    if (waiters.isEmpty()) {
      return;
    }
    Map<Long, SyncReport> reports = new HashMap<>();
    List<Waiter> finished = new ArrayList<>();
    for (Iterator<Waiter> it = waiters.iterator(); it.hasNext(); ) {
      Waiter w = it.next();
      if (w.answer.isDone()) {
        it.remove();
        continue;
      }
      SyncReport r = reports.computeIfAbsent(w.generation, report::apply);
      w.last = r;
      if (r.finished()) {
        finished.add(w);
        it.remove();
      }
    }
    // After the loop: what depends on an answer runs now, and may start another wait.
    for (Waiter w : finished) {
      w.answer.complete(w.last);
    }
  }

  /**
   * One wait: answered by the executor ({@link #takeUp}, {@link #check}, {@link #answerNow}'s
   * report) or, when the executor does not give its report of the moment in time, by the timer.
   */
  private final class Waiter {
    private final long generation;
    private final CompletableFuture<SyncReport> answer = new CompletableFuture<>();

    /** Whether the report of the moment was asked of the executor; once at most. */
    private final AtomicBoolean askedNow = new AtomicBoolean();

    /**
     * The newest report the executor made for this wait: set on the executor, read by the timer
     * when the executor does not answer.
     */
    private volatile SyncReport last;

    Waiter(long generation) {
      this.generation = generation;
    }

    /** Answers a report already finished, else waits for {@link #check}. On the executor. */
    void takeUp() {
      if (answer.isDone()) { // the report of the moment was asked and answered before
        return;
      }
      SyncReport now = report.apply(generation);
      last = now;
      if (now.finished()) {
        answer.complete(now);
      } else {
        waiters.add(this);
      }
    }

    /**
     * Asks the executor for the report of this moment, and answers the newest it made if it does
     * not answer within the final report's wait. Does nothing once answered or asked. Any thread.
     */
    void answerNow() {
      if (answer.isDone() || !askedNow.compareAndSet(false, true)) {
        return;
      }
      boolean handed =
          hand(
              () -> {
                waiters.remove(this);
                if (!answer.isDone()) {
                  SyncReport now = report.apply(generation);
                  last = now;
                  answer.complete(now);
                }
              });
      if (handed) {
        after(finalReportWait, this::answerLast);
      }
    }

    /** Answers the newest report the executor made, or one that knows nothing pushed. */
    private void answerLast() {
      SyncReport newest = last;
      if (answer.complete(newest != null ? newest : new SyncReport(generation, -1, 0, List.of()))) {
        logger.log(
            Level.WARNING,
            "awaitSync("
                + generation
                + "): the ADS executor did not answer within "
                + finalReportWait
                + "; answering "
                + (newest == null ? "that nothing is known pushed" : "its last report"));
      }
    }

    /** Hands {@code task} to the executor; whether it took it (else the wait fails). */
    boolean hand(Runnable task) {
      try {
        executor.execute(task);
        return true;
      } catch (RejectedExecutionException e) {
        answer.completeExceptionally(e);
        return false;
      }
    }

    /** Runs {@code action} on the timer after {@code delay}, unless answered before. */
    void after(Duration delay, Runnable action) {
      if (answer.isDone()) {
        return;
      }
      ScheduledFuture<?> timer = TIMER.schedule(action, delay.toNanos(), TimeUnit.NANOSECONDS);
      answer.whenComplete((r, e) -> timer.cancel(false));
    }
  }
}
