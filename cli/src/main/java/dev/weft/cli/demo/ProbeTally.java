package dev.weft.cli.demo;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the requests of one of the demo's waits got, counted by kind of answer ({@code HTTP 200
 * (6.7.1)}, {@code HTTP 503: no healthy upstream}, {@code timed out after 5 s}...), and the last
 * answer: what a wait that ran out saw, for its message. Not thread-safe (the demo's thread only).
 */
final class ProbeTally {
  private static final int KINDS_SHOWN = 4;
  private final Map<String, Integer> kinds = new LinkedHashMap<>();
  private int sent;
  private String last = "none";

  /** Counts one answer, described as the demo prints it. */
  void add(String answer) {
    sent++;
    kinds.merge(answer, 1, Integer::sum);
    last = answer;
  }

  /**
   * {@code 12 probes: 9 HTTP 200 (6.7.1), 3 timed out after 5 s; last: HTTP 200 (6.7.1)}: the most
   * frequent kinds first (at most four, then how many other kinds), then the last answer.
   */
  @Override
  public String toString() {
    List<String> counts = new ArrayList<>();
    kinds.entrySet().stream()
        .sorted(Map.Entry.<String, Integer>comparingByValue().reversed())
        .limit(KINDS_SHOWN)
        .forEach(e -> counts.add(e.getValue() + " " + e.getKey()));
    if (kinds.size() > KINDS_SHOWN) {
      int others = kinds.size() - KINDS_SHOWN;
      counts.add(others + (others == 1 ? " other kind" : " other kinds"));
    }
    return sent
        + (sent == 1 ? " probe" : " probes")
        + (counts.isEmpty() ? "" : ": " + String.join(", ", counts))
        + "; last: "
        + last;
  }
}
