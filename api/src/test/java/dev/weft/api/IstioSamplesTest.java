package dev.weft.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Istio's own sample manifests ({@code reference/samples/**}, from istio/istio samples/) are valid:
 * every document of a kind Weft supports parses without error. Documents of other kinds
 * (Deployment, ServiceAccount, Gateway API routes, ...) are skipped.
 */
class IstioSamplesTest {
  /** Sample files with documents Weft rejects on purpose, with the reason. */
  private static final Map<String, String> KNOWN_GAPS = Map.of();

  @Test
  void samplesParse() throws IOException {
    String shared = System.getProperty("weft.shared.dir");
    Path dir = shared == null ? null : Path.of(shared, "reference", "samples");
    assumeTrue(dir != null && Files.isDirectory(dir), "reference/samples not found; skipping");
    List<Path> files;
    try (Stream<Path> s = Files.walk(dir)) {
      files = s.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
    }
    int docs = 0;
    int parsed = 0;
    List<String> failures = new ArrayList<>();
    for (Path f : files) {
      String rel = dir.relativize(f).toString();
      ParseResult r = ResourceParser.parse(rel, Files.readString(f));
      parsed += r.resources().size();
      for (ValidationError e : r.errors()) {
        if (e.message().startsWith("unknown kind") || e.message().startsWith("no kind")) {
          continue;
        }
        if (!KNOWN_GAPS.containsKey(rel)) {
          failures.add(e.toString());
        }
      }
      docs++;
    }
    System.out.printf(
        "Istio samples: %d files, %d resources of supported kinds parsed%n", docs, parsed);
    assertThat(failures).isEmpty();
  }
}
