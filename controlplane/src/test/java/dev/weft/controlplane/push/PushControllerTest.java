package dev.weft.controlplane.push;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.controlplane.registry.Workload;
import dev.weft.controlplane.registry.WorkloadRegistry;
import dev.weft.controlplane.store.ConfigStore;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PushControllerTest {
  @TempDir Path dir;

  private static Workload workload(int i) {
    return new Workload(
        "wl-" + i,
        "demo",
        Map.of("app", "podinfo"),
        "127.0.3." + i,
        Map.of("http", 9898),
        "default",
        Workload.Source.PROXY);
  }

  /**
   * A connect storm: a proxy registers every 50 ms for 5 s. Registrations wait up to Istio's
   * PILOT_DEBOUNCE_MAX (10 s), not ten quiet periods (1 s), so the storm is one push, made once it
   * is quiet, with every workload in it.
   */
  @Test
  void aStormOfRegistrationsIsOnePushOnceItIsQuiet() throws Exception {
    DebouncerTest.ManualTime time = new DebouncerTest.ManualTime();
    WorkloadRegistry registry = new WorkloadRegistry();
    try (ConfigStore store = ConfigStore.open(dir, time)) {
      PushController push = new PushController(store, registry, time, Duration.ofMillis(100), time);
      List<PushContext> pushed = new ArrayList<>();
      push.addListener(pushed::add);
      for (int i = 0; i < 100; i++) {
        registry.register(i, workload(i));
        time.advance(Duration.ofMillis(50));
      }
      assertThat(pushed).as("no push during the 5 s storm").isEmpty();
      time.advance(Duration.ofMillis(100));
      assertThat(pushed).hasSize(1);
      assertThat(pushed.getFirst().changes().affects(dev.weft.xds.TypeUrls.ENDPOINT)).isTrue();
      assertThat(push.current().workloads()).hasSize(100);
    }
  }

  /** A storm longer than 10 s is pushed every 10 s (the longest any registration waits). */
  @Test
  void aLongStormIsPushedAtTheMaximumDelay() throws Exception {
    DebouncerTest.ManualTime time = new DebouncerTest.ManualTime();
    WorkloadRegistry registry = new WorkloadRegistry();
    try (ConfigStore store = ConfigStore.open(dir, time)) {
      PushController push = new PushController(store, registry, time, Duration.ofMillis(100), time);
      List<PushContext> pushed = new ArrayList<>();
      push.addListener(pushed::add);
      for (int i = 0; i < 250; i++) { // 12.5 s
        registry.register(i, workload(i));
        time.advance(Duration.ofMillis(50));
      }
      assertThat(pushed).hasSize(1);
    }
  }
}
