package dev.weft.controlplane.xds;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.stub.StreamObserver;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class StreamWriterTest {
  /** A pool the test runs by hand. */
  private static final class ManualPool implements Executor {
    final Queue<Runnable> tasks = new ArrayDeque<>();

    @Override
    public void execute(Runnable r) {
      tasks.add(r);
    }

    void runAll() {
      while (!tasks.isEmpty()) {
        tasks.poll().run();
      }
    }
  }

  private static final class Recorder implements StreamObserver<String> {
    final List<String> seen = new ArrayList<>();
    RuntimeException refuse;

    @Override
    public void onNext(String value) {
      if (refuse != null) {
        throw refuse;
      }
      seen.add(value);
    }

    @Override
    public void onError(Throwable t) {
      seen.add("error: " + t.getMessage());
    }

    @Override
    public void onCompleted() {
      seen.add("completed");
    }
  }

  @Test
  void writesRunInOrderOnThePoolAsOneTaskAndTheStreamIsNotReadyUntilTheyRan() {
    ManualPool pool = new ManualPool();
    Recorder out = new Recorder();
    AtomicInteger drained = new AtomicInteger();
    StreamWriter<String> w = new StreamWriter<>(out, pool, drained::incrementAndGet, e -> {});
    assertThat(w.ready()).isTrue();

    w.write("cds");
    w.write("eds");
    w.complete();
    assertThat(out.seen).as("nothing written on the caller's thread").isEmpty();
    assertThat(w.ready()).isFalse();
    assertThat(pool.tasks).as("one task for the stream, however many writes").hasSize(1);

    pool.runAll();
    assertThat(out.seen).containsExactly("cds", "eds", "completed");
    assertThat(w.ready()).isTrue();
    assertThat(drained).as("the server hears that the stream has room again").hasValue(1);
  }

  @Test
  void aRefusedWriteReportsTheStreamGoneAndDropsTheRest() {
    ManualPool pool = new ManualPool();
    Recorder out = new Recorder();
    out.refuse = new IllegalStateException("call closed");
    AtomicReference<RuntimeException> failed = new AtomicReference<>();
    AtomicInteger drained = new AtomicInteger();
    StreamWriter<String> w = new StreamWriter<>(out, pool, drained::incrementAndGet, failed::set);
    w.write("cds");
    w.write("eds");
    pool.runAll();
    assertThat(failed.get()).hasMessage("call closed");
    assertThat(drained).hasValue(0);
    assertThat(w.ready()).isTrue(); // nothing queued any more
  }

  @Test
  void aStoppedPoolDropsTheWritesQuietly() {
    StreamWriter<String> w =
        new StreamWriter<>(
            new Recorder(),
            r -> {
              throw new java.util.concurrent.RejectedExecutionException("shut down");
            },
            () -> {},
            e -> {});
    w.write("cds");
    assertThat(w.ready()).isTrue();
  }
}
