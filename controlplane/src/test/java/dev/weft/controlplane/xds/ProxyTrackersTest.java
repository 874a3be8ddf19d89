package dev.weft.controlplane.xds;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link ProxyTrackers#combine}'s sync wait waits on both services at once: it ends when both have
 * finished, as soon as either reports a NACK, or at the timeout, within the timeout and one final
 * report's wait whatever the services' executors do.
 */
class ProxyTrackersTest {
  /** Runs the blocking calls under test, so that the test's thread can drive the executors. */
  private final ExecutorService caller = Executors.newSingleThreadExecutor();

  @AfterEach
  void stopCaller() {
    caller.shutdownNow();
  }

  /**
   * The control plane gives both services one executor; stuck, each side answers that nothing is
   * known pushed after the timeout and its final report's wait, and the two waits run side by side
   * (one after the other they took the timeout and twice that wait).
   */
  @Test
  void aStuckExecutorIsWaitedForOnceNotOncePerService() {
    Duration timeout = Duration.ofMillis(200);
    Duration finalReportWait = Duration.ofSeconds(2);
    Executor stuck = task -> {};
    SyncWaiters sotw = new SyncWaiters(stuck, g -> pending(6, "a"), finalReportWait);
    SyncWaiters delta = new SyncWaiters(stuck, g -> pending(6, "b"), finalReportWait);
    ProxyTracker both = ProxyTrackers.combine(tracker(sotw), tracker(delta));

    long start = System.nanoTime();
    SyncReport r =
        assertTimeoutPreemptively(Duration.ofSeconds(30), () -> both.awaitSync(7, timeout));
    Duration took = Duration.ofNanos(System.nanoTime() - start);

    assertThat(took).isGreaterThanOrEqualTo(timeout.plus(finalReportWait));
    assertThat(took)
        .as("one final report's wait, not one per service")
        .isLessThan(timeout.plus(finalReportWait.multipliedBy(2)));
    assertThat(r.pushedGeneration()).isEqualTo(-1);
    assertThat(r.proxies()).isEmpty();
    assertThat(r.finished()).isFalse();
  }

  /**
   * A NACK on the state-of-the-world side ends the wait while the delta side still waits: the delta
   * side answers its report of that moment, long before the timeout.
   */
  @Test
  void aStateOfTheWorldNackEndsTheWaitAtOnce() throws Exception {
    ManualExecutor sotwExecutor = new ManualExecutor();
    ManualExecutor deltaExecutor = new ManualExecutor();
    AtomicReference<SyncReport> sotwNow = new AtomicReference<>(pending(7, "b"));
    SyncWaiters sotw = new SyncWaiters(sotwExecutor, g -> sotwNow.get());
    SyncWaiters delta = new SyncWaiters(deltaExecutor, g -> pending(7, "a"));
    ProxyTracker both = ProxyTrackers.combine(tracker(sotw), tracker(delta));

    CompletableFuture<SyncReport> call = call(() -> both.awaitSync(7, Duration.ofMinutes(1)));
    deltaExecutor.runNext(); // takes the call up: pending
    sotwExecutor.runNext(); // the same
    assertThat(call).isNotDone();

    sotwNow.set(report(7, 1, SyncReport.State.NACKED, "b"));
    sotwExecutor.execute(sotw::check); // as the service does after a discovery request
    sotwExecutor.runNext();
    deltaExecutor.runNext(); // asked for its report now

    SyncReport r = call.get(10, SECONDS);
    assertThat(r.failed()).isTrue();
    assertThat(r.proxies()).extracting(SyncReport.ProxySync::id).containsExactly("a", "b");
    assertThat(sotwExecutor.idle()).isTrue();
    assertThat(deltaExecutor.idle()).isTrue();
  }

  /** Both done: both services' proxies by id, the older pushed generation, both counts. */
  @Test
  void bothDoneIsOneReportOfBoth() throws Exception {
    SyncReport sotwDone = report(9, 2, SyncReport.State.ACKED, "d", "b");
    SyncReport deltaDone = report(8, 3, SyncReport.State.ACKED, "c", "a");
    ProxyTracker both =
        ProxyTrackers.combine(
            tracker(new SyncWaiters(Runnable::run, g -> sotwDone)),
            tracker(new SyncWaiters(Runnable::run, g -> deltaDone)));

    SyncReport r =
        assertTimeoutPreemptively(
            Duration.ofSeconds(10), () -> both.awaitSync(7, Duration.ofMinutes(1)));

    assertThat(r.done()).isTrue();
    assertThat(r.generation()).isEqualTo(7);
    assertThat(r.pushedGeneration()).isEqualTo(8);
    assertThat(r.connected()).isEqualTo(5);
    assertThat(r.proxies())
        .extracting(SyncReport.ProxySync::id)
        .containsExactly("a", "b", "c", "d");
  }

  /**
   * One side done first does not end the wait, nor ask the other for its report: the report comes
   * when the other is done too.
   */
  @Test
  void oneSideDoneWaitsForTheOther() {
    ManualExecutor sotwExecutor = new ManualExecutor();
    ManualExecutor deltaExecutor = new ManualExecutor();
    AtomicReference<SyncReport> deltaNow = new AtomicReference<>(pending(7, "a"));
    SyncWaiters sotw =
        new SyncWaiters(sotwExecutor, g -> report(7, 1, SyncReport.State.ACKED, "b"));
    SyncWaiters delta = new SyncWaiters(deltaExecutor, g -> deltaNow.get());
    SyncWait wait =
        ProxyTrackers.combine(tracker(sotw), tracker(delta)).startSync(7, Duration.ofMinutes(1));
    CompletableFuture<SyncReport> report = wait.report().toCompletableFuture();

    sotwExecutor.runAll(); // done at once
    deltaExecutor.runAll(); // pending
    assertThat(report).isNotDone();
    assertThat(deltaExecutor.idle()).as("the delta side was not asked for its report now").isTrue();

    deltaNow.set(report(7, 1, SyncReport.State.ACKED, "a"));
    deltaExecutor.execute(delta::check);
    deltaExecutor.runAll();
    assertThat(report).isCompleted();
    SyncReport r = report.join();
    assertThat(r.done()).isTrue();
    assertThat(r.proxies()).extracting(SyncReport.ProxySync::id).containsExactly("a", "b");
    assertThat(r.connected()).isEqualTo(2);
  }

  /** A service's tracker as far as its sync wait goes. */
  private static ProxyTracker tracker(SyncWaiters waiters) {
    return new ProxyTracker() {
      @Override
      public List<ProxyStatus> proxies() {
        return List.of();
      }

      @Override
      public SyncWait startSync(long generation, Duration timeout) {
        return waiters.start(generation, timeout);
      }
    };
  }

  /** A report of generation 7 in which {@code ids} are affected and their RDS in {@code state}. */
  private static SyncReport report(
      long pushedGeneration, int connected, SyncReport.State state, String... ids) {
    ProxyStatus.Nack nack =
        state == SyncReport.State.NACKED ? new ProxyStatus.Nack("v1", "n1", 3, "rejected") : null;
    return new SyncReport(
        7,
        pushedGeneration,
        connected,
        Arrays.stream(ids)
            .map(
                id ->
                    new SyncReport.ProxySync(
                        id,
                        id,
                        "sidecar",
                        Map.of("RDS", new SyncReport.TypeSync("v1", 7, state, nack))))
            .toList());
  }

  /** A report of generation 7 in which {@code id} has not answered it yet. */
  private static SyncReport pending(long pushedGeneration, String id) {
    return report(pushedGeneration, 1, SyncReport.State.PENDING, id);
  }

  private CompletableFuture<SyncReport> call(BlockingCall call) {
    CompletableFuture<SyncReport> out = new CompletableFuture<>();
    caller.execute(
        () -> {
          try {
            out.complete(call.run());
          } catch (Throwable t) {
            out.completeExceptionally(t);
          }
        });
    return out;
  }

  private interface BlockingCall {
    SyncReport run() throws InterruptedException;
  }

  /** An executor that runs its tasks when the test says, on the test's thread. */
  private static final class ManualExecutor implements Executor {
    private final BlockingQueue<Runnable> tasks = new LinkedBlockingQueue<>();

    @Override
    public void execute(Runnable task) {
      tasks.add(task);
    }

    /** Runs the next task, waiting for it to be submitted. */
    void runNext() throws InterruptedException {
      Runnable task = tasks.poll(10, SECONDS);
      assertThat(task).as("a task submitted within 10 s").isNotNull();
      task.run();
    }

    /** Runs the tasks submitted so far, and those they submit. */
    void runAll() {
      for (Runnable task; (task = tasks.poll()) != null; ) {
        task.run();
      }
    }

    /** Whether no task is waiting to run. */
    boolean idle() {
      return tasks.isEmpty();
    }
  }
}
