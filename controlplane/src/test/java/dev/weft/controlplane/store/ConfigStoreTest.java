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
    long rowsBefore = store.rowsWritten();

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
    assertThat(store.rowsWritten()).as("rows written by the rejected apply").isEqualTo(rowsBefore);
    try (ConfigStore reopened = ConfigStore.open(dir, Fixtures.CLOCK)) {
      assertThat(reopened.snapshot().version()).isEqualTo(2);
      assertThat(reopened.snapshot().size()).isEqualTo(1);
    }
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
    // The database is the store: no JSON file is written.
    assertThat(Files.exists(dir.resolve(StoreDatabase.FILE_NAME))).isTrue();
    assertThat(Files.exists(dir.resolve(ConfigStore.LEGACY_FILE_NAME))).isFalse();
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

  /** A store file as the JSON store (before the database) wrote it. */
  private static String legacyJson() {
    return """
        {
          "resourceVersion" : 9,
          "resources" : [ {
            "resourceVersion" : 4,
            "creationTimestamp" : "2026-03-01T08:00:00Z",
            "document" : {
              "apiVersion" : "v1",
              "kind" : "Service",
              "metadata" : { "name" : "podinfo", "namespace" : "demo" },
              "spec" : { "selector" : { "app" : "podinfo" }, "ports" : [ { "name" : "http", "port" : 80 } ] }
            }
          }, {
            "resourceVersion" : 7,
            "creationTimestamp" : "2026-03-02T08:00:00Z",
            "document" : {
              "apiVersion" : "networking.istio.io/v1",
              "kind" : "VirtualService",
              "metadata" : { "name" : "podinfo", "namespace" : "demo" },
              "spec" : { "hosts" : [ "*" ], "gateways" : [ "podinfo-gw" ],
                "http" : [ { "route" : [ { "destination" : { "host" : "podinfo" } } ] } ] }
            }
          } ]
        }
        """;
  }

  @Test
  void importsALegacyResourcesJsonOnceAndRenamesIt() throws Exception {
    Files.writeString(dir.resolve(ConfigStore.LEGACY_FILE_NAME), legacyJson());
    ResourceKey svc = new ResourceKey(ResourceKind.SERVICE, "demo", "podinfo");
    try (ConfigStore store = ConfigStore.open(dir, Fixtures.CLOCK)) {
      ConfigSnapshot s = store.snapshot();
      assertThat(s.version()).isEqualTo(9);
      assertThat(s.size()).isEqualTo(2);
      assertThat(s.get(svc).resourceVersion()).isEqualTo(4);
      assertThat(s.get(svc).creationTimestamp()).isEqualTo(Instant.parse("2026-03-01T08:00:00Z"));
      assertThat(s.get(VS).resourceVersion()).isEqualTo(7);
      assertThat(s.get(VS).resource().metadata().resourceVersion()).isEqualTo("7");
      // Optimistic concurrency continues from the imported versions.
      assertThat(store.apply("a.yaml", Fixtures.parse("a.yaml", vs("7", 90))).results())
          .containsExactly(new ApplyResult(VS, ApplyResult.CONFIGURED, "10"));
    }
    assertThat(dir.resolve(ConfigStore.LEGACY_FILE_NAME)).doesNotExist();
    assertThat(dir.resolve(ConfigStore.MIGRATED_FILE_NAME)).hasContent(legacyJson().strip());

    // A crash between the import's commit and the rename leaves the file in place: the next open
    // renames it without importing it again (which would undo the apply above).
    Files.copy(
        dir.resolve(ConfigStore.MIGRATED_FILE_NAME), dir.resolve(ConfigStore.LEGACY_FILE_NAME));
    try (ConfigStore store = ConfigStore.open(dir, Fixtures.CLOCK)) {
      assertThat(store.snapshot().version()).isEqualTo(10);
      assertThat(store.snapshot().get(VS).resourceVersion()).isEqualTo(10);
    }
    assertThat(dir.resolve(ConfigStore.LEGACY_FILE_NAME)).doesNotExist();
  }

  @Test
  void aLegacyFileThatIsNotJsonIsAnErrorAndStaysInPlace() throws Exception {
    Files.writeString(dir.resolve(ConfigStore.LEGACY_FILE_NAME), "{ not json");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> ConfigStore.open(dir, Fixtures.CLOCK))
        .isInstanceOf(java.io.IOException.class)
        .hasMessageContaining("cannot read the config store")
        .hasMessageContaining(ConfigStore.LEGACY_FILE_NAME);
    assertThat(dir.resolve(ConfigStore.LEGACY_FILE_NAME)).exists();
  }

  @Test
  void aFailedWriteKeepsTheOldState() throws Exception {
    ConfigStore store = ConfigStore.open(dir, Fixtures.CLOCK);
    store.apply("a.yaml", Fixtures.parse("a.yaml", vs(null, 90)));
    AtomicInteger notified = new AtomicInteger();
    store.addListener(s -> notified.incrementAndGet());
    ConfigSnapshot before = store.snapshot();
    store.database().close(); // every later transaction fails
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> store.apply("a.yaml", Fixtures.parse("a.yaml", vs(null, 10))))
        .isInstanceOf(java.io.IOException.class);
    assertThat(store.snapshot()).isSameAs(before);
    assertThat(notified).hasValue(0);
    try (ConfigStore reopened = ConfigStore.open(dir, Fixtures.CLOCK)) {
      assertThat(reopened.snapshot().get(VS).resourceVersion()).isEqualTo(1);
    }
  }

  @Test
  void aWriteCopiesOnlyTheKindsItChanges() throws Exception {
    try (ConfigStore store = ConfigStore.open(dir, Fixtures.CLOCK)) {
      store.apply("f", Fixtures.fixtures("podinfo.yaml"));
      ConfigSnapshot before = store.snapshot();
      assertThat(before.list(ResourceKind.SERVICE)).isNotEmpty();
      store.apply("a.yaml", Fixtures.parse("a.yaml", vs(null, 3)));
      ConfigSnapshot after = store.snapshot();
      // The Services' table is shared, not copied; the VirtualServices' is new.
      assertThat(after.list(ResourceKind.SERVICE)).isSameAs(before.list(ResourceKind.SERVICE));
      assertThat(after.list(ResourceKind.VIRTUAL_SERVICE))
          .isNotSameAs(before.list(ResourceKind.VIRTUAL_SERVICE));
      assertThat(before.get(VS).resourceVersion()).isLessThan(after.get(VS).resourceVersion());
    }
  }
}
