package dev.weft.proxy.config;

import java.util.Locale;
import java.util.regex.Pattern;

/**
 * A compiled route path matcher: Envoy's {@code prefix} (against {@code :path}), {@code path} and
 * {@code safe_regex} (both against the path without its query string), with {@code case_sensitive}.
 */
public final class PathMatch {
  /** Envoy's path specifiers that Weft supports. */
  public enum Kind {
    PREFIX,
    PATH,
    REGEX
  }

  private final Kind kind;
  private final String value;
  private final boolean caseSensitive;
  private final Pattern pattern;

  public PathMatch(Kind kind, String value, boolean caseSensitive) throws InvalidResourceException {
    this.kind = kind;
    this.caseSensitive = caseSensitive;
    this.value = caseSensitive || kind == Kind.REGEX ? value : value.toLowerCase(Locale.ROOT);
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
      case REGEX -> pattern.matcher(path).region(0, queryStart).matches();
    };
  }
}
