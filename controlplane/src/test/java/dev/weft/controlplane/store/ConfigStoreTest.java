package dev.weft.controlplane.store;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.weft.api.ResourceKey;
import dev.weft.api.ResourceKind;
import dev.weft.controlplane.Fixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigStoreTest {
  private static final ResourceKey VS =
      new ResourceKey(ResourceKind.VIRTUAL_SERVICE, "demo", "podinfo");

  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;

  private static String vs(String resourceVersion, int v1Weight) {
    String rv = resourceVersion == null ? "" : "\n  resourceVersion: \"" + resourceVersion + "\"";
    return """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata:
          name: podinfo
          namespace: demo%s
        spec:
          hosts: ["*"]
          gateways: ["podinfo-gw"]
          http:
          - route:
            - destination: {host: podinfo.demo.svc.cluster.local, subset: v1}
              weight: %d
            - destination: {host: podinfo.demo.svc.cluster.local, subset: v2}
              weight: %d
        """
        .formatted(rv, v1Weight, 100 - v1Weight);
  }

  @Test
  void createsThenReportsUnchangedThenConfigured() throws Exception {
    ConfigStore store = ConfigStore.open(dir, Fixtures.CLOCK);
    AtomicInteger notified = new AtomicInteger();
    store.addListener(s -> notified.incrementAndGet());

    StoreOutcome first = store.apply("a.yaml", Fixtures.parse("a.yaml", vs(null, 90)));
    assertThat(first.results()).containsExactly(new ApplyResult(VS, ApplyResult.CREATED, "1"));
    StoreOutcome again = store.apply("a.yaml", Fixtures.parse("a.yaml", vs(null, 90)));
    assertThat(again.results()).containsExactly(new ApplyResult(VS, ApplyResult.UNCHANGED, "1"));
    assertThat(notified).hasValue(1);
    StoreOutcome changed = store.apply("a.yaml", Fixtures.parse("a.yaml", vs(null, 80)));
    assertThat(changed.results()).containsExactly(new ApplyResult(VS, ApplyResult.CONFIGURED, "2"));
    assertThat(notified).hasValue(2);

    StoredResource stored = store.snapshot().get(VS);
    assertThat(stored.resourceVersion()).isEqualTo(2);
    assertThat(stored.resource().metadata().resourceVersion()).isEqualTo("2");
    @SuppressWarnings("unchecked")
    Map<String, Object> meta = (Map<String, Object>) stored.document().get("metadata");
    assertThat(meta)
        .containsEntry("resourceVersion", "2")
        .containsEntry("creationTimestamp", "2026-04-01T10:00:00Z");
  }

  @Test
  void staleResourceVersionIsAConflictAndNothingIsWritten() throws Exception {
    ConfigStore store = ConfigStore.open(dir, Fixtures.CLOCK);
    store.apply("a.yaml", Fixtures.parse("a.yaml", vs(null, 90)));
    store.apply("a.yaml", Fixtures.parse("a.yaml", vs("1", 80))); // ok: current version
    assertThat(store.snapshot().get(VS).resourceVersion()).isEqualTo(2);
    byte[] before = Files.readAllBytes(dir.resolve(ConfigStore.FILE_NAME));

    // A multi-document apply: a new Service first, then the VirtualService with a stale version.
    String yaml =
        """
        apiVersion: v1
        kind: Service
        metadata: {name: other, namespace: demo}
        spec:
          selector: {app: other}
          ports: [{name: http, port: 80}]
        ---
        """
            + vs("1", 50);
    StoreOutcome outcome = store.apply("b.yaml", Fixtures.parse("b.yaml", yaml));

    assertThat(outcome.conflict()).isTrue();
    assertThat(outcome.results()).isEmpty();
    assertThat(outcome.errors()).hasSize(1);
    assertThat(outcome.errors().get(0).document()).isEqualTo(1);
    assertThat(outcome.errors().get(0).field()).isEqualTo("metadata.resourceVersion");
    assertThat(outcome.errors().get(0).message()).contains("modified");
    assertThat(store.snapshot().get(new ResourceKey(ResourceKind.SERVICE, "demo", "other")))
        .isNull();
    assertThat(store.snapshot().version()).isEqualTo(2);
    assertThat(Files.readAllBytes(dir.resolve(ConfigStore.FILE_NAME))).isEqualTo(before);
  }

  @Test
  void resourceVersionOnANewResourceIsAConflict() throws Exception {
    ConfigStore store = ConfigStore.open(dir, Fixtures.CLOCK);
    StoreOutcome outcome = store.apply("a.yaml", Fixtures.parse("a.yaml", vs("7", 90)));
    assertThat(outcome.conflict()).isTrue();
    assertThat(store.snapshot().resources()).isEmpty();
  }

  @Test
  void reloadsAfterRestart() throws Exception {
    Clock t1 = Clock.fixed(Instant.parse("2026-04-01T10:00:00Z"), ZoneOffset.UTC);
    Clock t2 = Clock.fixed(Instant.parse("2026-04-01T11:00:00Z"), ZoneOffset.UTC);
    ConfigStore store = ConfigStore.open(dir, t1);
    store.apply("f", Fixtures.fixtures("podinfo.yaml"));
    ConfigSnapshot before = store.snapshot();

    ConfigStore reopened = ConfigStore.open(dir, t2);
    ConfigSnapshot after = reopened.snapshot();
    assertThat(after.version()).isEqualTo(before.version());
    assertThat(after.resources().keySet()).isEqualTo(before.resources().keySet());
    for (ResourceKey k : before.resources().keySet()) {
      assertThat(after.get(k).resourceVersion()).isEqualTo(before.get(k).resourceVersion());
      assertThat(after.get(k).creationTimestamp()).isEqualTo(before.get(k).creationTimestamp());
      assertThat(after.get(k).resource().spec()).isEqualTo(before.get(k).resource().spec());
      assertThat(JSON.writeValueAsString(after.get(k).document()))
          .isEqualTo(JSON.writeValueAsString(before.get(k).document()));
    }
    // The store's counter continues; re-applying the same content changes nothing.
    StoreOutcome same = reopened.apply("f", Fixtures.fixtures("podinfo.yaml"));
    assertThat(same.results()).allMatch(r -> r.action().equals(ApplyResult.UNCHANGED));
    StoreOutcome changed = reopened.apply("a.yaml", Fixtures.parse("a.yaml", vs(null, 10)));
    assertThat(changed.results().get(0).resourceVersion())
        .isEqualTo(Long.toString(before.version() + 1));
    // No temporary file is left behind.
    assertThat(Files.exists(dir.resolve(ConfigStore.FILE_NAME + ".tmp"))).isFalse();
  }

  @Test
  void concurrentWritersAreSerialised() throws Exception {
    ConfigStore store = ConfigStore.open(dir, Fixtures.CLOCK);
    int threads = 4;
    int perThread = 10;
    java.util.Set<String> versions = java.util.concurrent.ConcurrentHashMap.newKeySet();
    java.util.List<Thread> workers = new java.util.ArrayList<>();
    java.util.concurrent.atomic.AtomicReference<Throwable> failure =
        new java.util.concurrent.atomic.AtomicReference<>();
    for (int t = 0; t < threads; t++) {
      int id = t;
      Thread w =
          new Thread(
              () -> {
                try {
                  for (int i = 0; i < perThread; i++) {
                    String yaml =
                        """
                        apiVersion: v1
                        kind: Service
                        metadata: {name: s%d-%d, namespace: demo}
                        spec:
                          selector: {app: x}
                          ports: [{name: http, port: 80}]
                        """
                            .formatted(id, i);
                    versions.add(
                        store
                            .apply("t", Fixtures.parse("t", yaml))
                            .results()
                            .get(0)
                            .resourceVersion());
                  }
                } catch (Throwable e) {
                  failure.set(e);
                }
              });
      workers.add(w);
      w.start();
    }
    for (Thread w : workers) {
      w.join();
    }
    assertThat(failure.get()).isNull();
    assertThat(versions).hasSize(threads * perThread);
    assertThat(store.snapshot().version()).isEqualTo(threads * perThread);
    assertThat(ConfigStore.open(dir, Fixtures.CLOCK).snapshot().resources())
        .hasSize(threads * perThread);
  }

  @Test
  void deleteReportsMissingResourcesAndDeletesTheRest() throws Exception {
    ConfigStore store = ConfigStore.open(dir, Fixtures.CLOCK);
    store.apply("a.yaml", Fixtures.parse("a.yaml", vs(null, 90)));
    ResourceKey missing = new ResourceKey(ResourceKind.GATEWAY, "demo", "nope");
    StoreOutcome outcome = store.delete("a.yaml", List.of(missing, VS));
    assertThat(outcome.results()).containsExactly(new ApplyResult(VS, ApplyResult.DELETED, "1"));
    assertThat(outcome.errors()).hasSize(1);
    assertThat(outcome.errors().get(0).message()).contains("Gateway demo/nope not found");
    assertThat(store.snapshot().resources()).isEmpty();
    assertThat(ConfigStore.open(dir, Fixtures.CLOCK).snapshot().resources()).isEmpty();
  }
}
