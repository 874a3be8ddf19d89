package dev.weft.controlplane.xds;

import dev.weft.controlplane.push.PushContext;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * Generates streams' resources ahead of their responses, on threads of its own, so that per-proxy
 * generation spreads over the cores (istiod pushes each connection concurrently) while the streams'
 * state stays on the ADS services' executor. An ADS service starts a {@link Prefetch} for each type
 * it is about to send a stream: for the streams a push answers, {@link #lookahead} streams ahead of
 * the one its executor answers; for the streams next in line for a throttle slot; and for a request
 * as gRPC hands it over. The executor then {@link Ahead#take}s it, generating it itself when no
 * pool thread has finished it (it never waits for one). So the queue holds a few streams' work, and
 * a newer context (a connect storm builds several) makes little of it wasted.
 *
 * <p>One per control plane, shared by its ADS services; {@link #NONE} generates nothing ahead (the
 * executor generates everything).
 */
public final class GenerationPool {
  /**
   * The system property that sets how many threads generate ahead: one per core by default, {@code
   * 0} for none.
   */
  public static final String PROPERTY = "weft.xds.generators";

  /**
   * No pool: every {@link Ahead#take} generates on the executor. Shared (its report's counts mix
   * whoever uses it): a control plane without a pool gets one of its own from {@link #of}.
   */
  public static final GenerationPool NONE = new GenerationPool(null, 0);

  private final ExecutorService threads;
  private final int size;

  /**
   * How many times the executor took resources through {@link Ahead#take}, and how many of those a
   * pool thread had made. Written by the executor, read by its reports.
   */
  private long taken;

  private long takenFromPool;

  /** How many generations were started ahead (on the executor and on gRPC's threads). */
  private final AtomicLong started = new AtomicLong();

  private GenerationPool(ExecutorService threads, int size) {
    this.threads = threads;
    this.size = size;
  }

  /** A pool of {@code n} daemon threads named {@code name-1} ...; none when n is 0. */
  public static GenerationPool of(int n, String name) {
    if (n <= 0) {
      return new GenerationPool(null, 0);
    }
    return new GenerationPool(DaemonThreads.pool(n, name + "-"), n);
  }

  /** How many threads by default: {@link #PROPERTY}, else one per core. */
  public static int defaultThreads() {
    return threads(System.getProperty(PROPERTY), Runtime.getRuntime().availableProcessors());
  }

  /**
   * {@link #PROPERTY}'s value as a thread count ({@code cores} when unset); a value that is not a
   * count is refused, naming the property, rather than read as the default.
   */
  static int threads(String value, int cores) {
    if (value == null) {
      return cores;
    }
    try {
      int n = Integer.parseInt(value.trim());
      if (n >= 0) {
        return n;
      }
    } catch (NumberFormatException e) {
      // refused below
    }
    throw new IllegalArgumentException(
        "-D"
            + PROPERTY
            + "="
            + value
            + ": not a number of threads (0 for none; unset: one per core, "
            + cores
            + ")");
  }

  /** Whether it generates anything ahead. */
  boolean enabled() {
    return threads != null;
  }

  /**
   * How many streams ahead of the one its executor answers the pool should be generating for: four
   * per thread, so that its threads keep busy while each stream's answer is generated and sent, and
   * what a newer context replaces is at most that many streams' work. 0 without a pool.
   */
  int lookahead() {
    return 4 * size;
  }

  /** Runs {@code tasks} on the pool, in order; none once it is closed. */
  void submit(List<? extends Runnable> tasks) {
    if (threads == null) {
      return;
    }
    try {
      tasks.forEach(threads::execute);
    } catch (RejectedExecutionException e) {
      // Closing: the executor generates what it still sends.
    }
  }

  /**
   * "resources for N responses, M of them generated ahead of S started": how many responses the
   * executor took resources for, how many of those a pool thread had finished, and how many
   * generations were started ahead (some for a context that a newer one replaced, some that the
   * executor got to first).
   */
  String report() {
    return "resources for "
        + taken
        + " responses, "
        + takenFromPool
        + " of them generated ahead of "
        + started.get()
        + " started";
  }

  /** Stops its threads (its owner, the control plane, is stopping). */
  public void close() {
    if (threads != null) {
      threads.shutdownNow();
    }
  }

  /**
   * One stream's resources being generated ahead, by type: started on the executor and on gRPC's
   * thread, taken on the executor.
   *
   * @param <T> what is generated per type
   */
  final class Ahead<T> {
    private final Map<String, Prefetch<T>> byType = new ConcurrentHashMap<>(4);

    /**
     * Starts generating {@code type} from {@code context} unless that is under way already; returns
     * the new {@link Prefetch} for the caller to {@link #submit} (its run), or null. One of an
     * older context is cancelled.
     */
    Prefetch<T> start(String type, PushContext context, Supplier<T> compute) {
      if (threads == null) {
        return null;
      }
      Prefetch<T> now = byType.get(type);
      if (now != null && now.of(context)) {
        return null; // under way: the common case (the throttle's next in line, asked per drain)
      }
      @SuppressWarnings("unchecked")
      Prefetch<T>[] made = new Prefetch[1];
      byType.compute(
          type,
          (t, before) -> {
            if (before != null && before.of(context)) {
              return before;
            }
            if (before != null) {
              before.cancel();
            }
            return made[0] = new Prefetch<>(context, compute);
          });
      if (made[0] != null) {
        started.incrementAndGet();
      }
      return made[0];
    }

    /**
     * {@code type}'s resources in {@code context}: what the pool generated ahead, else {@code
     * compute}'s (on the calling executor). On the executor.
     */
    T take(String type, PushContext context, Supplier<T> compute) {
      Prefetch<T> ahead = byType.remove(type);
      taken++;
      if (ahead != null && ahead.of(context)) {
        T out = ahead.take();
        if (ahead.fromPool()) {
          takenFromPool++;
        }
        return out;
      }
      if (ahead != null) {
        ahead.cancel();
      }
      return compute.get();
    }

    /** Cancels (and forgets) what was started for another context than {@code context}. */
    void retainOnly(PushContext context) {
      if (!byType.isEmpty()) {
        byType
            .values()
            .removeIf(
                p -> {
                  if (p.of(context)) {
                    return false;
                  }
                  p.cancel();
                  return true;
                });
      }
    }

    /** Cancels everything (the stream closed). */
    void cancelAll() {
      byType.values().forEach(Prefetch::cancel);
      byType.clear();
    }
  }
}
