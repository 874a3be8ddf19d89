package dev.weft.proxy.testing;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/**
 * How the proxy's tests wait: a condition polled until it holds or a deadline passes, which fails
 * the test naming what it waited for. The polling interval only paces the checks; the condition
 * decides (never a sleep as synchronisation).
 */
public final class Conditions {
  /**
   * The deadline of {@link #await(BooleanSupplier)} and {@link #await(String, BooleanSupplier)}.
   */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);

  private static final long POLL_MILLIS = 10;

  private Conditions() {}

  /** Waits up to {@link #DEFAULT_TIMEOUT} for {@code condition}. */
  public static void await(BooleanSupplier condition) {
    await("a condition", DEFAULT_TIMEOUT, condition);
  }

  /** Waits up to {@link #DEFAULT_TIMEOUT} for {@code condition}; fails naming {@code what}. */
  public static void await(String what, BooleanSupplier condition) {
    await(what, DEFAULT_TIMEOUT, condition);
  }

  /** Waits up to {@code timeout} for {@code condition}; fails naming {@code what}. */
  public static void await(String what, Duration timeout, BooleanSupplier condition) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() - deadline > 0) {
        throw new AssertionError("timed out after " + timeout + " waiting for " + what);
      }
      try {
        Thread.sleep(POLL_MILLIS); // polling a condition with a deadline
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted waiting for " + what, e);
      }
    }
  }
}
