package dev.weft.cli.run;

import java.time.Duration;
import java.time.Instant;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * How the CLI's tests wait: a condition polled until it holds or a deadline passes, which fails the
 * test naming what it waited for. The polling interval only paces the checks; the condition decides
 * (never a sleep as synchronisation).
 */
public final class Conditions {
  /** The deadline of {@link #await(String, BooleanSupplier)}. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);

  private static final long POLL_MILLIS = 20;

  private Conditions() {}

  /** Waits up to {@link #DEFAULT_TIMEOUT} for {@code condition}; fails naming {@code what}. */
  public static void await(String what, BooleanSupplier condition) throws InterruptedException {
    await(() -> what, DEFAULT_TIMEOUT, condition);
  }

  /**
   * Waits up to {@code timeout} for {@code condition}; fails with {@code what}, asked only then (so
   * that it can describe the last state seen).
   */
  public static void await(Supplier<String> what, Duration timeout, BooleanSupplier condition)
      throws InterruptedException {
    Instant deadline = Instant.now().plus(timeout);
    while (!condition.getAsBoolean()) {
      if (Instant.now().isAfter(deadline)) {
        throw new AssertionError("timed out after " + timeout + " waiting for " + what.get());
      }
      Thread.sleep(POLL_MILLIS); // polling a condition with a deadline
    }
  }
}
