package dev.weft.proxy.config;

import java.util.Locale;

/**
 * A compiled Envoy {@code StringMatcher} (exact, prefix, suffix, contains, safe_regex; optional
 * ignore_case, which Envoy ignores for safe_regex). Regexes are compiled once, when the
 * configuration is, by {@link SafeRegex} (RE2/J, linear time); {@code safe_regex} must match the
 * whole value, as RE2's full match does in Envoy.
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
  private final SafeRegex regex;

  /**
   * A matcher of {@code kind}; a {@link Kind#REGEX} is compiled with {@link SafeRegex}'s default
   * program-size limit.
   */
  public StringMatch(Kind kind, String value, boolean ignoreCase) throws InvalidResourceException {
    this(
        kind,
        value,
        ignoreCase,
        kind == Kind.REGEX ? SafeRegex.compile(value, SafeRegex.DEFAULT_MAX_PROGRAM_SIZE) : null);
  }

  private StringMatch(Kind kind, String value, boolean ignoreCase, SafeRegex regex) {
    this.kind = kind;
    this.ignoreCase = ignoreCase && kind != Kind.REGEX;
    this.value = this.ignoreCase ? value.toLowerCase(Locale.ROOT) : value;
    this.regex = regex;
  }

  /** Envoy's {@code safe_regex}: matches when {@code regex} matches the whole value. */
  public static StringMatch regex(SafeRegex regex) {
    return new StringMatch(Kind.REGEX, regex.pattern(), false, regex);
  }

  public boolean matches(String input) {
    String s = ignoreCase ? input.toLowerCase(Locale.ROOT) : input;
    return switch (kind) {
      case EXACT -> s.equals(value);
      case PREFIX -> s.startsWith(value);
      case SUFFIX -> s.endsWith(value);
      case CONTAINS -> s.contains(value);
      case REGEX -> regex.matches(s);
    };
  }

  @Override
  public String toString() {
    return kind.name().toLowerCase(Locale.ROOT) + ":" + value;
  }
}
