package dev.weft.api.networking;

/**
 * Istio's StringMatch: exactly one of {@code exact}, {@code prefix}, {@code regex} (RE2 syntax).
 *
 * @param type which of the three
 * @param value the string, prefix or regular expression
 */
public record StringMatch(Type type, String value) {
  /** The oneOf case. */
  public enum Type {
    EXACT,
    PREFIX,
    REGEX
  }
}
