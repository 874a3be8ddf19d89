package dev.weft.controlplane.xds;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A stream's held resources as a shared map plus its own entries, equal to the whole. */
class OverlayMapTest {
  private static Map<String, Object> values(String... names) {
    Map<String, Object> out = new HashMap<>();
    for (String n : names) {
      out.put(n, new Object());
    }
    return out;
  }

  @Test
  void anOverlayEqualsTheWholeAndHoldsTheSharedPartByReference() {
    Map<String, Object> shared = Map.copyOf(values("a", "b", "c"));
    Map<String, Object> all = new HashMap<>(shared);
    all.putAll(values("inbound|9080||"));
    Map<String, Object> m = OverlayMap.of(shared, all);

    assertThat(m).isInstanceOf(OverlayMap.class).isEqualTo(all).hasSize(4);
    assertThat(m.hashCode()).isEqualTo(all.hashCode());
    assertThat(m.get("a")).isSameAs(shared.get("a"));
    assertThat(m.get("inbound|9080||")).isSameAs(all.get("inbound|9080||"));
    assertThat(m.get("zzz")).isNull();
    assertThat(m.containsKey("inbound|9080||")).isTrue();
    assertThat(m.containsKey("zzz")).isFalse();
    List<String> keys = new ArrayList<>(m.keySet());
    assertThat(keys).containsExactlyInAnyOrder("a", "b", "c", "inbound|9080||");
    assertThat(new ArrayList<>(m.values())).hasSize(4);
    assertThat(OverlayMap.of(shared, new HashMap<>(shared))).isSameAs(shared);
  }

  @Test
  void whatIsNotAnOverlayOfTheSharedMapIsCopied() {
    Map<String, Object> shared = Map.copyOf(values("a", "b"));
    Map<String, Object> missing = new HashMap<>(values("x"));
    missing.put("a", shared.get("a")); // b is not there
    assertThat(OverlayMap.of(shared, missing)).isNotInstanceOf(OverlayMap.class).isEqualTo(missing);

    Map<String, Object> differs = new HashMap<>(shared);
    differs.put("b", new Object()); // another b than the shared one
    assertThat(OverlayMap.of(shared, differs)).isNotInstanceOf(OverlayMap.class).isEqualTo(differs);
  }
}
