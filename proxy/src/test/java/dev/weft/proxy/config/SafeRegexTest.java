package dev.weft.proxy.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.UInt32Value;
import io.envoyproxy.envoy.type.matcher.v3.RegexMatcher;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Envoy's safe_regex semantics: RE2 syntax, full match, program-size guard. */
class SafeRegexTest {

  static SafeRegex re(String regex) throws InvalidResourceException {
    return SafeRegex.compile(regex, SafeRegex.DEFAULT_MAX_PROGRAM_SIZE);
  }

  @Test
  void matchesTheWholeValueOnly() throws Exception {
    // Envoy's CompiledGoogleReMatcher::match is re2::RE2::FullMatch.
    SafeRegex r = re("/v[0-9]+");
    assertThat(r.matches("/v12")).isTrue();
    assertThat(r.matches("/v12/x")).isFalse();
    assertThat(r.matches("x/v12")).isFalse();
    assertThat(r.matches("/v")).isFalse();
    // An alternation is anchored as a whole, not just its first and last branches.
    SafeRegex alt = re("a|b|ab");
    assertThat(alt.matches("ab")).isTrue();
    assertThat(alt.matches("abc")).isFalse();
    assertThat(alt.matches("cab")).isFalse();
    // Explicit anchors are harmless.
    assertThat(re("^/api/.*$").matches("/api/x")).isTrue();
    assertThat(re(".*").matches("")).isTrue();
  }

  @Test
  void endBoundsTheMatchToThePathWithoutItsQuery() throws Exception {
    SafeRegex r = re("/v[0-9]+");
    assertThat(r.matches("/v12?a=1", 4)).isTrue();
    assertThat(r.matches("/v12/x?a", 6)).isFalse();
    assertThat(re(".*a=1").matches("/p?a=1", 2)).isFalse();
  }

  @Test
  void usesRe2SemanticsNotJavas() throws Exception {
    // RE2's $ (without (?m)) is the end of text; Java's also matches before a final newline.
    assertThat(re("abc$").matches("abc\n")).isFalse();
    // [a&&b] is a class of 'a', '&' and 'b' in RE2, an (empty) intersection in Java.
    assertThat(re("[a&&b]").matches("&")).isTrue();
    // . does not match a newline unless (?s).
    assertThat(re("a.c").matches("a\nc")).isFalse();
    assertThat(re("(?s)a.c").matches("a\nc")).isTrue();
    assertThat(re("(?i)abc").matches("ABC")).isTrue();
    assertThat(re("(?P<v>[0-9]+)").matches("42")).isTrue();
  }

  @Test
  void bytesAboveAsciiAreReadAsUtf8LikeEnvoysRe2() throws Exception {
    // Netty gives the proxy one char per byte: "/é" arrives as the two chars of its UTF-8.
    String wire = new String("/é".getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1);
    assertThat(wire).hasSize(3);
    assertThat(re("/.").matches(wire)).isTrue();
    assertThat(re("/é").matches(wire)).isTrue();
    assertThat(re("/..").matches(wire)).isFalse();
    // A string that cannot have come from the wire is matched as it is.
    assertThat(re("/.").matches("/\u4e16")).isTrue();
  }

  @Test
  void rejectsWhatRe2CannotExpress() {
    for (String bad :
        new String[] {
          "(a)\\1", "(?=x)", "(?!x)", "(?<=x)a", "a*+", "a++", "(?>a)", "\\k<n>", "[", "(", "x{2,1}"
        }) {
      assertThatThrownBy(() -> re(bad))
          .as(bad)
          .isInstanceOf(InvalidResourceException.class)
          .hasMessageContaining("invalid regex '" + bad + "'")
          .hasMessageContaining("error parsing regexp");
    }
    assertThatThrownBy(() -> re("(a)\\1")).hasMessageContaining("invalid escape sequence: `\\1`");
    assertThatThrownBy(() -> re("(?=x)"))
        .hasMessageContaining("invalid or unsupported Perl syntax");
    assertThatThrownBy(() -> re("")).isInstanceOf(InvalidResourceException.class);
  }

  @Test
  @SuppressWarnings("deprecation")
  void programSizeGuard() throws Exception {
    // (a{999}){999} is a program of about a million instructions: over Istio's 32768.
    assertThatThrownBy(() -> re("(a{999}){999}"))
        .isInstanceOf(InvalidResourceException.class)
        .hasMessageContaining("program size of")
        .hasMessageContaining("> max program size of 32768");
    RegexMatcher small =
        RegexMatcher.newBuilder()
            .setGoogleRe2(RegexMatcher.GoogleRE2.newBuilder().setMaxProgramSize(UInt32Value.of(5)))
            .setRegex("/asdf/.*")
            .build();
    assertThatThrownBy(() -> SafeRegex.compile(small))
        .hasMessageContaining("> max program size of 5");
    SafeRegex ok = SafeRegex.compile(small.toBuilder().setRegex("a").build());
    assertThat(ok.matches("a")).isTrue();
    assertThat(SafeRegex.compile(RegexMatcher.newBuilder().setRegex("/x").build()).matches("/x"))
        .isTrue();
  }

  @Test
  void nestedQuantifiersRunInLinearTime() throws Exception {
    // Java's backtracking engine takes exponential time here; RE2/J's automaton is linear. Not a
    // timing assertion: the input is long enough that a backtracking engine would never finish.
    SafeRegex r = re("/((a+)+)+b");
    String crafted = "/" + "a".repeat(50_000) + "c";
    assertThat(r.matches(crafted)).isFalse();
    assertThat(r.matches("/aaab")).isTrue();
  }
}
