package dev.weft.controlplane.push;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentMap;
import java.util.function.Supplier;

/**
 * A cache value that one thread is computing, in the cache's place until it is done: another thread
 * that asks for the same key waits for it ({@link #await}) instead of computing it again. Per-proxy
 * generation runs on several threads at once ({@code xds.GenerationPool}), and the first streams of
 * a new push context all need the same shared values (a scope's thousands of outbound clusters,
 * their encodings): computed by each of them at once, they cost the cores that many times over and
 * each of them longer (Istio's XdsCache also computes a key once).
 *
 * <p>A computation may ask for other keys, as the push context's do (a scope asks for the mesh's
 * indexes, never the other way): the keys must not depend on each other in a cycle, or two threads
 * each computing one of them would wait for each other.
 */
final class Pending {
  private final Thread owner = Thread.currentThread();
  private final CompletableFuture<Object> value = new CompletableFuture<>();

  /**
   * {@code key}'s value in {@code map}, which holds none yet: computed here, with a {@link Pending}
   * in its place meanwhile for other threads to wait for; or, when another thread got there first,
   * that thread's ({@link #valueOf}). A computation that fails is forgotten (the next caller
   * computes again) and its waiters get its failure.
   */
  @SuppressWarnings("unchecked")
  static <K, T> T computeOnce(ConcurrentMap<K, Object> map, K key, Supplier<T> compute) {
    Pending mine = new Pending();
    Object other = map.putIfAbsent(key, mine);
    if (other != null) {
      return valueOf(other, compute);
    }
    T computed;
    try {
      computed = compute.get();
    } catch (RuntimeException | Error e) {
      map.remove(key, mine);
      mine.fail(e);
      throw e;
    }
    map.replace(key, mine, computed);
    mine.complete(computed);
    return computed;
  }

  /**
   * What a cache holds for a key, as its value: itself, or when another thread is computing it (a
   * {@link Pending}), that thread's result once it is done; computed again when it is this thread's
   * own computation that asks ({@link #mine}).
   */
  @SuppressWarnings("unchecked")
  static <T> T valueOf(Object held, Supplier<T> compute) {
    if (held instanceof Pending p) {
      return p.mine() ? compute.get() : (T) p.await();
    }
    return (T) held;
  }

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
