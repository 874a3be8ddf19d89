package dev.weft.proxy.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.SubjectAltNameMatcher;
import io.envoyproxy.envoy.type.matcher.v3.RegexMatcher;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import org.junit.jupiter.api.Test;

/** Envoy's subject alt name matching. */
class SanMatcherTest {
  static SanMatcher typed(SubjectAltNameMatcher.SanType t, StringMatcher m) throws Exception {
    return SanMatcher.typed(SubjectAltNameMatcher.newBuilder().setSanType(t).setMatcher(m).build());
  }

  @Test
  void uriExactAndPrefix() throws Exception {
    SanMatcher exact =
        typed(
            SubjectAltNameMatcher.SanType.URI,
            StringMatcher.newBuilder().setExact("spiffe://cluster.local/ns/a/sa/b").build());
    assertThat(exact.matches(SanMatcher.URI, "spiffe://cluster.local/ns/a/sa/b")).isTrue();
    assertThat(exact.matches(SanMatcher.URI, "spiffe://cluster.local/ns/a/sa/bb")).isFalse();
    SanMatcher prefix =
        typed(
            SubjectAltNameMatcher.SanType.URI,
            StringMatcher.newBuilder().setPrefix("spiffe://cluster.local/").build());
    assertThat(prefix.matches(SanMatcher.URI, "spiffe://cluster.local/ns/x/sa/y")).isTrue();
    assertThat(prefix.matches(SanMatcher.URI, "spiffe://other.local/ns/x/sa/y")).isFalse();
  }

  @Test
  void dnsWildcardSatisfiesAnExactMatchOneLabelBelow() throws Exception {
    SanMatcher m =
        typed(
            SubjectAltNameMatcher.SanType.DNS,
            StringMatcher.newBuilder().setExact("api.example.com").build());
    assertThat(m.matches(SanMatcher.DNS, "*.example.com")).isTrue();
    assertThat(m.matches(SanMatcher.DNS, "*.other.com")).isFalse();
    assertThat(m.matches(SanMatcher.URI, "*.example.com")).isFalse();
  }

  @Test
  void ignoreCaseAndRegex() throws Exception {
    SanMatcher ic =
        SanMatcher.untyped(
            StringMatcher.newBuilder().setSuffix("/SA/B").setIgnoreCase(true).build());
    assertThat(ic.matches(SanMatcher.URI, "spiffe://c/ns/a/sa/b")).isTrue();
    SanMatcher re =
        SanMatcher.untyped(
            StringMatcher.newBuilder()
                .setSafeRegex(RegexMatcher.newBuilder().setRegex("spiffe://[^/]+/ns/a/.*"))
                .build());
    assertThat(re.matches(SanMatcher.URI, "spiffe://c/ns/a/sa/b")).isTrue();
    assertThat(re.matches(SanMatcher.URI, "spiffe://c/ns/b/sa/b")).isFalse();
    assertThatThrownBy(
            () ->
                SanMatcher.untyped(
                    StringMatcher.newBuilder()
                        .setSafeRegex(RegexMatcher.newBuilder().setRegex("(a"))
                        .build()))
        .isInstanceOf(TlsConfigException.class)
        .hasMessageContaining("invalid regex");
  }
}
