package dev.weft.api;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class NameRulesTest {
  @Test
  void labelsAreCheckedWithTheParsersWording() {
    assertThat(NameRules.dns1123Label("podinfo-v1")).isEmpty();
    assertThat(NameRules.dns1123Label("a".repeat(63))).isEmpty();
    assertThat(NameRules.dns1123Label("a".repeat(64))).isPresent();
    for (String bad : new String[] {"/../x", "..", "a.b", "A", "-a", "a-", "", "a/b"}) {
      assertThat(NameRules.dns1123Label(bad))
          .as(bad)
          .contains(Names.dns1123Label(bad))
          .hasValueSatisfying(m -> assertThat(m).contains("is not a valid DNS-1123 label"));
    }
  }

  @Test
  void subdomainsAllowDots() {
    assertThat(NameRules.dns1123Subdomain("a.b")).isEmpty();
    assertThat(NameRules.dns1123Subdomain("a/b")).isPresent();
  }
}
