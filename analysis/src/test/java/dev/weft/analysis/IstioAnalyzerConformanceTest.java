package dev.weft.analysis;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

/**
 * Istio's analyzer test grid ({@code reference/analyze/expected_messages_all.yaml}, from
 * istio/istio {@code pkg/config/analysis/analyzers/analyzers_test.go}) run through Weft's
 * analyzers: each case runs one analyzer over its input files (plus a mesh config when given) and
 * must produce exactly the expected (code, resource) multiset, as Istio's test asserts.
 *
 * <p>Cases whose input files are not in the reference folder cannot run and are counted apart. The
 * failing cases are listed in {@link #KNOWN_FAILURES} with their reason (also in {@code
 * docs/compatibility.md}); a case that starts passing, or a new failure, fails this test.
 */
class IstioAnalyzerConformanceTest {
  /** Case name → why Weft does not pass it. */
  static final Map<String, String> KNOWN_FAILURES = Map.of();

  /**
   * The cases that fail when the documents Weft's parser rejects are left out (the strict figure in
   * {@code docs/compatibility.md}); a change to the parser that changes this list must update the
   * doc.
   */
  static final java.util.Set<String> STRICT_FAILURES =
      java.util.Set.of(
          "deprecation",
          "gatewayNoWorkload",
          "gatewaySecret",
          "conflicting gateways with multiple port declarations",
          "portNameNotFollowConvention",
          "sidecarDefaultSelector",
          "virtualServiceDestinationHosts",
          "virtualServiceGateways",
          "virtualServiceInternalGatewayRef",
          "host defined in virtualservice not found in the gateway",
          "Route Rule no effect on Ingress");

  /** Case name → the IST0106 lines of its documents Weft's parser rejects. */
  static final Map<String, List<String>> REJECTED = new TreeMap<>();

  /**
   * One case's outcome.
   *
   * @param passedStrict whether it also passes when the documents Weft's parser rejects are left
   *     out (as if only what {@code weft apply} accepts were analyzed)
   */
  record Outcome(
      String name,
      String analyzer,
      boolean runnable,
      boolean passed,
      String detail,
      boolean passedStrict) {}

  static Path referenceDir() {
    String shared = System.getProperty("weft.shared.dir");
    return shared == null ? null : Path.of(shared, "reference/analyze");
  }

  @SuppressWarnings("unchecked")
  static List<Outcome> runAll(Path dir) throws IOException {
    List<Object> cases =
        (List<Object>)
            new Load(LoadSettings.builder().build())
                .loadFromString(Files.readString(dir.resolve("expected_messages_all.yaml")));
    List<Outcome> out = new ArrayList<>();
    Map<String, Integer> seenNames = new LinkedHashMap<>();
    for (Object o : cases) {
      Map<String, Object> c = (Map<String, Object>) o;
      String name = Docs.str(c, "name");
      int n = seenNames.merge(name, 1, Integer::sum);
      if (n > 1) {
        name = name + " #" + n;
      }
      String analyzerName =
          Docs.str(c, "analyzer").replaceFirst("^&", "").replaceFirst("\\{}$", "");
      List<Path> files = new ArrayList<>();
      boolean runnable = true;
      for (String f : Docs.strs(c, "inputFiles")) {
        Path p = dir.resolve(Path.of(f).getFileName().toString());
        runnable &= Files.exists(p);
        files.add(p);
      }
      String meshFile = Docs.str(c, "meshConfigFile");
      Path mesh = meshFile.isEmpty() ? null : dir.resolve(Path.of(meshFile).getFileName());
      runnable &= mesh == null || Files.exists(mesh);
      if (!runnable) {
        out.add(
            new Outcome(
                name, analyzerName, false, false, "input file not in the reference", false));
        continue;
      }
      var analyzer = Analyzers.named(analyzerName);
      if (analyzer.isEmpty()) {
        out.add(new Outcome(name, analyzerName, true, false, "no such analyzer in Weft", false));
        continue;
      }
      List<Obj> objects = new ArrayList<>();
      List<String> rejected = new ArrayList<>();
      List<Obj> rejectedObjects = new ArrayList<>();
      for (Path f : files) {
        FileInputs.Loaded l =
            FileInputs.load(f.getFileName().toString(), Files.readString(f), false);
        objects.addAll(l.objects());
        l.messages().forEach(m -> rejected.add(m.line()));
        rejectedObjects.addAll(l.rejected());
      }
      objects.addAll(FileInputs.defaultResources("istio-system"));
      Map<String, String> proxyMetadata = new LinkedHashMap<>();
      if (mesh != null) {
        Object m = new Load(LoadSettings.builder().build()).loadFromString(Files.readString(mesh));
        proxyMetadata.putAll(Docs.labels(m, "defaultConfig", "proxyMetadata"));
      }
      AnalysisInput input = new AnalysisInput(objects, proxyMetadata, "istio-system");
      Map<String, Integer> expected = new TreeMap<>();
      for (Map<String, Object> m : Docs.maps(c, "expected")) {
        expected.merge(Docs.str(m, "code") + " " + Docs.str(m, "resource"), 1, Integer::sum);
      }
      Map<String, Integer> actual = count(analyzer.get().analyze(input));
      boolean passed = expected.equals(actual);
      List<Obj> strictObjects = new ArrayList<>(objects);
      strictObjects.removeIf(x -> rejectedObjects.stream().anyMatch(r -> r == x));
      boolean passedStrict =
          expected.equals(
              count(
                  analyzer
                      .get()
                      .analyze(new AnalysisInput(strictObjects, proxyMetadata, "istio-system"))));
      if (!rejected.isEmpty()) {
        REJECTED.put(name, rejected);
      }
      String detail =
          passed
              ? ""
              : "expected "
                  + expected
                  + " got "
                  + actual
                  + (rejected.isEmpty() ? "" : " rejected " + rejected);
      out.add(new Outcome(name, analyzerName, true, passed, detail, passedStrict));
    }
    return out;
  }

  private static Map<String, Integer> count(List<Message> messages) {
    Map<String, Integer> out = new TreeMap<>();
    for (Message m : messages) {
      out.merge(m.type().code() + " " + m.resource(), 1, Integer::sum);
    }
    return out;
  }

  @Test
  void istioAnalyzerTestGrid() throws IOException {
    Path dir = referenceDir();
    Assumptions.assumeTrue(
        dir != null && Files.exists(dir.resolve("expected_messages_all.yaml")),
        "reference/analyze not found; skipping");
    List<Outcome> outcomes = runAll(dir);
    long runnable = outcomes.stream().filter(Outcome::runnable).count();
    long passed = outcomes.stream().filter(Outcome::passed).count();
    StringBuilder report = new StringBuilder();
    for (Outcome o : outcomes) {
      if (o.runnable() && !o.passed()) {
        report
            .append("FAIL ")
            .append(o.name())
            .append(" [")
            .append(o.analyzer())
            .append("] ")
            .append(o.detail())
            .append('\n');
      }
    }
    System.out.println(
        "Istio analyzer grid: "
            + passed
            + "/"
            + runnable
            + " runnable cases pass ("
            + outcomes.size()
            + " cases, "
            + (outcomes.size() - runnable)
            + " without input files)\n"
            + report);
    System.out.println("Cases with documents Weft's parser rejects (IST0106):");
    REJECTED.forEach((k, v) -> System.out.println("  " + k + ": " + v));
    System.out.println(
        "Strict (rejected documents left out): "
            + outcomes.stream().filter(Outcome::passedStrict).count()
            + "/"
            + runnable
            + " pass; failing strict: "
            + outcomes.stream()
                .filter(o -> o.runnable() && !o.passedStrict())
                .map(Outcome::name)
                .toList());
    Map<String, String> failing = new TreeMap<>();
    for (Outcome o : outcomes) {
      if (o.runnable() && !o.passed()) {
        failing.put(o.name(), o.detail());
      }
    }
    assertThat(failing.keySet())
        .as("failing cases (update KNOWN_FAILURES and docs/compatibility.md)\n" + report)
        .containsExactlyInAnyOrderElementsOf(KNOWN_FAILURES.keySet());
    assertThat(
            outcomes.stream()
                .filter(o -> o.runnable() && !o.passedStrict())
                .map(Outcome::name)
                .toList())
        .as("strict failures (update STRICT_FAILURES and docs/compatibility.md)")
        .containsExactlyInAnyOrderElementsOf(STRICT_FAILURES);
    assertThat(passed * 10)
        .as("at least 90% of runnable cases pass")
        .isGreaterThanOrEqualTo(runnable * 9);
  }
}
