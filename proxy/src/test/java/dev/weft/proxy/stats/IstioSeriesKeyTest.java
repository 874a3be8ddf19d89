package dev.weft.proxy.stats;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Constructor;
import java.lang.reflect.Method;
import java.lang.reflect.RecordComponent;
import java.util.Arrays;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * {@link IstioSeries.Key}: {@code equals} (the cluster's series map) and {@code matches} (the
 * cluster's last-series hint) are one comparison over every component of the record, so that a
 * component added later cannot let the hint record into another label set.
 */
class IstioSeriesKeyTest {
  /** Two different values of each component type; null first where the component may be null. */
  private static final Map<Class<?>, Object[]> VALUES =
      Map.of(
          PeerMetadata.class,
          new Object[] {
            PeerMetadata.UNKNOWN,
            PeerMetadata.ofNode(
                Map.of("NAME", "a", "NAMESPACE", "n", "WORKLOAD_NAME", "a"), "x", "y")
          },
          String.class,
          new Object[] {null, "spiffe://cluster.local/ns/n/sa/a"},
          boolean.class,
          new Object[] {false, true},
          int.class,
          new Object[] {200, 503},
          MetricOverrides.class,
          new Object[] {
            null,
            new MetricOverrides(
                Map.of("requests_total", new MetricOverrides.Override(true, Set.of(), Map.of())))
          },
          IstioService.class,
          new Object[] {null, new IstioService("h.n.svc.cluster.local", "h", "n")});

  @Test
  void matchesTakesEveryComponentOfTheKeyInOrder() throws Exception {
    Class<?>[] types =
        Arrays.stream(IstioSeries.Key.class.getRecordComponents())
            .map(RecordComponent::getType)
            .toArray(Class<?>[]::new);
    Method matches = IstioSeries.Key.class.getDeclaredMethod("matches", types);
    assertThat(matches.getReturnType()).isEqualTo(boolean.class);
  }

  @Test
  void everyComponentTellsTwoSeriesApartInEqualsAndInMatches() throws Exception {
    RecordComponent[] components = IstioSeries.Key.class.getRecordComponents();
    Class<?>[] types =
        Arrays.stream(components).map(RecordComponent::getType).toArray(Class[]::new);
    Constructor<IstioSeries.Key> canonical = IstioSeries.Key.class.getDeclaredConstructor(types);
    Method matches = IstioSeries.Key.class.getDeclaredMethod("matches", types);
    Object[] base = new Object[types.length];
    for (int i = 0; i < types.length; i++) {
      assertThat(VALUES)
          .as("a component of type %s: give it two values here", types[i])
          .containsKey(types[i]);
      base[i] = VALUES.get(types[i])[0];
    }
    IstioSeries.Key key = canonical.newInstance(base);
    IstioSeries.Key same = canonical.newInstance(base.clone());
    assertThat(key).isEqualTo(same).hasSameHashCodeAs(same);
    assertThat((boolean) matches.invoke(key, base)).isTrue();
    for (int i = 0; i < types.length; i++) {
      Object[] other = base.clone();
      other[i] = VALUES.get(types[i])[1];
      IstioSeries.Key differs = canonical.newInstance(other);
      assertThat(key).as("equals over %s", components[i].getName()).isNotEqualTo(differs);
      assertThat(differs).as("equals over %s", components[i].getName()).isNotEqualTo(key);
      assertThat((boolean) matches.invoke(key, other))
          .as("matches over %s", components[i].getName())
          .isFalse();
      assertThat((boolean) matches.invoke(differs, base))
          .as("matches over %s", components[i].getName())
          .isFalse();
      // Equal values that are different instances are still one series.
      Object[] copy = other.clone();
      IstioSeries.Key again = canonical.newInstance(copy);
      assertThat(again).isEqualTo(differs).hasSameHashCodeAs(differs);
      assertThat((boolean) matches.invoke(differs, copy)).isTrue();
    }
  }
}
