package dev.weft.controlplane.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.api.ParseResult;
import dev.weft.api.ResourceKind;
import dev.weft.api.ResourceParser;
import dev.weft.controlplane.Fixtures;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #5: a one-resource apply after a 27,918-resource apply costs what it changes. Asserted on
 * work done (rows the database writes), never on time; {@code docs/benchmarks.md} has the timings.
 */
class ConfigStoreScaleTest {
  private static final int COUNT = 27_918;

  @TempDir Path dir;

  @Test
  void aOneResourceApplyWritesOneRowWhateverTheStoreHolds() throws Exception {
    ParseResult big = ResourceParser.parse("big.yaml", ScaleFixtures.destinationRules(COUNT, 1));
    assertThat(big.errors()).isEmpty();
    try (ConfigStore store = ConfigStore.open(dir, Fixtures.CLOCK)) {
      long start = store.rowsWritten();
      StoreOutcome outcome = store.apply("big.yaml", big.resources());
      assertThat(outcome.errors()).isEmpty();
      assertThat(outcome.results()).hasSize(COUNT);
      // One row per resource and the version counter, in one transaction.
      assertThat(store.rowsWritten() - start).isEqualTo(COUNT + 1);

      long before = store.rowsWritten();
      ConfigSnapshot snapshotBefore = store.snapshot();
      StoreOutcome one =
          store.apply(
              "one.yaml",
              ResourceParser.parse("one.yaml", ScaleFixtures.destinationRule(7, 2)).resources());
      assertThat(one.results())
          .singleElement()
          .satisfies(r -> assertThat(r.action()).isEqualTo(ApplyResult.CONFIGURED));
      assertThat(store.rowsWritten() - before)
          .as("rows written by a one-resource apply")
          .isEqualTo(2);

      // Re-applying the whole file changes nothing and writes nothing.
      long again = store.rowsWritten();
      StoreOutcome same = store.apply("big.yaml", big.resources());
      assertThat(same.results())
          .filteredOn(r -> r.action().equals(ApplyResult.UNCHANGED))
          .hasSize(COUNT - 1);
      assertThat(store.rowsWritten() - again).isEqualTo(2); // dr-00007 back to generation 1
      assertThat(store.snapshot().list(ResourceKind.DESTINATION_RULE)).hasSize(COUNT);
      assertThat(snapshotBefore.list(ResourceKind.DESTINATION_RULE)).hasSize(COUNT);
    }
    try (ConfigStore reopened = ConfigStore.open(dir, Fixtures.CLOCK)) {
      assertThat(reopened.snapshot().size()).isEqualTo(COUNT);
      assertThat(reopened.snapshot().version()).isEqualTo(COUNT + 2);
    }
  }
}
