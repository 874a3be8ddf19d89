package dev.weft.controlplane.registry;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WorkloadRegistryTest {
  private static final Duration GRACE = Duration.ofSeconds(40);

  @TempDir Path dir;

  /** A clock the test moves. */
  static final class ManualClock extends Clock {
    private Instant now = Instant.parse("2026-11-30T10:00:00Z");

    void advance(Duration d) {
      now = now.plus(d);
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  }

  private final ManualClock clock = new ManualClock();

  private static Workload workload(String name, String version, String address) {
    return new Workload(
        name,
        "demo",
        Map.of("app", "podinfo", "version", version),
        address,
        Map.of("http", 9898),
        "default",
        Workload.Source.PROXY);
  }

  private static final Workload V1 = workload("podinfo-v1", "v1", "127.0.1.2");
  private static final Workload V2 = workload("podinfo-v2", "v2", "127.0.1.3");
  private static final Workload GATEWAY =
      new Workload(
          "istio-ingressgateway",
          "istio-system",
          Map.of("istio", "ingressgateway"),
          "127.0.0.1",
          Map.of(),
          "default",
          Workload.Source.PROXY);

  private Path file() {
    return dir.resolve("registry/workloads.json");
  }

  private WorkloadRegistry open() {
    return WorkloadRegistry.open(file(), clock, GRACE);
  }

  @Test
  void coalescedWritesRewriteTheFileOnceForAStormOfRegistrations() throws Exception {
    WorkloadRegistry registry = open();
    java.util.List<Runnable> later = new java.util.ArrayList<>();
    registry.coalesceWrites(later::add);
    for (int i = 0; i < 50; i++) {
      registry.register(i, workload("wl-" + i, "v1", "127.0.3." + i));
    }
    assertThat(later).as("one write scheduled for the 50 changes").hasSize(1);
    assertThat(file()).doesNotExist();

    later.removeFirst().run();
    String written = Files.readString(file());
    assertThat(written).contains("wl-0", "wl-49");

    registry.unregister(49);
    assertThat(later).hasSize(1);
    assertThat(Files.readString(file())).contains("wl-49");
    registry.close(); // writes at once, whatever is scheduled
    assertThat(Files.readString(file())).contains("wl-48").doesNotContain("wl-49");
    later.removeFirst().run(); // the scheduled write after close writes nothing
    assertThat(Files.readString(file())).doesNotContain("wl-49");
  }

  @Test
  void inMemoryRegistryTracksStreamsAndTellsListeners() {
    WorkloadRegistry r = new WorkloadRegistry();
    AtomicInteger changes = new AtomicInteger();
    r.addListener(changes::incrementAndGet);
    r.register(2, V2);
    r.register(1, V1);
    assertThat(r.workloads()).containsExactly(V1, V2);
    r.unregister(2);
    r.unregister(7); // unknown: no change
    assertThat(r.workloads()).containsExactly(V1);
    assertThat(changes).hasValue(3);
    assertThat(r.nextExpiry()).isEmpty();
  }

  @Test
  void aRestartedRegistryServesThePreviousWorkloadsBeforeTheirProxiesReconnect() {
    WorkloadRegistry before = open();
    before.register(1, V1);
    before.register(2, V2);
    before.register(3, GATEWAY);
    // The control plane is killed here: nothing more is written.

    clock.advance(Duration.ofSeconds(5));
    WorkloadRegistry after = open();
    AtomicInteger changes = new AtomicInteger();
    after.addListener(changes::incrementAndGet);
    // The gateway reconnects first: the sidecars' workloads are still there.
    after.register(1, GATEWAY);
    assertThat(after.workloads()).containsExactly(GATEWAY, V1, V2);
    assertThat(after.nextExpiry()).contains(clock.instant().plus(GRACE));

    // Their proxies come back: confirmed, listed once each, nothing left to expire.
    Workload v1Again = workload("podinfo-v1", "v1", "127.0.1.2");
    after.register(2, v1Again);
    after.register(3, V2);
    assertThat(after.workloads()).containsExactly(GATEWAY, v1Again, V2);
    assertThat(after.nextExpiry()).isEmpty();
    clock.advance(GRACE.plusSeconds(1));
    assertThat(after.expire()).isEmpty();
    assertThat(after.workloads()).containsExactly(GATEWAY, v1Again, V2);
    assertThat(changes).hasValue(3);
  }

  @Test
  void aWorkloadWhoseProxyDoesNotReconnectIsRemovedWhenItsGracePeriodEnds() throws Exception {
    WorkloadRegistry before = open();
    before.register(1, V1);
    before.register(2, V2);

    WorkloadRegistry after = open();
    AtomicInteger changes = new AtomicInteger();
    after.addListener(changes::incrementAndGet);
    after.register(1, V1);

    clock.advance(GRACE.minusMillis(1));
    assertThat(after.expire()).contains(clock.instant().plusMillis(1));
    assertThat(after.workloads()).containsExactly(V1, V2);
    assertThat(changes).hasValue(1);

    clock.advance(Duration.ofMillis(1));
    assertThat(after.expire()).isEmpty();
    assertThat(after.workloads()).containsExactly(V1);
    assertThat(changes).hasValue(2);
    // Gone for good: the next control plane does not restore it either.
    assertThat(Files.readString(file())).contains("podinfo-v1").doesNotContain("podinfo-v2");
    assertThat(open().workloads()).containsExactly(V1);
  }

  @Test
  void aProxyThatLeavesIsForgottenAndASecondCrashInTheGracePeriodKeepsTheUnconfirmed() {
    WorkloadRegistry first = open();
    first.register(1, V1);
    first.register(2, V2);
    first.register(3, GATEWAY);
    first.unregister(3); // the gateway stopped while the control plane ran

    clock.advance(Duration.ofSeconds(1));
    Instant seen = clock.instant();
    WorkloadRegistry second = open();
    assertThat(second.workloads()).containsExactly(V1, V2);
    second.register(1, V1);
    // Killed again 30 s into the grace period, V2's proxy still away.
    clock.advance(Duration.ofSeconds(30));

    WorkloadRegistry third = open();
    assertThat(third.workloads()).containsExactly(V1, V2);
    // A fresh grace period from this start (V2's proxy may be in its backoff still).
    assertThat(third.nextExpiry()).contains(clock.instant().plus(GRACE));
    assertThat(seen).isBefore(clock.instant());
  }

  @Test
  void aClosedRegistryKeepsItsWorkloadsForTheNextControlPlane() {
    WorkloadRegistry r = open();
    r.register(1, V1);
    r.register(2, V2);
    r.close();
    // The streams end as the control plane stops: not proxies leaving.
    r.unregister(1);
    r.unregister(2);
    assertThat(r.workloads()).isEmpty();
    assertThat(open().workloads()).containsExactly(V1, V2);
  }

  @Test
  void aBadFileIsSetAsideAndTheRegistryStartsEmpty() throws Exception {
    Files.createDirectories(file().getParent());
    Files.writeString(file(), "{\"workloads\": [{\"name\": \"x\"}]}");
    WorkloadRegistry r = open();
    assertThat(r.workloads()).isEmpty();
    assertThat(r.nextExpiry()).isEmpty();
    assertThat(file().resolveSibling("workloads.json.bad")).exists();
    // It still works, and writes a good file.
    r.register(1, V1);
    assertThat(open().workloads()).containsExactly(V1);

    Files.writeString(file(), "not json at all");
    assertThat(open().workloads()).isEmpty();
  }

  @Test
  void anUnwritableFileIsLoggedNotThrown() throws Exception {
    // The registry's directory is a file: every write fails.
    Files.writeString(dir.resolve("registry"), "in the way");
    WorkloadRegistry r = open();
    r.register(1, V1);
    assertThat(r.workloads()).containsExactly(V1);
    assertThat(r.expire()).isEqualTo(Optional.empty());
    assertThat(List.of(r.workloads().getFirst().name())).containsExactly("podinfo-v1");
  }
}
