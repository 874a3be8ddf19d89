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

    List<String> many = new ArrayList<>();
    for (int i = 0; i < 3000; i++) {
      many.add(("outbound|80|v1|s" + i + ".bench.svc.cluster.local").intern());
    }
    Set<String> first = names.of(List.copyOf(many));
    // The same names in the same order (found by the list), as new strings, in another order.
    assertThat(names.of(new ArrayList<>(many))).isSameAs(first);
    List<String> copies = new ArrayList<>();
    for (String n : many) {
      copies.add(new String(n));
    }
    assertThat(names.of(copies)).isSameAs(first);
    List<String> reversed = new ArrayList<>(many);
    java.util.Collections.reverse(reversed);
    assertThat(names.of(reversed)).isSameAs(first).hasSize(3000).containsAll(many);
    List<String> other = new ArrayList<>(many);
    other.set(1500, "outbound|80|v2|other.bench.svc.cluster.local");
    assertThat(names.of(other)).isNotSameAs(first).contains(other.get(1500)).hasSize(3000);
    assertThat(names.size()).isEqualTo(4);

    for (int i = 0; i < 5 * SubscriptionNames.MAX; i++) {
      names.of(List.of("name-" + i));
    }
    assertThat(names.size()).isEqualTo(SubscriptionNames.MAX);
  }
}
