package dev.weft.controlplane.store;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.weft.api.ObjectMeta;
import dev.weft.api.ParseResult;
import dev.weft.api.Resource;
import dev.weft.api.ResourceKey;
import dev.weft.api.ResourceKind;
import dev.weft.api.ResourceParser;
import dev.weft.api.ValidationError;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * The durable config store of local mode: every resource applied through the API, one row per
 * resource in the {@code config_resources} table of the store's SQLite database ({@link
 * StoreDatabase}, {@code <dir>/weft.db}).
 *
 * <p>Writes are serialised by one lock and are all or nothing: an apply validates every document
 * (optimistic concurrency on {@code metadata.resourceVersion}, as the Kubernetes API server does)
 * before it writes any, then writes the rows it changes and the store's version counter in one
 * transaction, so a crash (even {@code kill -9}) leaves either the old or the new state. An apply
 * costs what it changes: unchanged resources are not written, other rows are not touched.
 *
 * <p>Readers get immutable {@link ConfigSnapshot}s, kept in memory (a write copies only the kinds
 * it changes); listeners are told of every committed change.
 *
 * <p>A state directory from before the database ({@code <dir>/resources.json}, the whole store as
 * one JSON file) is imported on the first open and the file renamed to {@code
 * resources.json.migrated}.
 */
public final class ConfigStore implements AutoCloseable {
  private static final System.Logger logger = System.getLogger(ConfigStore.class.getName());

  /** The file of the JSON store that the database replaced; imported once by {@link #open}. */
  public static final String LEGACY_FILE_NAME = "resources.json";

  /** What {@link #LEGACY_FILE_NAME} is renamed to once imported. */
  public static final String MIGRATED_FILE_NAME = LEGACY_FILE_NAME + ".migrated";

  private static final String VERSION_COUNTER = "config.resourceVersion";
  private static final String IMPORTED_FLAG = "config.importedJson";

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final ObjectMapper CANONICAL =
      JsonMapper.builder()
          .enable(MapperFeature.SORT_PROPERTIES_ALPHABETICALLY)
          .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS)
          .build();

  private final StoreDatabase db;
  private final boolean ownsDatabase;
  private final Clock clock;
  private final ReentrantLock lock = new ReentrantLock();
  private final List<Consumer<ConfigSnapshot>> listeners = new CopyOnWriteArrayList<>();
  private volatile ConfigSnapshot current;

  private ConfigStore(StoreDatabase db, boolean ownsDatabase, Clock clock, ConfigSnapshot initial) {
    this.db = db;
    this.ownsDatabase = ownsDatabase;
    this.clock = clock;
    this.current = initial;
  }

  /**
   * Opens the store in {@code dir} (its database, {@code dir/weft.db}, is created when absent),
   * imports a legacy {@code resources.json} once, and loads every resource. A stored document that
   * no longer parses is logged and left out of the snapshot (its row stays until it is applied
   * again or deleted).
   */
  public static ConfigStore open(Path dir, Clock clock) throws IOException {
    StoreDatabase db = StoreDatabase.open(dir);
    try {
      return open(db, true, dir, clock);
    } catch (IOException | RuntimeException e) {
      db.close();
      throw e;
    }
  }

  /**
   * Opens the store on a database that its caller owns (and closes), for a control plane that keeps
   * other tables in the same database. {@code dir} is where a legacy {@code resources.json} may be.
   */
  public static ConfigStore open(StoreDatabase db, Path dir, Clock clock) throws IOException {
    return open(db, false, dir, clock);
  }

  private static ConfigStore open(StoreDatabase db, boolean owns, Path dir, Clock clock)
      throws IOException {
    importLegacy(db, dir);
    return new ConfigStore(db, owns, clock, load(db));
  }

  /** The current state. */
  public ConfigSnapshot snapshot() {
    return current;
  }

  /** The database the store writes to. */
  public StoreDatabase database() {
    return db;
  }

  /** Calls {@code listener} (under the write lock) with each newly committed state. */
  public void addListener(Consumer<ConfigSnapshot> listener) {
    listeners.add(listener);
  }

  /**
   * Applies {@code resources} all or nothing. A resource whose {@code metadata.resourceVersion} is
   * set must exist with that version; otherwise the whole apply is rejected as a conflict and
   * nothing is written. Only created and configured resources are written, in one transaction.
   *
   * @param source the source name for errors (the file the documents came from)
   * @throws IOException when the new state cannot be written (the old state stays)
   */
  public StoreOutcome apply(String source, List<Resource> resources) throws IOException {
    lock.lock();
    try {
      ConfigSnapshot before = current;
      List<ValidationError> errors = new ArrayList<>();
      for (int i = 0; i < resources.size(); i++) {
        Resource r = resources.get(i);
        String given = r.metadata().resourceVersion();
        if (given.isEmpty()) {
          continue;
        }
        StoredResource existing = before.get(r.key());
        if (existing == null) {
          errors.add(
              new ValidationError(
                  source,
                  i,
                  r.key().toString(),
                  "metadata.resourceVersion",
                  "resourceVersion \""
                      + given
                      + "\" given but the resource does not exist; remove"
                      + " metadata.resourceVersion to create it"));
        } else if (!given.equals(Long.toString(existing.resourceVersion()))) {
          errors.add(
              new ValidationError(
                  source,
                  i,
                  r.key().toString(),
                  "metadata.resourceVersion",
                  "the object has been modified (stored resourceVersion "
                      + existing.resourceVersion()
                      + ", given "
                      + given
                      + "); please apply your changes to the latest version and try again"));
        }
      }
      if (!errors.isEmpty()) {
        return new StoreOutcome(List.of(), errors, true);
      }
      // Resources written by this apply, so that a key given twice compares with its first write.
      Map<ResourceKey, StoredResource> written = new LinkedHashMap<>();
      long version = before.version();
      Instant now = clock.instant();
      List<ApplyResult> results = new ArrayList<>(resources.size());
      for (Resource r : resources) {
        StoredResource existing = written.get(r.key());
        if (existing == null) {
          existing = before.get(r.key());
        }
        Resource clean = withoutStoreMetadata(r);
        if (existing != null && sameContent(existing.resource(), clean)) {
          results.add(
              new ApplyResult(
                  r.key(), ApplyResult.UNCHANGED, Long.toString(existing.resourceVersion())));
          continue;
        }
        version++;
        written.put(
            r.key(),
            new StoredResource(
                withVersion(clean, version),
                version,
                existing == null ? now : existing.creationTimestamp()));
        results.add(
            new ApplyResult(
                r.key(),
                existing == null ? ApplyResult.CREATED : ApplyResult.CONFIGURED,
                Long.toString(version)));
      }
      if (!written.isEmpty()) {
        long v = version;
        db.transaction(
            c -> {
              upsert(c, written.values());
              setCounter(c, VERSION_COUNTER, v);
              return null;
            });
        Map<ResourceKind, TreeMap<ResourceKey, StoredResource>> changed =
            new EnumMap<>(ResourceKind.class);
        for (StoredResource s : written.values()) {
          changed.computeIfAbsent(s.key().kind(), before::copyOf).put(s.key(), s);
        }
        publish(before.with(version, changed));
      }
      return new StoreOutcome(results, List.of(), false);
    } finally {
      lock.unlock();
    }
  }

  /**
   * Deletes the resources with these keys. Keys that do not exist are reported as errors; the
   * others are deleted in one transaction.
   *
   * @param source the source name for errors
   * @param keys the keys, in document order
   */
  public StoreOutcome delete(String source, List<ResourceKey> keys) throws IOException {
    lock.lock();
    try {
      ConfigSnapshot before = current;
      Set<ResourceKey> deleted = new HashSet<>();
      List<ApplyResult> results = new ArrayList<>();
      List<ValidationError> errors = new ArrayList<>();
      for (int i = 0; i < keys.size(); i++) {
        ResourceKey key = keys.get(i);
        StoredResource removed = deleted.contains(key) ? null : before.get(key);
        if (removed == null) {
          errors.add(new ValidationError(source, i, key.toString(), "", key + " not found"));
        } else {
          deleted.add(key);
          results.add(
              new ApplyResult(key, ApplyResult.DELETED, Long.toString(removed.resourceVersion())));
        }
      }
      if (!deleted.isEmpty()) {
        long version = before.version() + 1;
        db.transaction(
            c -> {
              try (PreparedStatement ps =
                  c.prepareStatement(
                      "DELETE FROM config_resources"
                          + " WHERE api_group = ? AND kind = ? AND namespace = ? AND name = ?")) {
                for (ResourceKey k : deleted) {
                  bindKey(ps, k);
                  ps.addBatch();
                }
                ps.executeBatch();
              }
              setCounter(c, VERSION_COUNTER, version);
              return null;
            });
        Map<ResourceKind, TreeMap<ResourceKey, StoredResource>> changed =
            new EnumMap<>(ResourceKind.class);
        for (ResourceKey k : deleted) {
          changed.computeIfAbsent(k.kind(), before::copyOf).remove(k);
        }
        publish(before.with(version, changed));
      }
      return new StoreOutcome(results, errors, false);
    } finally {
      lock.unlock();
    }
  }

  /** Closes the database when this store opened it ({@link #open(Path, Clock)}). */
  @Override
  public void close() {
    if (ownsDatabase) {
      db.close();
    }
  }

  /** How many rows the database connection has written since it was opened (SQLite's count). */
  long rowsWritten() throws IOException {
    return db.transaction(
        c -> {
          try (Statement s = c.createStatement();
              ResultSet rs = s.executeQuery("SELECT total_changes()")) {
            return rs.next() ? rs.getLong(1) : 0L;
          }
        });
  }

  private void publish(ConfigSnapshot next) {
    current = next;
    for (Consumer<ConfigSnapshot> l : listeners) {
      try {
        l.accept(next);
      } catch (RuntimeException e) {
        logger.log(Level.WARNING, "store listener failed", e);
      }
    }
  }

  private static void upsert(Connection c, Iterable<StoredResource> rows)
      throws SQLException, IOException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "INSERT INTO config_resources (api_group, kind, namespace, name, resource_version,"
                + " creation_timestamp, document) VALUES (?, ?, ?, ?, ?, ?, ?)"
                + " ON CONFLICT (api_group, kind, namespace, name) DO UPDATE SET"
                + " resource_version = excluded.resource_version,"
                + " creation_timestamp = excluded.creation_timestamp,"
                + " document = excluded.document")) {
      for (StoredResource r : rows) {
        bindKey(ps, r.key());
        ps.setLong(5, r.resourceVersion());
        ps.setString(6, r.creationTimestamp().toString());
        ps.setString(7, JSON.writeValueAsString(r.resource().document()));
        ps.addBatch();
      }
      ps.executeBatch();
    }
  }

  private static void bindKey(PreparedStatement ps, ResourceKey k) throws SQLException {
    ps.setString(1, k.kind().group());
    ps.setString(2, k.kind().kind());
    ps.setString(3, k.namespace());
    ps.setString(4, k.name());
  }

  private static void setCounter(Connection c, String name, long value) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "INSERT INTO counters (name, value) VALUES (?, ?)"
                + " ON CONFLICT (name) DO UPDATE SET value = excluded.value")) {
      ps.setString(1, name);
      ps.setLong(2, value);
      ps.executeUpdate();
    }
  }

  private static long counter(Connection c, String name) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT value FROM counters WHERE name = ?")) {
      ps.setString(1, name);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? rs.getLong(1) : 0;
      }
    }
  }

  private static ConfigSnapshot load(StoreDatabase db) throws IOException {
    String source = db.file().toString();
    return db.transaction(
        c -> {
          long version = counter(c, VERSION_COUNTER);
          Map<ResourceKey, StoredResource> resources = new TreeMap<>();
          try (Statement s = c.createStatement();
              ResultSet rs =
                  s.executeQuery(
                      "SELECT resource_version, creation_timestamp, document, kind, namespace,"
                          + " name FROM config_resources")) {
            while (rs.next()) {
              String row = rs.getString(4) + " " + rs.getString(5) + "/" + rs.getString(6);
              StoredResource r =
                  stored(source, row, rs.getLong(1), rs.getString(2), rs.getString(3));
              if (r != null) {
                resources.put(r.key(), r);
                version = Math.max(version, r.resourceVersion());
              }
            }
          }
          return new ConfigSnapshot(version, resources);
        });
  }

  /** A stored row as a resource, or null (logged) when its document no longer parses. */
  private static StoredResource stored(
      String source, String row, long rv, String created, String document) {
    ParseResult parsed;
    try {
      parsed = ResourceParser.parse(source, document);
    } catch (RuntimeException e) {
      logger.log(Level.WARNING, "skipping stored " + row + ": it cannot be parsed: " + e);
      return null;
    }
    if (!parsed.ok() || parsed.resources().size() != 1) {
      logger.log(
          Level.WARNING, "skipping stored " + row + ": it no longer parses: " + parsed.errors());
      return null;
    }
    Instant createdAt;
    try {
      createdAt = Instant.parse(created);
    } catch (RuntimeException e) {
      createdAt = Instant.EPOCH;
    }
    Resource r = withVersion(withoutStoreMetadata(parsed.resources().get(0)), rv);
    return new StoredResource(r, rv, createdAt);
  }

  /**
   * Imports {@code dir/resources.json} (the JSON store's whole state) into the database in one
   * transaction, with each resource's resourceVersion and creationTimestamp and the store's
   * counter, then renames the file to {@code resources.json.migrated}. The database records the
   * import, so a crash between the commit and the rename does not import the file twice (a later
   * open only renames it). Documents that no longer parse are logged and left out; the renamed file
   * keeps them.
   */
  private static void importLegacy(StoreDatabase db, Path dir) throws IOException {
    Files.deleteIfExists(dir.resolve(LEGACY_FILE_NAME + ".tmp"));
    Path legacy = dir.resolve(LEGACY_FILE_NAME);
    if (!Files.exists(legacy)) {
      return;
    }
    JsonNode root;
    try {
      root = JSON.readTree(legacy.toFile());
    } catch (IOException e) {
      throw new IOException("cannot read the config store " + legacy + ": " + e.getMessage(), e);
    }
    String source = legacy.toString();
    int imported =
        db.transaction(
            c -> {
              if (counter(c, IMPORTED_FLAG) != 0) {
                return -1;
              }
              long version = root.path("resourceVersion").asLong(0);
              List<StoredResource> rows = new ArrayList<>();
              for (JsonNode item : root.path("resources")) {
                long rv = item.path("resourceVersion").asLong(0);
                StoredResource r =
                    stored(
                        source,
                        "item " + rows.size(),
                        rv,
                        item.path("creationTimestamp").asText(),
                        JSON.writeValueAsString(item.path("document")));
                if (r != null) {
                  rows.add(r);
                  version = Math.max(version, rv);
                }
              }
              upsert(c, rows);
              setCounter(c, VERSION_COUNTER, Math.max(version, counter(c, VERSION_COUNTER)));
              setCounter(c, IMPORTED_FLAG, 1);
              return rows.size();
            });
    Path migrated = dir.resolve(MIGRATED_FILE_NAME);
    try {
      Files.move(
          legacy, migrated, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(legacy, migrated, StandardCopyOption.REPLACE_EXISTING);
    }
    try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
      d.force(true);
    } catch (IOException e) {
      // Some file systems cannot fsync a directory; the import is recorded in the database.
      logger.log(Level.DEBUG, "cannot fsync " + dir, e);
    }
    if (imported >= 0) {
      logger.log(
          Level.INFO,
          "imported "
              + imported
              + " resources from "
              + legacy
              + " into "
              + db.file()
              + "; the old file is now "
              + migrated);
    }
  }

  /** The resource without the store-owned metadata fields in its document. */
  private static Resource withoutStoreMetadata(Resource r) {
    Map<String, Object> doc = new LinkedHashMap<>(r.document());
    if (doc.get("metadata") instanceof Map<?, ?> m) {
      Map<String, Object> meta = new LinkedHashMap<>();
      m.forEach((k, v) -> meta.put(String.valueOf(k), v));
      meta.remove("resourceVersion");
      meta.remove("creationTimestamp");
      meta.remove("uid");
      meta.remove("generation");
      meta.remove("managedFields");
      doc.put("metadata", meta);
    }
    return new Resource(r.apiVersion(), r.kind(), r.metadata(), r.spec(), doc);
  }

  private static Resource withVersion(Resource r, long version) {
    ObjectMeta m = r.metadata();
    return new Resource(
        r.apiVersion(),
        r.kind(),
        new ObjectMeta(
            m.name(), m.namespace(), m.labels(), m.annotations(), Long.toString(version)),
        r.spec(),
        r.document());
  }

  /**
   * Whether an apply changes nothing: same spec (the document outside {@code metadata}), labels and
   * annotations, as {@code kubectl apply} reports "unchanged".
   */
  private static boolean sameContent(Resource a, Resource b) {
    return a.metadata().labels().equals(b.metadata().labels())
        && a.metadata().annotations().equals(b.metadata().annotations())
        && Objects.equals(canonicalBody(a), canonicalBody(b));
  }

  private static String canonicalBody(Resource r) {
    Map<String, Object> body = new TreeMap<>(r.document());
    body.remove("metadata");
    body.remove("apiVersion");
    body.remove("status");
    try {
      return CANONICAL.writeValueAsString(body);
    } catch (IOException e) {
      return null;
    }
  }
}
