package dev.weft.proxy.config;

import com.google.re2j.Matcher;
import com.google.re2j.Pattern;

/**
 * A compiled Envoy {@code route.regex_rewrite} ({@code RegexMatchAndSubstitute}): every match of
 * the pattern in the path (without its query string, which is kept) is replaced by the
 * substitution, as RE2's GlobalReplace does for Envoy. In the substitution {@code \1}..{@code \9}
 * name capture groups and {@code \\} is a backslash (RE2's rewrite syntax); a group the pattern
 * does not have is rejected when compiling, as Envoy rejects it. The pattern is RE2, run by RE2/J
 * (linear time) under {@link SafeRegex}'s program-size guard, as every {@code safe_regex} of the
 * proxy. Immutable; shared by event loops.
 */
public final class RegexRewrite {
  private final Pattern pattern;

  /** The substitution: literal text, and group numbers as {@code Integer}s. */
  private final Object[] parts;

  private RegexRewrite(Pattern pattern, Object[] parts) {
    this.pattern = pattern;
    this.parts = parts;
  }

  /**
   * Compiles {@code regex} and RE2-style {@code substitution}.
   *
   * @throws InvalidResourceException when the regex does not compile or the substitution names a
   *     group the regex lacks, or ends in a lone backslash
   */
  public static RegexRewrite compile(String regex, String substitution)
      throws InvalidResourceException {
    // The guard and the messages of every safe_regex; then the pattern itself, to substitute.
    SafeRegex.compile(regex, SafeRegex.DEFAULT_MAX_PROGRAM_SIZE);
    Pattern p = Pattern.compile(regex);
    int groups = p.groupCount();
    java.util.List<Object> parts = new java.util.ArrayList<>();
    StringBuilder out = new StringBuilder(substitution.length());
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
          if (!out.isEmpty()) {
            parts.add(out.toString());
            out.setLength(0);
          }
          parts.add(n - '0');
        } else if (n == '\\') {
          out.append('\\');
        } else {
          throw new InvalidResourceException(
              "substitution '" + substitution + "': invalid escape \\" + n);
        }
      } else {
        out.append(c);
      }
    }
    if (!out.isEmpty()) {
      parts.add(out.toString());
    }
    return new RegexRewrite(p, parts.toArray());
  }

  /** {@code path} (origin-form, with query) rewritten; the same instance when nothing matched. */
  public String apply(String path) {
    int q = path.indexOf('?');
    String p = q < 0 ? path : path.substring(0, q);
    Matcher m = pattern.matcher(p);
    if (!m.find()) {
      return path;
    }
    StringBuilder out = new StringBuilder(path.length() + 16);
    int last = 0;
    do {
      out.append(p, last, m.start());
      for (Object part : parts) {
        if (part instanceof Integer g) {
          String v = m.group(g);
          if (v != null) {
            out.append(v);
          }
        } else {
          out.append((String) part);
        }
      }
      last = m.end();
      if (m.end() == m.start()) {
        // An empty match: copy one char and look again after it (RE2's GlobalReplace).
        if (last < p.length()) {
          out.append(p.charAt(last));
        }
        last++;
        if (last > p.length() || !m.find(last)) {
          break;
        }
      } else if (!m.find()) {
        break;
      }
    } while (true);
    if (last < p.length()) {
      out.append(p, last, p.length());
    }
    if (q >= 0) {
      out.append(path, q, path.length());
    }
    return out.toString();
  }

  @Override
  public String toString() {
    return "RegexRewrite[" + pattern.pattern() + " -> " + java.util.Arrays.toString(parts) + "]";
  }
}
