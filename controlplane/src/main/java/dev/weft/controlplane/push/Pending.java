package dev.weft.controlplane.push;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * A cache value that one thread is computing, in the cache's place until it is done: another thread
 * that asks for the same key waits for it ({@link #await}) instead of computing it again. Per-proxy
 * generation runs on several threads at once ({@code xds.GenerationPool}), and the first streams of
 * a new push context all need the same shared values (a scope's thousands of outbound clusters,
 * their encodings): computed by each of them at once, they cost the cores that many times over and
 * each of them longer (Istio's XdsCache also computes a key once).
 */
final class Pending {
  private final Thread owner = Thread.currentThread();
  private final CompletableFuture<Object> value = new CompletableFuture<>();

  /**
   * Whether the calling thread is the one computing it: a computation that asks for its own key
   * again computes it again (it would wait for itself otherwise).
   */
  boolean mine() {
    return owner == Thread.currentThread();
  }

  void complete(Object v) {
    value.complete(v);
  }

  void fail(Throwable t) {
    value.completeExceptionally(t);
  }

  /** The value, once computed; the computation's failure is thrown as it was thrown. */
  Object await() {
    try {
      return value.join();
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
}
