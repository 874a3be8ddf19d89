package dev.weft.controlplane.push;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Comparator;
import java.util.PriorityQueue;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class DebouncerTest {
  /** A clock and scheduler that move only when the test says so. */
  static final class ManualTime extends Clock implements Scheduler {
    private Instant now = Instant.parse("2026-01-01T00:00:00Z");
    private long seq;
    private final PriorityQueue<Task> tasks =
        new PriorityQueue<>(Comparator.comparing(Task::at).thenComparingLong(Task::seq));

    record Task(Instant at, long seq, Runnable run) {}

    @Override
    public void schedule(Runnable task, Duration delay) {
      tasks.add(new Task(now.plus(delay), seq++, task));
    }

    void advance(Duration d) {
      Instant end = now.plus(d);
      while (!tasks.isEmpty() && !tasks.peek().at().isAfter(end)) {
        Task t = tasks.poll();
        now = t.at();
        t.run().run();
      }
      now = end;
    }

    @Override
    public Instant instant() {
      return now;
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }
  }

  @Test
  void coalescesBurstsAndWaitsForQuiet() {
    ManualTime time = new ManualTime();
    AtomicInteger pushes = new AtomicInteger();
    Debouncer d =
        new Debouncer(
            time, Duration.ofMillis(100), Duration.ofSeconds(1), time, pushes::incrementAndGet);
    d.trigger();
    time.advance(Duration.ofMillis(50));
    d.trigger();
    time.advance(Duration.ofMillis(99)); // 149 ms: 99 ms since the last change
    assertThat(pushes).hasValue(0);
    time.advance(Duration.ofMillis(1));
    assertThat(pushes).hasValue(1);
    time.advance(Duration.ofSeconds(5));
    assertThat(pushes).hasValue(1);
    d.trigger();
    time.advance(Duration.ofMillis(100));
    assertThat(pushes).hasValue(2);
  }

  @Test
  void pushesWithAClockThatDoesNotMove() {
    ManualTime time = new ManualTime();
    Clock fixed = Clock.fixed(Instant.parse("2026-01-01T00:00:00Z"), ZoneOffset.UTC);
    AtomicInteger pushes = new AtomicInteger();
    Debouncer d =
        new Debouncer(
            fixed, Duration.ofMillis(100), Duration.ofSeconds(1), time, pushes::incrementAndGet);
    d.trigger();
    time.advance(Duration.ofMillis(50));
    d.trigger();
    time.advance(Duration.ofMillis(100));
    assertThat(pushes).hasValue(0);
    time.advance(Duration.ofMillis(50));
    assertThat(pushes).hasValue(1);
  }

  @Test
  void zeroDebouncePushesOnTheNextTurn() {
    ManualTime time = new ManualTime();
    AtomicInteger pushes = new AtomicInteger();
    Debouncer d = new Debouncer(time, Duration.ZERO, Duration.ZERO, time, pushes::incrementAndGet);
    d.trigger();
    time.advance(Duration.ZERO);
    assertThat(pushes).hasValue(1);
  }

  @Test
  void pushesAfterMaxDelayEvenWhenChangesKeepComing() {
    ManualTime time = new ManualTime();
    Instant start = time.instant();
    java.util.List<Duration> pushedAt = new java.util.ArrayList<>();
    Debouncer d =
        new Debouncer(
            time,
            Duration.ofMillis(100),
            Duration.ofMillis(500),
            time,
            () -> pushedAt.add(Duration.between(start, time.instant())));
    // A change every 60 ms: never 100 ms of quiet, yet a push comes once 500 ms have passed.
    for (int i = 0; i < 12; i++) {
      d.trigger();
      time.advance(Duration.ofMillis(60));
    }
    assertThat(pushedAt).isNotEmpty();
    assertThat(pushedAt.get(0)).isBetween(Duration.ofMillis(500), Duration.ofMillis(600));
  }

  /**
   * Activity that is about to be a change (a registration queued behind a busy executor) restarts
   * the quiet period while a push is pending, and starts nothing when none is.
   */
  @Test
  void aTouchWhilePendingRestartsTheQuietPeriodAndStartsNothingOtherwise() {
    ManualTime time = new ManualTime();
    AtomicInteger pushes = new AtomicInteger();
    Debouncer d =
        new Debouncer(
            time, Duration.ofMillis(100), Duration.ofSeconds(10), time, pushes::incrementAndGet);
    d.touch();
    time.advance(Duration.ofSeconds(1));
    assertThat(pushes).as("a touch alone pushes nothing").hasValue(0);

    d.trigger();
    time.advance(Duration.ofMillis(90));
    d.touch(); // a registration under way: not quiet yet
    time.advance(Duration.ofMillis(99)); // 189 ms: 99 ms since the touch
    assertThat(pushes).hasValue(0);
    time.advance(Duration.ofMillis(1));
    assertThat(pushes).hasValue(1);
  }

  /**
   * Changes under way (registrations still in their TLS handshake) keep the period from being
   * quiet, up to the longest wait; a zero debounce does not wait for them.
   */
  @Test
  void changesUnderWayHoldThePushUntilTheyEndOrTheLongestWait() {
    ManualTime time = new ManualTime();
    AtomicInteger pushes = new AtomicInteger();
    java.util.concurrent.atomic.AtomicBoolean underWay =
        new java.util.concurrent.atomic.AtomicBoolean(true);
    Debouncer d =
        new Debouncer(
            time, Duration.ofMillis(100), Duration.ofSeconds(1), time, pushes::incrementAndGet);
    d.whileUnderWay(underWay::get);

    d.trigger();
    time.advance(Duration.ofMillis(500));
    assertThat(pushes).as("handshakes still under way").hasValue(0);
    underWay.set(false);
    time.advance(Duration.ofMillis(100));
    assertThat(pushes).hasValue(1);

    underWay.set(true);
    d.trigger();
    time.advance(Duration.ofMillis(999));
    assertThat(pushes).hasValue(1);
    time.advance(Duration.ofMillis(101));
    assertThat(pushes).as("the longest wait holds").hasValue(2);

    Debouncer zero =
        new Debouncer(time, Duration.ZERO, Duration.ZERO, time, pushes::incrementAndGet);
    zero.whileUnderWay(underWay::get);
    zero.trigger();
    time.advance(Duration.ZERO);
    assertThat(pushes).hasValue(3);
  }
}
