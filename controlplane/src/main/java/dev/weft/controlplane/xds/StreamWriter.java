package dev.weft.controlplane.xds;

import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.ArrayDeque;
import java.util.Queue;
import java.util.concurrent.Executor;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * One ADS stream's outbound side: its responses are serialised and handed to gRPC in order, on a
 * pool shared by every stream (one task per stream at a time), not on the control plane's
 * serializing executor. So the copies of a push (a 512 KB CDS to each of 2000 proxies) spread over
 * the cores while the executor goes on deciding what each stream gets.
 *
 * <p>Back-pressure stays per stream: the stream is {@link #ready} only when nothing of its own is
 * waiting here and gRPC's flow control has room, so the ADS server writes a stream that is not
 * ready nothing more (it remembers what the stream missed) and a slow proxy holds at most its one
 * response in flight. When a stream's queue empties with room left, {@code drained} runs (the
 * server frees its push slot), as gRPC's on-ready handler does when the proxy reads.
 *
 * <p>{@link #write}, {@link #error} and {@link #complete} may be called from any thread; the
 * stream's observer is called by one thread at a time.
 *
 * @param <T> the response type
 */
final class StreamWriter<T> {
  private final StreamObserver<T> out;
  private final Executor pool;
  private final Runnable drained;
  private final Consumer<RuntimeException> failed;
  private final Predicate<T> compress;

  // Guarded by this.
  private final Queue<Runnable> queue = new ArrayDeque<>();
  private boolean running;

  /**
   * @param out the stream
   * @param pool where the writes run
   * @param drained runs (on the pool) when the queue empties and the stream is still ready
   * @param failed runs (on the pool) when the stream refused a write: it is gone
   */
  StreamWriter(
      StreamObserver<T> out, Executor pool, Runnable drained, Consumer<RuntimeException> failed) {
    this(out, pool, drained, failed, null);
  }

  /**
   * @param compress whether gRPC compresses a response, when the stream is compressed (gRPC's
   *     {@code setMessageCompression}, set before each write); null: gRPC's default for every
   *     message
   */
  StreamWriter(
      StreamObserver<T> out,
      Executor pool,
      Runnable drained,
      Consumer<RuntimeException> failed,
      Predicate<T> compress) {
    this.out = out;
    this.pool = pool;
    this.drained = drained;
    this.failed = failed;
    this.compress = compress;
  }

  /** Queues {@code response}. */
  void write(T response) {
    if (compress != null && out instanceof ServerCallStreamObserver<T> call) {
      enqueue(
          () -> {
            call.setMessageCompression(compress.test(response));
            call.onNext(response);
          });
    } else {
      enqueue(() -> out.onNext(response));
    }
  }

  /** Queues the end of the stream with {@code error}, after what is queued. */
  void error(Throwable error) {
    enqueue(() -> out.onError(error));
  }

  /** Queues the stream's completion, after what is queued. */
  void complete() {
    enqueue(out::onCompleted);
  }

  /**
   * Whether the stream may be written without queueing in memory: nothing of it waits here and
   * gRPC's flow control lets more through.
   */
  boolean ready() {
    synchronized (this) {
      if (running || !queue.isEmpty()) {
        return false;
      }
    }
    return gRpcReady();
  }

  /** What the writer holds, for diagnostics: queued writes, whether it runs, gRPC's readiness. */
  String state() {
    int queued;
    boolean run;
    synchronized (this) {
      queued = queue.size();
      run = running;
    }
    return "queued=" + queued + " running=" + run + " grpcReady=" + gRpcReady();
  }

  private boolean gRpcReady() {
    return !(out instanceof ServerCallStreamObserver<T> call) || call.isReady();
  }

  private void enqueue(Runnable write) {
    synchronized (this) {
      queue.add(write);
      if (running) {
        return;
      }
      running = true;
    }
    try {
      pool.execute(this::drain);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      synchronized (this) { // the control plane is stopping: its streams end with it
        queue.clear();
        running = false;
      }
    }
  }

  private void drain() {
    while (true) {
      Runnable next;
      synchronized (this) {
        next = queue.poll();
        if (next == null) {
          running = false;
          break;
        }
      }
      try {
        next.run();
      } catch (RuntimeException e) {
        synchronized (this) {
          queue.clear();
          running = false;
        }
        failed.accept(e);
        return;
      }
    }
    if (gRpcReady()) {
      drained.run();
    }
  }
}
