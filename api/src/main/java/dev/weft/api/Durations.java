package dev.weft.api;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.Map;

/**
 * Parses durations as Go's {@code time.ParseDuration} does ({@code 300ms}, {@code 1.5h}, {@code
 * 2h45m}), which is what Istio's CRD schema ({@code duration(self)}) accepts and what users write.
 */
public final class Durations {
  private static final Map<String, Long> UNITS =
      Map.of(
          "ns", 1L,
          "us", 1_000L,
          "µs", 1_000L,
          "μs", 1_000L,
          "ms", 1_000_000L,
          "s", 1_000_000_000L,
          "m", 60_000_000_000L,
          "h", 3_600_000_000_000L);

  private Durations() {}

  /** The duration {@code s} denotes, or null when it is not a valid non-negative duration. */
  public static Duration parse(String s) {
    if (s.isEmpty()) {
      return null;
    }
    if (s.equals("0")) {
      return Duration.ZERO;
    }
    int i = 0;
    BigDecimal nanos = BigDecimal.ZERO;
    if (s.charAt(0) == '+') {
      i++;
    }
    if (i >= s.length()) {
      return null;
    }
    while (i < s.length()) {
      int start = i;
      while (i < s.length() && (Character.isDigit(s.charAt(i)) || s.charAt(i) == '.')) {
        i++;
      }
      String number = s.substring(start, i);
      if (number.isEmpty()
          || number.equals(".")
          || number.indexOf('.') != number.lastIndexOf('.')) {
        return null;
      }
      int unitStart = i;
      while (i < s.length() && !Character.isDigit(s.charAt(i)) && s.charAt(i) != '.') {
        i++;
      }
      Long unit = UNITS.get(s.substring(unitStart, i));
      if (unit == null) {
        return null;
      }
      nanos = nanos.add(new BigDecimal(number).multiply(BigDecimal.valueOf(unit)));
    }
    try {
      long n = nanos.setScale(0, java.math.RoundingMode.DOWN).longValueExact();
      return Duration.ofNanos(n);
    } catch (ArithmeticException e) {
      return null;
    }
  }
}
