package dev.weft.analysis;

import java.util.Locale;
import java.util.Optional;

/** A message's level, as Istio's {@code diag.Level}: Error, Warning, Info (most severe first). */
public enum Level {
  ERROR("Error"),
  WARNING("Warning"),
  INFO("Info");

  private final String display;

  Level(String display) {
    this.display = display;
  }

  /** The level as istioctl prints it: {@code Error}, {@code Warning}, {@code Info}. */
  public String display() {
    return display;
  }

  /** Whether this level is at least as severe as {@code other}. */
  public boolean atLeast(Level other) {
    return ordinal() <= other.ordinal();
  }

  /** The level named {@code name} in any case ({@code error}, {@code Warning}...), if any. */
  public static Optional<Level> parse(String name) {
    for (Level l : values()) {
      if (l.display.toLowerCase(Locale.ROOT).equals(name.toLowerCase(Locale.ROOT))) {
        return Optional.of(l);
      }
    }
    return Optional.empty();
  }
}
