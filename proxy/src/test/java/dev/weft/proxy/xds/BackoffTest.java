package dev.weft.proxy.xds;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class BackoffTest {
  @Test
  void growsExponentiallyWithJitterUpToTheMaximumAndResets() {
    Backoff b = Backoff.defaults(new SplittableRandom(7));
    long[] bases = {500, 1000, 2000, 4000, 8000, 16000, 30000, 30000};
    for (long base : bases) {
      assertThat(b.nextDelayMillis()).isBetween(Math.round(base * 0.8), Math.round(base * 1.2));
    }
    b.reset();
    assertThat(b.nextDelayMillis()).isBetween(400L, 600L);
  }

  @Test
  void jitterSpreadsDelays() {
    Backoff a = Backoff.defaults(new SplittableRandom(1));
    Backoff b = Backoff.defaults(new SplittableRandom(2));
    assertThat(a.nextDelayMillis()).isNotEqualTo(b.nextDelayMillis());
  }
}
