package dev.weft.proxy.config;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A compiled Envoy {@code route.regex_rewrite} ({@code RegexMatchAndSubstitute}): every match of
 * the pattern in the path (without its query string, which is kept) is replaced by the
 * substitution, as RE2's GlobalReplace does for Envoy. In the substitution {@code \1}..{@code \9}
 * name capture groups and {@code \\} is a backslash (RE2's rewrite syntax); a group the pattern
 * does not have is rejected when compiling, as Envoy rejects it. The regex is compiled the way
 * {@link PathMatch} compiles {@code safe_regex}. Immutable; shared by event loops.
 */
public final class RegexRewrite {
  private final Pattern pattern;
  private final String replacement;

  private RegexRewrite(Pattern pattern, String replacement) {
    this.pattern = pattern;
    this.replacement = replacement;
  }

  /**
   * Compiles {@code regex} and RE2-style {@code substitution}.
   *
   * @throws InvalidResourceException when the regex does not compile or the substitution names a
   *     group the regex lacks, or ends in a lone backslash
   */
  public static RegexRewrite compile(String regex, String substitution)
      throws InvalidResourceException {
    Pattern p;
    try {
      p = Pattern.compile(regex);
    } catch (RuntimeException e) {
      throw new InvalidResourceException("invalid regex '" + regex + "': " + e.getMessage());
    }
    int groups = p.matcher("").groupCount();
    StringBuilder out = new StringBuilder(substitution.length() + 8);
    for (int i = 0; i < substitution.length(); i++) {
      char c = substitution.charAt(i);
      if (c == '\\') {
        if (i + 1 >= substitution.length()) {
          throw new InvalidResourceException(
              "substitution '" + substitution + "' ends with a lone backslash");
        }
        char n = substitution.charAt(++i);
        if (n >= '0' && n <= '9') {
          if (n - '0' > groups) {
            throw new InvalidResourceException(
                "substitution '"
                    + substitution
                    + "' names group \\"
                    + n
                    + " but the regex has "
                    + groups);
          }
          out.append('$').append(n);
        } else if (n == '\\') {
          out.append("\\\\");
        } else {
          throw new InvalidResourceException(
              "substitution '" + substitution + "': invalid escape \\" + n);
        }
      } else if (c == '$') {
        out.append("\\$");
      } else {
        out.append(c);
      }
    }
    return new RegexRewrite(p, out.toString());
  }

  /** {@code path} (origin-form, with query) rewritten; the same instance when nothing matched. */
  public String apply(String path) {
    int q = path.indexOf('?');
    String p = q < 0 ? path : path.substring(0, q);
    Matcher m = pattern.matcher(p);
    if (!m.find()) {
      return path;
    }
    String rewritten = m.replaceAll(replacement);
    return q < 0 ? rewritten : rewritten + path.substring(q);
  }

  @Override
  public String toString() {
    return "RegexRewrite[" + pattern.pattern() + " -> " + replacement + "]";
  }
}
