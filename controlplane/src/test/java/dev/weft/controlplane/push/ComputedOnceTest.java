package dev.weft.controlplane.push;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.weft.controlplane.store.ConfigSnapshot;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * The push context's shared values ({@link PushContext#cached}, {@link ResourceCache#derived}) are
 * computed once however many threads ask at once ({@link Pending}): the second asker waits for the
 * first's result. Latches order the threads; nothing here depends on timing.
 */
class ComputedOnceTest {
  private final PushContext context = PushContext.build(1, ConfigSnapshot.EMPTY, List.of());
  private final ResourceCache cache = new ResourceCache();
  private final Object a = new Object();
  private final Object b = new Object();

  /** One cache's "get or compute" for {@code key}, whichever of the two caches is tested. */
  private interface Cache {
    Object get(Supplier<Object> compute);
  }

  @Test
  void aSecondThreadWaitsForTheFirstsCachedValue() throws Exception {
    aSecondThreadWaitsForTheFirst(compute -> context.cached("k", compute));
  }

  @Test
  void aSecondThreadWaitsForTheFirstsDerivedValue() throws Exception {
    aSecondThreadWaitsForTheFirst(compute -> cache.derived(a, b, compute));
  }

  private void aSecondThreadWaitsForTheFirst(Cache c) throws Exception {
    CountDownLatch computing = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    AtomicInteger computed = new AtomicInteger();
    Object value = new Object();
    CompletableFuture<Object> first = new CompletableFuture<>();
    CompletableFuture<Object> second = new CompletableFuture<>();
    Thread one =
        new Thread(
            () ->
                first.complete(
                    c.get(
                        () -> {
                          computed.incrementAndGet();
                          computing.countDown();
                          await(release);
                          return value;
                        })));
    one.start();
    assertThat(computing.await(30, TimeUnit.SECONDS)).isTrue();

    Thread two =
        new Thread(
            () ->
                second.complete(
                    c.get(
                        () -> {
                          computed.incrementAndGet();
                          return new Object();
                        })));
    two.start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (two.getState() != Thread.State.WAITING && !second.isDone()) {
      assertThat(System.nanoTime()).as("the second thread waits").isLessThan(deadline);
      Thread.sleep(1); // polls the condition: the second thread parked on the first's result
    }
    release.countDown();

    assertThat(first.get(30, TimeUnit.SECONDS)).isSameAs(value);
    assertThat(second.get(30, TimeUnit.SECONDS)).isSameAs(value);
    assertThat(computed).hasValue(1);
    assertThat(c.get(() -> new Object())).as("cached from now on").isSameAs(value);
    one.join();
    two.join();
  }

  @Test
  void aFailedComputationIsForgottenAndTheNextCallerComputesAgain() {
    IllegalStateException failure = new IllegalStateException("no");
    assertThatThrownBy(
            () ->
                context.cached(
                    "k",
                    () -> {
                      throw failure;
                    }))
        .isSameAs(failure);
    assertThatThrownBy(
            () ->
                cache.derived(
                    a,
                    b,
                    () -> {
                      throw failure;
                    }))
        .isSameAs(failure);

    assertThat(context.<String>cached("k", () -> "again")).isEqualTo("again");
    assertThat(cache.<String>derived(a, b, () -> "again")).isEqualTo("again");
  }

  @Test
  void aComputationThatAsksForItsOwnKeyComputesItAgainInsteadOfWaitingForItself() {
    String outer = context.cached("k", () -> "outer of " + context.cached("k", () -> "inner"));

    assertThat(outer).isEqualTo("outer of inner");
    assertThat(context.<String>cached("k", () -> "not asked")).isEqualTo("outer of inner");
  }

  @Test
  void peekSeesNothingWhileAValueIsBeingComputed() {
    String seen = cache.derived(a, b, () -> String.valueOf((Object) cache.peek(a, b)));

    assertThat(seen).isEqualTo("null");
    assertThat(cache.<String>peek(a, b)).isEqualTo("null");
  }

  private static void await(CountDownLatch latch) {
    try {
      assertThat(latch.await(30, TimeUnit.SECONDS)).isTrue();
    } catch (InterruptedException e) {
      throw new IllegalStateException(e);
    }
  }
}
