package dev.weft.cli.common;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Go's {@code time.ParseDuration} syntax as istioctl and kubectl take durations: numbers with
 * units, {@code 30s}, {@code 500ms}, {@code 1m30s}, {@code 1.5h}. Units: ms, s, m, h. Without
 * picocli ({@link GoDuration} is its option converter), so that the proxy's JVM ({@code
 * dev.weft.cli.run.ProxyMain}, whose class path has no picocli) parses them too.
 */
public final class GoDurationSyntax {
  private static final Pattern WHOLE = Pattern.compile("(?:\\d+(?:\\.\\d+)?(?:ms|s|m|h))+");
  private static final Pattern PART = Pattern.compile("(\\d+(?:\\.\\d+)?)(ms|s|m|h)");

  private GoDurationSyntax() {}

  /**
   * The duration {@code value} names.
   *
   * @throws IllegalArgumentException when it is not one
   */
  public static Duration parse(String value) {
    if (value == null || !WHOLE.matcher(value).matches()) {
      throw new IllegalArgumentException(
          "invalid duration \"" + value + "\": use a number with a unit, like 30s, 500ms or 2m");
    }
    Matcher m = PART.matcher(value);
    BigDecimal millis = BigDecimal.ZERO;
    while (m.find()) {
      BigDecimal n = new BigDecimal(m.group(1));
      long unit =
          switch (m.group(2)) {
            case "ms" -> 1;
            case "s" -> 1_000;
            case "m" -> 60_000;
            default -> 3_600_000;
          };
      millis = millis.add(n.multiply(BigDecimal.valueOf(unit)));
    }
    return Duration.ofMillis(millis.longValue());
  }

  /** {@code 30s}, {@code 1m30s}, {@code 500ms}: the shortest form {@link #parse} reads back. */
  public static String format(Duration d) {
    long ms = d.toMillis();
    if (ms % 1000 != 0) {
      return ms + "ms";
    }
    long s = ms / 1000;
    StringBuilder sb = new StringBuilder();
    if (s >= 3600) {
      sb.append(s / 3600).append('h');
      s %= 3600;
    }
    if (s >= 60) {
      sb.append(s / 60).append('m');
      s %= 60;
    }
    if (s > 0 || sb.isEmpty()) {
      sb.append(s).append('s');
    }
    return sb.toString();
  }
}
