package dev.weft.controlplane.xds;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** At most maxBusy streams have unread responses; the others wait and get a slot in order. */
class PushThrottleTest {
  @Test
  void boundsBusyStreamsAndHandsFreedSlotsToTheWaitingInOrder() {
    PushThrottle<String> t = new PushThrottle<>(2);
    assertThat(t.mayWrite("a", true)).isTrue();
    t.wrote("a", false); // a's stream is full: busy
    assertThat(t.mayWrite("a", false)).as("a not ready").isFalse();
    assertThat(t.mayWrite("b", true)).isTrue();
    t.wrote("b", false);
    assertThat(t.busy()).isEqualTo(2);

    assertThat(t.mayWrite("c", true)).as("no slot").isFalse();
    t.defer("c");
    assertThat(t.mayWrite("d", true)).isFalse();
    t.defer("d");
    t.defer("c"); // once
    assertThat(t.waiting()).isEqualTo(2);

    // A write that leaves the stream ready takes no slot.
    PushThrottle<String> free = new PushThrottle<>(1);
    free.wrote("x", true);
    assertThat(free.busy()).isZero();

    // a drains: one slot, to the oldest waiting.
    assertThat(t.drained("a")).containsExactly("c");
    assertThat(t.mayWrite("c", true)).isTrue();
    t.wrote("c", false);
    assertThat(t.drained("b")).containsExactly("d");
    t.wrote("d", true);
    assertThat(t.busy()).isEqualTo(1);
    assertThat(t.waiting()).isZero();
    assertThat(t.drained("c")).isEmpty();
    assertThat(t.busy()).isZero();

    assertThatThrownBy(() -> new PushThrottle<String>(0))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
