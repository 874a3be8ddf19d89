package dev.weft.controlplane.xds;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * A {@link SyncWaiters#start} wait ends within its timeout and the final report's bound whatever
 * the executor does: {@code weft apply --wait} must not hang on a busy or stuck control plane.
 * Asked to answer now, it answers the executor's report of that moment.
 */
class SyncWaitersTest {
  private static final Duration BOUND = Duration.ofMillis(50);

  /** An executor that never runs a task (a stuck control plane). */
  private static final Executor STUCK = task -> {};

  @Test
  void anExecutorThatRunsNothingIsAnsweredThatNothingIsKnownPushed() {
    SyncWaiters waiters =
        new SyncWaiters(
            STUCK,
            g -> {
              throw new AssertionError("the executor runs nothing");
            },
            BOUND);
    for (Duration timeout : List.of(Duration.ZERO, Duration.ofMillis(20))) {
      SyncReport r =
          assertTimeoutPreemptively(Duration.ofSeconds(5), () -> waiters.start(7, timeout).await());
      assertThat(r.generation()).isEqualTo(7);
      assertThat(r.pushedGeneration()).isEqualTo(-1);
      assertThat(r.pushed()).isFalse();
      assertThat(r.finished()).isFalse();
    }
  }

  /** An executor that takes the call up, then is stuck: the last report it made. */
  @Test
  void anExecutorStuckAfterItsFirstReportIsAnsweredThatReport() {
    AtomicInteger ran = new AtomicInteger();
    Executor firstOnly =
        task -> {
          if (ran.getAndIncrement() == 0) {
            task.run();
          }
        };
    SyncReport pending = new SyncReport(7, 6, 3, List.of());
    SyncWaiters waiters = new SyncWaiters(firstOnly, g -> pending, BOUND);
    SyncReport r =
        assertTimeoutPreemptively(
            Duration.ofSeconds(5), () -> waiters.start(7, Duration.ofMillis(20)).await());
    assertThat(r).isEqualTo(pending);
    assertThat(ran.get()).as("the final report was asked of the executor").isEqualTo(2);
  }

  /**
   * Asked before its timeout, a wait answers the executor's report of that moment; asking again, or
   * after the answer, hands the executor nothing more.
   */
  @Test
  void answerNowAnswersTheReportOfThatMoment() {
    Queue<Runnable> tasks = new ArrayDeque<>();
    SyncReport pending = new SyncReport(7, 6, 3, List.of());
    SyncWaiters waiters = new SyncWaiters(tasks::add, g -> pending, BOUND);
    SyncWait wait = waiters.start(7, Duration.ofMinutes(1));
    CompletableFuture<SyncReport> report = wait.report().toCompletableFuture();
    tasks.remove().run(); // takes it up: pending
    assertThat(report).isNotDone();

    wait.answerNow();
    wait.answerNow();
    assertThat(tasks).hasSize(1);
    tasks.remove().run();
    assertThat(report).isCompletedWithValue(pending);
    wait.answerNow();
    waiters.check();
    assertThat(tasks).isEmpty();
  }
}
