package dev.weft.proxy.config;

import java.util.Locale;

/**
 * A compiled route path matcher: Envoy's {@code prefix} (against {@code :path}), {@code path} and
 * {@code safe_regex} (both against the path without its query string), with {@code case_sensitive}
 * (which Envoy ignores for safe_regex). A regex is a {@link SafeRegex} (RE2/J, linear time) that
 * must match the whole path, as Envoy's RE2 full match does.
 */
public final class PathMatch {
  /** Envoy's path specifiers that Weft supports. */
  public enum Kind {
    PREFIX,
    PATH,
    REGEX,
    /**
     * Envoy's {@code connect_matcher}: matches CONNECT requests only (which have no path); the
     * router pairs it with the method, so it matches any path here.
     */
    CONNECT
  }

  private final Kind kind;
  private final String value;
  private final boolean caseSensitive;
  private final SafeRegex regex;

  /**
   * A matcher of {@code kind}; a {@link Kind#REGEX} is compiled with {@link SafeRegex}'s default
   * program-size limit.
   */
  public PathMatch(Kind kind, String value, boolean caseSensitive) throws InvalidResourceException {
    this(
        kind,
        value,
        caseSensitive,
        kind == Kind.REGEX ? SafeRegex.compile(value, SafeRegex.DEFAULT_MAX_PROGRAM_SIZE) : null);
  }

  private PathMatch(Kind kind, String value, boolean caseSensitive, SafeRegex regex) {
    this.kind = kind;
    this.caseSensitive = caseSensitive;
    this.value = caseSensitive || kind == Kind.REGEX ? value : value.toLowerCase(Locale.ROOT);
    this.regex = regex;
  }

  /** Envoy's {@code safe_regex} path specifier. */
  public static PathMatch regex(SafeRegex regex) {
    return new PathMatch(Kind.REGEX, regex.pattern(), true, regex);
  }

  public Kind kind() {
    return kind;
  }

  public String value() {
    return value;
  }

  /**
   * Whether {@code path} (the request's origin-form path with query) matches; {@code queryStart} is
   * the index of '?' or the path's length.
   */
  public boolean matches(String path, int queryStart) {
    return switch (kind) {
      case PREFIX ->
          caseSensitive
              ? path.startsWith(value)
              : path.regionMatches(true, 0, value, 0, value.length());
      case PATH ->
          queryStart == value.length()
              && (caseSensitive
                  ? path.startsWith(value)
                  : path.regionMatches(true, 0, value, 0, value.length()));
      case REGEX -> regex.matches(path, queryStart);
      case CONNECT -> true;
    };
  }
}
