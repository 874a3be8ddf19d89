package dev.weft.cli.demo;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ProbeTallyTest {
  @Test
  void countsAnswersByKindMostFrequentFirstAndNamesTheLast() {
    ProbeTally t = new ProbeTally();
    t.add("HTTP 200 (6.7.1)");
    t.add("timed out after 5 s");
    t.add("HTTP 200 (6.7.1)");
    t.add("timed out after 5 s");
    t.add("HTTP 200 (6.7.1)");
    t.add("HTTP 503: no healthy upstream");

    assertThat(t)
        .hasToString(
            "6 probes: 3 HTTP 200 (6.7.1), 2 timed out after 5 s, 1 HTTP 503: no healthy"
                + " upstream; last: HTTP 503: no healthy upstream");
  }

  @Test
  void showsFourKindsAndCountsTheRest() {
    ProbeTally t = new ProbeTally();
    for (String a : new String[] {"a", "a", "b", "b", "c", "c", "d", "d", "e", "f"}) {
      t.add(a);
    }

    assertThat(t).hasToString("10 probes: 2 a, 2 b, 2 c, 2 d, 2 other kinds; last: f");
  }

  @Test
  void aWaitWithoutProbesSaysSo() {
    assertThat(new ProbeTally()).hasToString("0 probes; last: none");
  }
}
