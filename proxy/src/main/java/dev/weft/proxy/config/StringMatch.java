package dev.weft.proxy.config;

import java.util.Locale;
import java.util.regex.Pattern;

/**
 * A compiled Envoy {@code StringMatcher} (exact, prefix, suffix, contains, safe_regex; optional
 * ignore_case). Regexes are compiled once, when the configuration is; {@code safe_regex} must match
 * the whole value, as RE2's full match does in Envoy.
 */
public final class StringMatch {
  /** What kind of comparison this is. */
  public enum Kind {
    EXACT,
    PREFIX,
    SUFFIX,
    CONTAINS,
    REGEX
  }

  private final Kind kind;
  private final String value;
  private final boolean ignoreCase;
  private final Pattern pattern;

  public StringMatch(Kind kind, String value, boolean ignoreCase) throws InvalidResourceException {
    this.kind = kind;
    this.ignoreCase = ignoreCase && kind != Kind.REGEX;
    this.value = this.ignoreCase ? value.toLowerCase(Locale.ROOT) : value;
    if (kind == Kind.REGEX) {
      try {
        this.pattern = Pattern.compile(value);
      } catch (RuntimeException e) {
        throw new InvalidResourceException("invalid regex '" + value + "': " + e.getMessage());
      }
    } else {
      this.pattern = null;
    }
  }

  public boolean matches(String input) {
    String s = ignoreCase ? input.toLowerCase(Locale.ROOT) : input;
    return switch (kind) {
      case EXACT -> s.equals(value);
      case PREFIX -> s.startsWith(value);
      case SUFFIX -> s.endsWith(value);
      case CONTAINS -> s.contains(value);
      case REGEX -> pattern.matcher(s).matches();
    };
  }

  @Override
  public String toString() {
    return kind.name().toLowerCase(Locale.ROOT) + ":" + value;
  }
}
