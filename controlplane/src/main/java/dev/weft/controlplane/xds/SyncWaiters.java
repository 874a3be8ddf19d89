package dev.weft.controlplane.xds;

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
import java.util.function.LongFunction;

/**
 * An ADS service's {@link ProxyTracker#awaitSync} calls: each waits until its generation's {@link
 * SyncReport}, made by the service on its serializing executor, is {@link SyncReport#finished}, or
 * until its timeout, and is then answered the report of that moment. The service calls {@link
 * #check} on its executor after whatever may move a report (a discovery request, a push, a drained
 * or closed stream). The waiting calls are owned by the executor; {@link #await} runs on the
 * caller's thread and hands everything else to the executor.
 */
final class SyncWaiters {
  private final Executor executor;
  private final LongFunction<SyncReport> report;

  /** {@link #await} calls not finished yet. Owned by the executor. */
  private final List<Waiter> waiters = new ArrayList<>();

  /**
   * @param executor the service's serializing executor
   * @param report the service's report of a generation, from its streams' state; run on {@code
   *     executor}
   */
  SyncWaiters(Executor executor, LongFunction<SyncReport> report) {
    this.executor = executor;
    this.report = report;
  }

  /**
   * Waits for {@code generation} as {@link ProxyTracker#awaitSync} does: the answer is computed on
   * the executor, so it is never older than the last request, push and closed stream it handled. A
   * zero or negative timeout answers at once.
   */
  SyncReport await(long generation, Duration timeout) throws InterruptedException {
    CompletableFuture<SyncReport> finished = new CompletableFuture<>();
    executor.execute(
        () -> {
          SyncReport now = report.apply(generation);
          if (now.finished() || timeout.isZero() || timeout.isNegative()) {
            finished.complete(now);
          } else {
            waiters.add(new Waiter(generation, finished));
          }
        });
    try {
      return finished.get(Math.max(0, timeout.toNanos()), TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      finished.cancel(false); // dropped by the next check
      return reportNow(generation);
    } catch (ExecutionException e) {
      throw new IllegalStateException(e.getCause());
    }
  }

  /** The report of {@code generation} now, from the executor. */
  private SyncReport reportNow(long generation) throws InterruptedException {
    CompletableFuture<SyncReport> now = new CompletableFuture<>();
    executor.execute(
        () -> {
          waiters.removeIf(w -> w.finished.isDone()); // the caller's, cancelled at its timeout
          now.complete(report.apply(generation));
        });
    try {
      return now.get();
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
      if (r.finished()) {
        w.finished.complete(r);
        it.remove();
      }
    }
  }

  /** An {@link #await} call waiting on the executor. */
  private record Waiter(long generation, CompletableFuture<SyncReport> finished) {}
}
