package dev.weft.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.snakeyaml.engine.v2.api.Dump;
import org.snakeyaml.engine.v2.api.DumpSettings;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.common.FlowStyle;
import org.snakeyaml.engine.v2.schema.CoreSchema;

/**
 * Conformance with Istio's CRD validation test data ({@code
 * reference/validation/crds/*-{valid,invalid}.yaml}, from istio/istio
 * pkg/config/validation/testdata/crds): every valid document of a kind Weft supports parses without
 * error, and every invalid one (each carries the expected rejection in {@code _err}, which is
 * dropped before parsing) is rejected. Kinds Weft does not support are skipped.
 */
class IstioCrdConformanceTest {
  /**
   * Cases Weft does not reject (or accept) yet, as {@code file#document}: each with the reason. The
   * test fails if one of these starts to pass, so that the list stays honest.
   */
  private static final Map<String, String> KNOWN_GAPS =
      Map.of(
          "serviceentry-valid.yaml#0",
          // `addresses: [1.2.3.4, 001:db8::]`: in a YAML 1.2 flow sequence a ':' followed by ']'
          // is a value indicator, so snakeyaml-engine (and this test's loader) read a map where
          // go-yaml reads the string "001:db8::". Quote IPv6 addresses in flow sequences.
          "YAML 1.2 flow-context ':' differs from go-yaml");

  static Path crds() {
    String shared = System.getProperty("weft.shared.dir");
    Path dir = shared == null ? null : Path.of(shared, "reference", "validation", "crds");
    assumeTrue(
        dir != null && Files.isDirectory(dir),
        "reference/validation/crds not found (weft.shared.dir=" + shared + "); skipping");
    return dir;
  }

  record Case(String id, String kind, String apiVersion, String expectedError, String yaml) {}

  static List<Case> cases(Path file) throws IOException {
    List<Case> out = new ArrayList<>();
    Load load = new Load(LoadSettings.builder().setSchema(new CoreSchema()).build());
    Dump dump = new Dump(DumpSettings.builder().setDefaultFlowStyle(FlowStyle.BLOCK).build());
    int i = 0;
    for (Object doc : load.loadAllFromString(Files.readString(file))) {
      int index = i++;
      if (!(doc instanceof Map<?, ?> m)) {
        continue;
      }
      Map<Object, Object> copy = new LinkedHashMap<>(m);
      Object err = copy.remove("_err");
      out.add(
          new Case(
              file.getFileName() + "#" + index,
              String.valueOf(copy.get("kind")),
              String.valueOf(copy.get("apiVersion")),
              err == null ? null : String.valueOf(err),
              dump.dumpToString(copy)));
    }
    return out;
  }

  @Test
  void crdTestData() throws IOException {
    Path dir = crds();
    List<Path> files;
    try (Stream<Path> s = Files.list(dir)) {
      files = s.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
    }
    int validPass = 0, validTotal = 0, invalidPass = 0, invalidTotal = 0, skipped = 0;
    int substringMatches = 0;
    List<String> failures = new ArrayList<>();
    Set<String> gapsStillGaps = new TreeSet<>();
    for (Path file : files) {
      boolean invalidFile = file.getFileName().toString().endsWith("-invalid.yaml");
      for (Case c : cases(file)) {
        Optional<ResourceKind> kind = ResourceKind.of(c.apiVersion(), c.kind());
        if (kind.isEmpty()) {
          skipped++;
          continue;
        }
        ParseResult r = ResourceParser.parse(c.id(), c.yaml());
        boolean expectInvalid = invalidFile || c.expectedError() != null;
        boolean pass = expectInvalid ? !r.ok() : r.ok() && r.resources().size() == 1;
        if (expectInvalid) {
          invalidTotal++;
          if (pass) {
            invalidPass++;
            if (r.errors().stream()
                .anyMatch(
                    e -> e.toString().toLowerCase().contains(c.expectedError().toLowerCase()))) {
              substringMatches++;
            } else {
              System.out.println(
                  "  " + c.id() + ": expected \"" + c.expectedError() + "\", got " + r.errors());
            }
          }
        } else {
          validTotal++;
          if (pass) {
            validPass++;
          }
        }
        if (KNOWN_GAPS.containsKey(c.id())) {
          if (!pass) {
            gapsStillGaps.add(c.id());
          }
          continue;
        }
        if (!pass) {
          failures.add(
              c.id()
                  + " ("
                  + c.kind()
                  + (expectInvalid ? ", expected error: " + c.expectedError() : ", valid")
                  + "): "
                  + r.errors());
        }
      }
    }
    System.out.printf(
        "Istio CRD conformance: valid %d/%d, invalid rejected %d/%d (expected message found in"
            + " %d), skipped %d docs of unsupported kinds, known gaps %s%n",
        validPass,
        validTotal,
        invalidPass,
        invalidTotal,
        substringMatches,
        skipped,
        KNOWN_GAPS.keySet());
    assertThat(failures).as("conformance failures").isEmpty();
    assertThat(gapsStillGaps)
        .as("known gaps that now pass: remove them from KNOWN_GAPS")
        .containsExactlyInAnyOrderElementsOf(KNOWN_GAPS.keySet());
  }
}
