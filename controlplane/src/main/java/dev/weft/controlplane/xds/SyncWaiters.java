package dev.weft.controlplane.xds;

import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongFunction;

/**
 * An ADS service's {@link ProxyTracker#awaitSync} calls: each waits until its generation's {@link
 * SyncReport}, made by the service on its serializing executor, is {@link SyncReport#finished}, or
 * until its timeout, and is then answered the report of that moment. The service calls {@link
 * #check} on its executor after whatever may move a report (a discovery request, a push, a drained
 * or closed stream). The waiting calls are owned by the executor; {@link #await} runs on the
 * caller's thread and hands everything else to the executor.
 *
 * <p>The report of the timeout's moment comes from the executor too, which may be busy (a connect
 * storm's first answers) or stuck: {@link #await} waits for it {@link #FINAL_REPORT_WAIT} at most,
 * then answers the newest report the executor made for it (not finished, or it would have been
 * answered), or, when the executor never took it up, one that knows nothing pushed ({@link
 * SyncReport#pushedGeneration} -1). So {@code weft apply --wait} ends within its timeout and that
 * bound, whatever the executor does.
 */
final class SyncWaiters {
  private static final System.Logger logger = System.getLogger(SyncWaiters.class.getName());

  /**
   * How long {@link #await} waits past its timeout for the executor's report of that moment: as
   * long as the delta service's {@code flowState} waits for the executor.
   */
  static final Duration FINAL_REPORT_WAIT = Duration.ofSeconds(10);

  private final Executor executor;
  private final LongFunction<SyncReport> report;
  private final Duration finalReportWait;

  /** {@link #await} calls not finished yet. Owned by the executor. */
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
   * @param finalReportWait how long {@link #await} waits past its timeout for the executor's report
   *     ({@link #FINAL_REPORT_WAIT}; tests pass less)
   */
  SyncWaiters(Executor executor, LongFunction<SyncReport> report, Duration finalReportWait) {
    this.executor = executor;
    this.report = report;
    this.finalReportWait = finalReportWait;
  }

  /**
   * Waits for {@code generation} as {@link ProxyTracker#awaitSync} does: the answer is computed on
   * the executor, so it is never older than the last request, push and closed stream it handled. A
   * zero or negative timeout answers at once. Returns within {@code timeout} and {@link
   * #FINAL_REPORT_WAIT}.
   */
  SyncReport await(long generation, Duration timeout) throws InterruptedException {
    CompletableFuture<SyncReport> finished = new CompletableFuture<>();
    AtomicReference<SyncReport> last = new AtomicReference<>();
    executor.execute(
        () -> {
          SyncReport now = report.apply(generation);
          last.set(now);
          if (now.finished() || timeout.isZero() || timeout.isNegative()) {
            finished.complete(now);
          } else {
            waiters.add(new Waiter(generation, finished, last));
          }
        });
    try {
      return finished.get(Math.max(0, timeout.toNanos()), TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      if (!finished.cancel(false)) { // dropped by the next check
        return finished.join(); // answered meanwhile
      }
      return reportNow(generation, last);
    } catch (ExecutionException e) {
      throw new IllegalStateException(e.getCause());
    }
  }

  /**
   * The report of {@code generation} now, from the executor; if it does not answer within {@link
   * #finalReportWait}, the {@code last} it made, or one that knows nothing pushed.
   */
  private SyncReport reportNow(long generation, AtomicReference<SyncReport> last)
      throws InterruptedException {
    CompletableFuture<SyncReport> now = new CompletableFuture<>();
    executor.execute(
        () -> {
          waiters.removeIf(w -> w.finished.isDone()); // the caller's, cancelled at its timeout
          now.complete(report.apply(generation));
        });
    try {
      return now.get(finalReportWait.toNanos(), TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      now.cancel(false);
      SyncReport newest = last.get();
      logger.log(
          Level.WARNING,
          "awaitSync("
              + generation
              + "): the ADS executor did not answer within "
              + finalReportWait
              + "; answering "
              + (newest == null ? "that nothing is known pushed" : "its last report"));
      return newest != null ? newest : new SyncReport(generation, -1, 0, List.of());
    } catch (ExecutionException e) {
      throw new IllegalStateException(e.getCause());
    }
  }

  /**
   * Completes the waiters whose generation has reached every affected proxy or was NACKed (one
   * report per generation waited for). On the executor.
   */
  void check() {
    if (waiters.isEmpty()) {
      return;
    }
    Map<Long, SyncReport> reports = new HashMap<>();
    for (Iterator<Waiter> it = waiters.iterator(); it.hasNext(); ) {
      Waiter w = it.next();
      if (w.finished.isDone()) {
        it.remove();
        continue;
      }
      SyncReport r = reports.computeIfAbsent(w.generation, report::apply);
      w.last.set(r);
      if (r.finished()) {
        w.finished.complete(r);
        it.remove();
      }
    }
  }

  /**
   * An {@link #await} call waiting on the executor; {@code last} is the newest report made for it
   * (set on the executor, read by the caller when the executor does not answer).
   */
  private record Waiter(
      long generation, CompletableFuture<SyncReport> finished, AtomicReference<SyncReport> last) {}
}
