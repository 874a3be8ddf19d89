package dev.weft.controlplane.xds;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class ConnectionAdmissionTest {
  private final AtomicLong now = new AtomicLong(1_000_000_000L);

  private ConnectionAdmission admission(double rate, int burst, int slots) {
    return ConnectionAdmission.builder()
        .rate(rate, burst)
        .maxHandshakes(slots)
        .clock(now::get)
        .build();
  }

  @Test
  void aBurstIsAdmittedAtOnceThenOneConnectionPerTokenAsTheClockMoves() {
    ConnectionAdmission a = admission(10, 3, 100);
    for (int i = 0; i < 3; i++) {
      assertThat(a.tryAdmit()).isZero();
    }
    // The bucket is empty: the next token is 1/10 s away.
    assertThat(a.tryAdmit()).isEqualTo(TimeUnit.MILLISECONDS.toNanos(100));
    now.addAndGet(TimeUnit.MILLISECONDS.toNanos(40));
    assertThat(a.tryAdmit()).isEqualTo(TimeUnit.MILLISECONDS.toNanos(60));
    now.addAndGet(TimeUnit.MILLISECONDS.toNanos(60));
    assertThat(a.tryAdmit()).isZero();
    assertThat(a.tryAdmit()).isPositive();
    assertThat(a.admitted()).isEqualTo(4);
  }

  /**
   * The defaults pace a connect storm at 1000 a second after a burst of 200: 2000 proxies within 2
   * s of tokens, so that the handshake slots, not the rate, bound how fast a storm is admitted.
   */
  @Test
  void theDefaultsAdmitABurstOf200ThenOneConnectionAMillisecond() {
    ConnectionAdmission a = ConnectionAdmission.builder().clock(now::get).build();
    for (int i = 0; i < 200; i++) {
      assertThat(a.tryAdmit()).isZero();
      a.release(); // its handshake ended: the slots do not bound this test
    }
    assertThat(a.tryAdmit()).isEqualTo(TimeUnit.MILLISECONDS.toNanos(1));
    now.addAndGet(TimeUnit.SECONDS.toNanos(1));
    for (int i = 0; i < 200; i++) { // a second of tokens: the bucket holds its burst again
      assertThat(a.tryAdmit()).isZero();
      a.release();
    }
    assertThat(a.tryAdmit()).isPositive();
    assertThat(a.admitted()).isEqualTo(400);
  }

  @Test
  void anIdleBucketHoldsNoMoreThanItsBurst() {
    ConnectionAdmission a = admission(100, 2, 100);
    now.addAndGet(TimeUnit.HOURS.toNanos(1));
    assertThat(a.tryAdmit()).isZero();
    assertThat(a.tryAdmit()).isZero();
    assertThat(a.tryAdmit()).isPositive();
  }

  @Test
  void handshakeSlotsBoundTheConnectionsInTheirHandshakeAndAFreedSlotWakesTheWaiter() {
    ConnectionAdmission a = admission(1000, 1000, 2);
    AtomicInteger woken = new AtomicInteger();
    a.onSlotFree(woken::incrementAndGet);
    assertThat(a.tryAdmit()).isZero();
    assertThat(a.tryAdmit()).isZero();
    assertThat(a.tryAdmit()).isEqualTo(ConnectionAdmission.WAIT_FOR_SLOT);
    assertThat(a.handshaking()).isEqualTo(2);

    a.release();
    assertThat(woken).hasValue(1);
    assertThat(a.tryAdmit()).isZero();
    a.release(); // nobody waits now: nobody is woken
    assertThat(woken).hasValue(1);
    assertThat(a.handshaking()).isEqualTo(1);
    assertThat(a.peakHandshaking()).isEqualTo(2);
  }

  @Test
  void aRefundGivesBackTheTokenAndTheSlot() {
    ConnectionAdmission a = admission(1, 1, 1);
    assertThat(a.tryAdmit()).isZero();
    a.refund(); // there was no connection to accept
    assertThat(a.handshaking()).isZero();
    assertThat(a.admitted()).isZero();
    assertThat(a.tryAdmit()).isZero();
  }

  @Test
  void releaseWithoutAnAdmittedConnectionIsABug() {
    ConnectionAdmission a = admission(1, 1, 1);
    assertThatThrownBy(a::release).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void badOptionsAreRefused() {
    assertThatThrownBy(() -> ConnectionAdmission.builder().rate(0, 1))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> ConnectionAdmission.builder().rate(1, 0))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> ConnectionAdmission.builder().maxHandshakes(0))
        .isInstanceOf(IllegalArgumentException.class);
  }

  /**
   * A storm's handshakes are under way while some run and another finished within the window; a
   * handshake stalling alone (no other finishing) is not a storm, nor is a refund.
   */
  @Test
  void handshakesAreUnderWayWhileSomeRunAndAnotherFinishedRecently() {
    ConnectionAdmission a = admission(1000, 100, 100);
    java.time.Duration second = java.time.Duration.ofSeconds(1);
    assertThat(a.tryAdmit()).isZero();
    assertThat(a.handshakesUnderWay(second)).as("none finished yet").isFalse();

    assertThat(a.tryAdmit()).isZero();
    a.release();
    assertThat(a.handshakesUnderWay(second)).isTrue();

    now.addAndGet(TimeUnit.MILLISECONDS.toNanos(999));
    assertThat(a.handshakesUnderWay(second)).isTrue();
    now.addAndGet(TimeUnit.MILLISECONDS.toNanos(1));
    assertThat(a.handshakesUnderWay(second)).as("one stalls alone").isFalse();

    assertThat(a.tryAdmit()).isZero();
    a.refund();
    assertThat(a.handshakesUnderWay(second)).as("a refund finished no handshake").isFalse();

    a.release();
    assertThat(a.handshakesUnderWay(second)).as("none running").isFalse();
  }
}
