package dev.weft.controlplane.xds;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Streams asking for the same names share one set; the cache is bounded. */
class SubscriptionNamesTest {
  @Test
  void equalSubscriptionsShareOneSet() {
    SubscriptionNames names = new SubscriptionNames();
    Set<String> a = names.of(List.of("outbound|80||a", "outbound|80||b"));
    Set<String> b = names.of(new ArrayList<>(List.of("outbound|80||b", "outbound|80||a")));
    assertThat(b).isSameAs(a).containsExactlyInAnyOrder("outbound|80||a", "outbound|80||b");
    assertThat(names.of(List.of("x", "x"))).containsExactly("x");
    assertThat(names.of(List.of())).isEmpty();
    assertThat(names.size()).isEqualTo(2);

    for (int i = 0; i < 5 * SubscriptionNames.MAX; i++) {
      names.of(List.of("name-" + i));
    }
    assertThat(names.size()).isEqualTo(SubscriptionNames.MAX);
  }
}
