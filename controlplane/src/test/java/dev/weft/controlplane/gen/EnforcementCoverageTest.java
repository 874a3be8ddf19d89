package dev.weft.controlplane.gen;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.api.ResourceKind;
import dev.weft.api.ResourceParser;
import java.util.ArrayList;
import java.util.List;
import java.util.SortedSet;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * The mechanical check of {@link Enforcement}: every field the parser reads (the accepted schema,
 * as {@link ResourceParser#fieldsRead} enumerates it over {@link FieldCorpus}) has a rule, so no
 * accepted field can be neither enforced nor warned about.
 */
class EnforcementCoverageTest {
  @Test
  void everyFieldTheParserReadsHasARule() throws Exception {
    SortedSet<String> read = new TreeSet<>();
    for (String text : FieldCorpus.texts()) {
      read.addAll(ResourceParser.fieldsRead(text));
    }
    List<String> missing = new ArrayList<>();
    int checked = 0;
    for (String entry : read) {
      int space = entry.indexOf(' ');
      String kindName = entry.substring(0, space);
      String path = entry.substring(space + 1);
      ResourceKind kind = kind(kindName);
      if (kind == null || Enforcement.wholeKind(kind) != null || !path.startsWith("spec")) {
        continue; // metadata, apiVersion, kind: no traffic meaning; whole-kind warnings
      }
      checked++;
      if (Enforcement.classify(kind, path) == null) {
        missing.add(entry);
      }
    }
    System.out.printf(
        "Enforcement: %d parser fields checked, %d without a rule%n", checked, missing.size());
    assertThat(missing).as("fields the parser accepts but Enforcement has no rule for").isEmpty();
    assertThat(checked).isGreaterThan(100);
  }

  private static ResourceKind kind(String name) {
    for (ResourceKind k : ResourceKind.values()) {
      if (k.kind().equals(name)) {
        return k;
      }
    }
    return null;
  }
}
