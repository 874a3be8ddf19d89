package dev.weft.proxy.net;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** {@link EventTime}: one clock reading per read, the clock itself outside reads. */
class EventTimeTest {
  /** Waits (on the clock, no sleep) until {@link System#nanoTime()} has moved past {@code t}. */
  private static void clockPasses(long t) {
    while (System.nanoTime() - t <= 0) {
      Thread.onSpinWait();
    }
  }

  @Test
  void outsideAReadItIsTheClock() {
    EventTime time = new EventTime();
    long before = System.nanoTime();
    long t = time.nanoTime();
    assertThat(t - before).isGreaterThanOrEqualTo(0);
    clockPasses(t);
    assertThat(time.nanoTime() - t).isPositive();
  }

  @Test
  void aReadKeepsItsStartTimeUntilItEnds() {
    EventTime time = new EventTime();
    long before = System.nanoTime();
    time.enter();
    long t = time.nanoTime();
    assertThat(t - before).isGreaterThanOrEqualTo(0);
    clockPasses(t);
    assertThat(time.nanoTime()).isEqualTo(t);
    time.exit();
    assertThat(time.nanoTime() - t).isPositive();
  }

  @Test
  void aNestedReadKeepsTheOutermostTime() {
    EventTime time = new EventTime();
    time.enter();
    long t = time.nanoTime();
    clockPasses(t);
    time.enter();
    assertThat(time.nanoTime()).isEqualTo(t);
    time.exit();
    assertThat(time.nanoTime()).isEqualTo(t);
    time.exit();
    assertThat(time.nanoTime() - t).isPositive();
  }

  @Test
  void eachThreadHasItsOwn() throws InterruptedException {
    EventTime mine = EventTime.current();
    mine.enter();
    try {
      long t = EventTime.now();
      clockPasses(t);
      AtomicLong other = new AtomicLong();
      Thread thread = new Thread(() -> other.set(EventTime.now()));
      thread.start();
      thread.join();
      assertThat(other.get() - t).isPositive();
      assertThat(EventTime.now()).isEqualTo(t);
    } finally {
      mine.exit();
    }
  }
}
