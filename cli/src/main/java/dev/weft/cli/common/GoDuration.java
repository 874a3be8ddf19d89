package dev.weft.cli.common;

import java.time.Duration;
import picocli.CommandLine;

/**
 * A duration as istioctl and kubectl take it (Go's {@code time.ParseDuration}): numbers with units,
 * {@code 30s}, {@code 500ms}, {@code 1m30s}, {@code 1.5h}. Units: ms, s, m, h. The option converter
 * of {@link GoDurationSyntax}.
 */
public final class GoDuration implements CommandLine.ITypeConverter<Duration> {
  @Override
  public Duration convert(String value) {
    return parse(value);
  }

  static Duration parse(String value) {
    try {
      return GoDurationSyntax.parse(value);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.TypeConversionException(e.getMessage());
    }
  }

  /** {@code 30s}, {@code 1m30s}, {@code 1500ms}: {@link GoDurationSyntax#format}. */
  public static String format(Duration d) {
    return GoDurationSyntax.format(d);
  }
}
