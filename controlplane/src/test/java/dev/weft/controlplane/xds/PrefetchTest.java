package dev.weft.controlplane.xds;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Who generates a {@link Prefetch}: the pool thread or the executor, whichever claims it first. */
class PrefetchTest {
  private final AtomicInteger computed = new AtomicInteger();

  private Map<String, DeltaStream.Versioned> resources() {
    computed.incrementAndGet();
    return Map.of();
  }

  @Test
  void theExecutorGeneratesWhatNoPoolThreadStartedAndThePoolThenSkipsIt() {
    Prefetch<Map<String, DeltaStream.Versioned>> p = new Prefetch<>(null, this::resources);

    assertThat(p.take()).isEmpty();
    p.run();

    assertThat(computed).hasValue(1);
  }

  @Test
  void whatThePoolGeneratedIsTakenAsItIs() {
    Map<String, DeltaStream.Versioned> made = new java.util.HashMap<>();
    Prefetch<Map<String, DeltaStream.Versioned>> p =
        new Prefetch<>(
            null,
            () -> {
              computed.incrementAndGet();
              return made;
            });

    p.run();

    assertThat(p.take()).isSameAs(made);
    assertThat(p.fromPool()).isTrue();
    assertThat(computed).hasValue(1);
  }

  @Test
  void theExecutorGeneratesItselfWhatAPoolThreadHasNotFinished() throws Exception {
    CountDownLatch started = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    Map<String, DeltaStream.Versioned> pools = new java.util.HashMap<>();
    Prefetch<Map<String, DeltaStream.Versioned>> p =
        new Prefetch<>(
            null,
            () -> {
              if (computed.incrementAndGet() == 1) {
                started.countDown();
                await(release);
                return pools;
              }
              return new java.util.HashMap<>();
            });
    Thread pool = new Thread(p::run, "pool");
    pool.start();
    assertThat(started.await(30, TimeUnit.SECONDS)).isTrue();

    Map<String, DeltaStream.Versioned> taken = p.take();

    assertThat(taken).as("the executor's own, not the pool's").isNotSameAs(pools);
    assertThat(p.fromPool()).isFalse();
    assertThat(computed).hasValue(2);
    release.countDown();
    pool.join();
  }

  @Test
  void aCancelledPrefetchIsSkippedByThePoolAndGeneratedByTheExecutorIfTakenAfterAll() {
    Prefetch<Map<String, DeltaStream.Versioned>> p = new Prefetch<>(null, this::resources);

    p.cancel();
    p.run();
    assertThat(computed).hasValue(0);
    assertThat(p.claimed()).isFalse();

    p.take();
    assertThat(computed).hasValue(1);
  }

  @Test
  void aFailureOnThePoolIsThrownToTheExecutorAsItWasThrown() {
    IllegalStateException failure = new IllegalStateException("no such cluster");
    Prefetch<Map<String, DeltaStream.Versioned>> p =
        new Prefetch<>(
            null,
            () -> {
              throw failure;
            });

    p.run();

    assertThatThrownBy(p::take).isSameAs(failure);
  }

  @Test
  void itIsOfTheContextItWasMadeFor() {
    var context =
        dev.weft.controlplane.push.PushContext.build(
            1, dev.weft.controlplane.store.ConfigSnapshot.EMPTY, java.util.List.of());
    Prefetch<Map<String, DeltaStream.Versioned>> p = new Prefetch<>(context, this::resources);

    assertThat(p.of(context)).isTrue();
    assertThat(p.of(null)).isFalse();
  }

  private static void await(CountDownLatch latch) {
    try {
      assertThat(latch.await(30, TimeUnit.SECONDS)).isTrue();
    } catch (InterruptedException e) {
      throw new IllegalStateException(e);
    }
  }
}
