package dev.weft.proxy.config;

import com.google.re2j.Pattern;
import com.google.re2j.PatternSyntaxException;
import io.envoyproxy.envoy.type.matcher.v3.RegexMatcher;
import java.nio.charset.StandardCharsets;

/**
 * A compiled Envoy {@code safe_regex} ({@code envoy.type.matcher.v3.RegexMatcher} with the {@code
 * google_re2} engine): RE2 syntax, run by RE2/J, whose automaton matches in time linear in the
 * input whatever the pattern, so request data cannot make a route regex backtrack (Envoy uses RE2
 * for exactly this reason). Like Envoy's {@code CompiledGoogleReMatcher::match}, which calls {@code
 * re2::RE2::FullMatch}, a value matches only if the regex matches all of it.
 *
 * <p>Envoy's RE2 runs over the value's bytes as UTF-8. Netty hands the proxy request lines and
 * headers as one char per byte (ISO-8859-1), so a value with chars in 0x80..0xFF is matched as
 * those bytes, read as UTF-8: {@code .} matches one UTF-8 code point, as in Envoy (an invalid UTF-8
 * byte reads as U+FFFD, where C++ RE2 would match no class against it). ASCII values, the common
 * case, are matched as they are, without a copy; so are values with a char above 0xFF, which cannot
 * have come from the wire.
 *
 * <p>Compilation enforces Envoy's program-size guard: the regex's RE2 program may have at most
 * {@code google_re2.max_program_size} instructions when that (deprecated) field is set, else {@link
 * #DEFAULT_MAX_PROGRAM_SIZE}, the {@code re2.max_program_size.error_level} that Istio's bootstrap
 * gives Envoy. A pattern RE2 cannot express (back-references, look-around, possessive quantifiers,
 * ...) or one over the limit fails with {@link InvalidResourceException}, so the resource is
 * NACKed. Immutable and thread-safe: event loops share one instance.
 */
public final class SafeRegex {
  /** Istio's bootstrap sets Envoy's runtime {@code re2.max_program_size.error_level} to 32768. */
  public static final int DEFAULT_MAX_PROGRAM_SIZE = 32768;

  private final Pattern pattern;

  private SafeRegex(Pattern pattern) {
    this.pattern = pattern;
  }

  /**
   * Compiles an Envoy {@code RegexMatcher}: its {@code google_re2.max_program_size}, when set,
   * replaces the default program-size limit.
   */
  @SuppressWarnings("deprecation") // google_re2 and its max_program_size are what Istio may send
  public static SafeRegex compile(RegexMatcher m) throws InvalidResourceException {
    int max = DEFAULT_MAX_PROGRAM_SIZE;
    if (m.hasGoogleRe2() && m.getGoogleRe2().hasMaxProgramSize()) {
      long v = Integer.toUnsignedLong(m.getGoogleRe2().getMaxProgramSize().getValue());
      max = (int) Math.min(v, Integer.MAX_VALUE);
    }
    return compile(m.getRegex(), max);
  }

  /** Compiles {@code regex} (RE2 syntax) whose program may have up to {@code maxProgramSize}. */
  public static SafeRegex compile(String regex, int maxProgramSize)
      throws InvalidResourceException {
    if (regex.isEmpty()) {
      // Envoy's RegexMatcher.regex has (validate.rules).string.min_len = 1.
      throw new InvalidResourceException("invalid regex '': must not be empty");
    }
    Pattern p;
    try {
      p = Pattern.compile(regex);
    } catch (PatternSyntaxException e) {
      // RE2/J's message is Go's: "error parsing regexp: invalid escape sequence: `\1`".
      throw new InvalidResourceException("invalid regex '" + regex + "': " + e.getMessage());
    } catch (RuntimeException e) {
      throw new InvalidResourceException("invalid regex '" + regex + "': " + e);
    }
    int size = p.programSize();
    if (size > maxProgramSize) {
      // Envoy: "regex '...' RE2 program size of N > max program size of M ..."
      throw new InvalidResourceException(
          "regex '"
              + regex
              + "' RE2 program size of "
              + size
              + " > max program size of "
              + maxProgramSize);
    }
    return new SafeRegex(p);
  }

  /** Whether the regex matches all of {@code value} (RE2's full match). */
  public boolean matches(String value) {
    if (isLatin1NonAscii(value)) {
      return pattern.matches(value.getBytes(StandardCharsets.ISO_8859_1));
    }
    return pattern.matcher(value).matches();
  }

  /**
   * Whether the regex matches all of {@code value}'s first {@code end} chars (a path without its
   * query string). Copies the prefix only when {@code end} is shorter than the value.
   */
  public boolean matches(String value, int end) {
    return matches(end == value.length() ? value : value.substring(0, end));
  }

  /** The regex as configured. */
  public String pattern() {
    return pattern.pattern();
  }

  /** The size of the compiled RE2 program (what the program-size guard limits). */
  public int programSize() {
    return pattern.programSize();
  }

  /** Whether {@code s} has a char in 0x80..0xFF and none above: bytes that are not ASCII. */
  private static boolean isLatin1NonAscii(String s) {
    boolean high = false;
    for (int i = 0, n = s.length(); i < n; i++) {
      char c = s.charAt(i);
      if (c > 0xFF) {
        return false;
      }
      high |= c >= 0x80;
    }
    return high;
  }

  @Override
  public String toString() {
    return pattern.pattern();
  }
}
