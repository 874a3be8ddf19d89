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

  @Test
  void theBackoffCountsFromTheStartOfAnAttemptThatNeverReachedTheServer() {
    // A TLS handshake held 10 s by an unresponsive peer: the next attempt follows at once.
    assertThat(XdsClient.retryDelay(8_000, 10_000, false)).isZero();
    // A quick refusal (connection refused, UNAUTHENTICATED): the whole remaining backoff.
    assertThat(XdsClient.retryDelay(8_000, 3, false)).isEqualTo(7_997);
    assertThat(XdsClient.retryDelay(30_000, 10_000, false)).isEqualTo(20_000);
    // A stream that was answered ran for a while: the backoff applies from its end.
    assertThat(XdsClient.retryDelay(500, 3_600_000, true)).isEqualTo(500);
  }
}
