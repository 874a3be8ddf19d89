package dev.weft.controlplane.xds;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;

/**
 * One wait for a config generation's {@link SyncReport}, as {@link ProxyTracker#startSync} began
 * it: its {@link #report answer}, and a way to ask for that answer {@link #answerNow early}. The
 * tracker that made it answers it; whoever started it may ask it to answer now, wait for it, or
 * drop it (it ends at its timeout on its own).
 */
public final class SyncWait {
  private final CompletableFuture<SyncReport> report;
  private final Runnable answerNow;

  /**
   * @param report completed by the tracker with the answer
   * @param answerNow asks the tracker for its report of that moment; does nothing when asked before
   */
  SyncWait(CompletionStage<SyncReport> report, Runnable answerNow) {
    this.report = report.toCompletableFuture();
    this.answerNow = answerNow;
  }

  /**
   * The answer: the generation's report once it is {@link SyncReport#finished finished}, else the
   * report of the moment the timeout passed or {@link #answerNow} was called. Completes within the
   * timeout and the tracker's wait for its final report, on the thread that answers (a service's
   * executor or the trackers' timer): what depends on it must be short and never block. Completes
   * exceptionally only when a service's executor refused the work (it was shut down).
   */
  public CompletionStage<SyncReport> report() {
    return report.minimalCompletionStage();
  }

  /**
   * Asks for the report of this moment instead of waiting for a finished one or the timeout; it
   * comes within the tracker's wait for its final report. Does nothing once answered, or the second
   * time.
   */
  public void answerNow() {
    if (!report.isDone()) {
      answerNow.run();
    }
  }

  /**
   * Blocks until {@link #report} completes and returns it. Interrupted, asks for the answer now (so
   * that the tracker drops the wait soon) and throws.
   */
  public SyncReport await() throws InterruptedException {
    try {
      return report.get();
    } catch (InterruptedException e) {
      answerNow();
      throw e;
    } catch (ExecutionException e) {
      throw e.getCause() instanceof RuntimeException r
          ? r
          : new IllegalStateException(e.getCause());
    }
  }
}
