package dev.weft.controlplane.xds;

import dev.weft.controlplane.push.PushContext;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * One proxy's resources of one type in one push context, generated ahead of the response that needs
 * them ({@link GenerationPool}): by a pool thread if one gets to it first ({@link #run}), else by
 * the executor that sends the response ({@link #take}). The executor never waits for a pool thread:
 * what a pool thread has not finished, the executor generates itself (a pool thread that started
 * may be descheduled on a busy machine, and the executor waiting for it held every stream behind
 * it). A pool thread skips what the executor or a newer context claimed first.
 *
 * <p>What it computes must be a pure function of the immutable push context and the proxy, which is
 * what makes generating it on another thread safe: the context's caches ({@code
 * PushContext.cached}, {@code ResourceCache}) are concurrent, and the generators keep no state of
 * their own.
 *
 * @param <T> what is generated
 */
final class Prefetch<T> {
  private static final int NEW = 0;
  private static final int CLAIMED = 1;
  private static final int CANCELLED = 2;

  private final PushContext context;
  private final Supplier<T> compute;
  private final AtomicInteger state = new AtomicInteger(NEW);
  private final CompletableFuture<T> result = new CompletableFuture<>();

  /** Whether {@link #take} got a pool thread's result. Read and written by the executor. */
  private boolean fromPool;

  Prefetch(PushContext context, Supplier<T> compute) {
    this.context = context;
    this.compute = compute;
  }

  /** Whether it was made for {@code other} (by identity: a newer context is another snapshot). */
  boolean of(PushContext other) {
    return context == other;
  }

  /** Generates it unless someone claimed it first. On a generation pool thread. */
  void run() {
    if (!state.compareAndSet(NEW, CLAIMED)) {
      return;
    }
    try {
      result.complete(compute.get());
    } catch (RuntimeException | Error e) {
      result.completeExceptionally(e);
    }
  }

  /**
   * What it generates: the pool thread's result if it is done, else generated here (also when a
   * pool thread is still on it, or it was cancelled). A failure of the pool's generation is thrown
   * as it was thrown.
   */
  T take() {
    if (!result.isDone()) {
      state.compareAndSet(NEW, CLAIMED);
      return compute.get();
    }
    fromPool = true;
    try {
      return result.join();
    } catch (CompletionException e) {
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      if (e.getCause() instanceof Error r) {
        throw r;
      }
      throw e;
    }
  }

  /** Whether {@link #take} returned what a pool thread generated (not the executor). */
  boolean fromPool() {
    return fromPool;
  }

  /** Not needed any more: a pool thread that has not started on it skips it. */
  void cancel() {
    state.compareAndSet(NEW, CANCELLED);
  }

  /** Whether a pool thread or {@link #take} started generating it (for tests). */
  boolean claimed() {
    return state.get() == CLAIMED;
  }
}
