package dev.weft.controlplane.xds;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.controlplane.push.PushContext;
import dev.weft.controlplane.store.ConfigSnapshot;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A stream's {@link GenerationPool.Ahead}: one generation per type and context, older contexts'
 * cancelled, and what the executor takes. The pool's thread is never relied on here: tasks handed
 * to it are kept and run by the test ({@link #runSubmitted}), so who generates is decided by the
 * test, not by scheduling.
 */
class GenerationPoolTest {
  private final PushContext first = PushContext.build(1, ConfigSnapshot.EMPTY, List.of());
  private final PushContext second = PushContext.build(2, ConfigSnapshot.EMPTY, List.of());
  private final AtomicInteger generated = new AtomicInteger();
  private final List<Prefetch<String>> started = new ArrayList<>();

  /** A pool whose thread is not used: the test runs what was started ({@link #runSubmitted}). */
  private final GenerationPool pool = GenerationPool.of(1, "test-generate");

  private final GenerationPool.Ahead<String> ahead = pool.new Ahead<>();

  @AfterEach
  void close() {
    pool.close();
  }

  private String generate(PushContext context) {
    generated.incrementAndGet();
    return "resources of the " + (context == first ? "first" : "second") + " context";
  }

  private Prefetch<String> start(String type, PushContext context) {
    Prefetch<String> p = ahead.start(type, context, () -> generate(context));
    if (p != null) {
      started.add(p);
    }
    return p;
  }

  private void runSubmitted() {
    started.forEach(Prefetch::run);
  }

  @Test
  void aTypeIsGeneratedOncePerContext() {
    assertThat(start("cds", first)).isNotNull();
    assertThat(start("cds", first)).as("already under way").isNull();
    assertThat(start("lds", first)).isNotNull();

    runSubmitted();

    assertThat(generated).hasValue(2);
    assertThat(ahead.take("cds", first, () -> "the executor's"))
        .isEqualTo("resources of the first context");
    assertThat(ahead.take("lds", first, () -> "the executor's"))
        .isEqualTo("resources of the first context");
    assertThat(pool.report())
        .isEqualTo("resources for 2 responses, 2 of them generated ahead of 2 started");
  }

  @Test
  void aNewerContextCancelsWhatAnOlderOneStartedAndNotBegun() {
    Prefetch<String> old = start("cds", first);
    Prefetch<String> now = start("cds", second);

    assertThat(now).isNotNull();
    old.run();
    assertThat(generated).as("the older context's generation is skipped").hasValue(0);
    assertThat(ahead.take("cds", second, () -> "the executor's"))
        .as("no pool thread got to it: the executor generates it")
        .isEqualTo("resources of the second context");
    assertThat(pool.report())
        .isEqualTo("resources for 1 responses, 0 of them generated ahead of 2 started");
  }

  @Test
  void whatWasGeneratedForAnotherContextIsNotSent() {
    start("cds", first);
    runSubmitted();

    assertThat(ahead.take("cds", second, () -> "the executor's for context 2"))
        .isEqualTo("the executor's for context 2");
  }

  @Test
  void retainOnlyCancelsTheOtherContextsGenerations() {
    Prefetch<String> old = start("cds", first);
    start("lds", second);

    ahead.retainOnly(second);
    old.run();

    assertThat(generated).hasValue(0);
    assertThat(start("cds", first)).as("forgotten, so started again").isNotNull();
    assertThat(start("lds", second)).as("kept").isNull();
  }

  @Test
  void aClosedStreamsGenerationsAreCancelled() {
    Prefetch<String> p = start("cds", first);

    ahead.cancelAll();
    p.run();

    assertThat(generated).hasValue(0);
  }

  @Test
  void withoutAPoolNothingStartsAndTheExecutorGeneratesEverything() {
    GenerationPool.Ahead<String> none = GenerationPool.NONE.new Ahead<>();

    assertThat(none.start("cds", first, () -> generate(first))).isNull();
    assertThat(none.take("cds", first, () -> generate(first)))
        .isEqualTo("resources of the first context");
    assertThat(GenerationPool.NONE.enabled()).isFalse();
  }

  @Test
  void thePropertyIsACountOfThreadsOrRefusedNamingIt() {
    assertThat(GenerationPool.threads(null, 2)).isEqualTo(2);
    assertThat(GenerationPool.threads("0", 2)).isZero();
    assertThat(GenerationPool.threads(" 8 ", 2)).isEqualTo(8);
    for (String bad : List.of("-1", "two", "")) {
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> GenerationPool.threads(bad, 2))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage(
              "-Dweft.xds.generators="
                  + bad
                  + ": not a number of threads (0 for none; unset: one per core, 2)");
    }
  }
}
