package dev.weft.controlplane.xds;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
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

  /**
   * The starvation the delta scale run found (72 of 1000 sidecars never got their first answer):
   * every busy stream drains and the streams its slots let go are written and stay ready (small
   * responses), so none of them will ever drain; the slots they were handed must go on to the
   * streams still waiting, as AdsService and DeltaAdsService do through {@link
   * PushThrottle#release} and {@link PushThrottle#drained(Object, java.util.function.Consumer)}.
   */
  @Test
  void aStreamWrittenThatStaysReadyHandsItsSlotOnSoNobodyWaitsForEver() {
    PushThrottle<String> t = new PushThrottle<>(2);
    t.wrote("a", false);
    t.wrote("b", false);
    for (String c : List.of("c", "d", "e", "f", "g")) {
      assertThat(t.mayWrite(c, true)).isFalse();
      t.defer(c);
    }
    Set<String> full = Set.of("e"); // e's own stream is full when its turn comes
    List<String> written = new ArrayList<>();
    java.util.function.Consumer<String> flush =
        c -> {
          boolean ready = !full.contains(c);
          if (!t.mayWrite(c, ready)) {
            t.defer(c);
            return;
          }
          written.add(c);
          t.wrote(c, true); // a small response: the stream stays ready, it never drains
        };

    // a drains: the services write a's slot's waiters, then release while slots stay free.
    List<String> next = t.drained("a");
    assertThat(next).containsExactly("c");
    next.forEach(flush);
    t.release(flush);
    assertThat(written).containsExactly("c", "d", "f", "g");
    assertThat(t.waiting()).as("only e, waiting for its own stream").isEqualTo(1);
    assertThat(t.busy()).isEqualTo(1); // b

    // b closes: e's stream is still full, it waits on (and the release ends).
    t.drained("b", flush);
    assertThat(t.waiting()).isEqualTo(1);
    assertThat(t.busy()).isZero();
    assertThat(written).containsExactly("c", "d", "f", "g");
  }

  /** Without release, the same handing out leaves the rest waiting although every slot is free. */
  @Test
  void drainedAloneHandsOutOnlyTheSlotsFreeAtThatMoment() {
    PushThrottle<String> t = new PushThrottle<>(1);
    t.wrote("a", false);
    t.defer("b");
    t.defer("c");
    assertThat(t.drained("a")).containsExactly("b");
    t.wrote("b", true); // stays ready: no slot held, nobody will drain
    assertThat(t.busy()).isZero();
    assertThat(t.waiting()).isEqualTo(1);
    List<String> written = new ArrayList<>();
    t.release(
        c -> {
          written.add(c);
          t.wrote(c, true);
        });
    assertThat(written).containsExactly("c");
    assertThat(t.waiting()).isZero();
  }
}
