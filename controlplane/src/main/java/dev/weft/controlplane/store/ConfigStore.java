package dev.weft.controlplane.store;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.weft.api.ObjectMeta;
import dev.weft.api.ParseResult;
import dev.weft.api.Resource;
import dev.weft.api.ResourceKey;
import dev.weft.api.ResourceParser;
import dev.weft.api.ValidationError;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * The durable config store of local mode: every resource applied through the API, persisted in
 * {@code <dir>/resources.json}.
 *
 * <p>Writes are serialised by one lock and are all or nothing: an apply validates every document
 * (optimistic concurrency on {@code metadata.resourceVersion}, as the Kubernetes API server does)
 * before it writes any; the new state is written to a temporary file, fsynced, atomically renamed
 * over the old one and the directory fsynced, so a crash (even {@code kill -9}) leaves either the
 * old or the new state. Readers get immutable {@link ConfigSnapshot}s; listeners are told of every
 * committed change.
 */
public final class ConfigStore {
  private static final System.Logger logger = System.getLogger(ConfigStore.class.getName());

  /** The store file's name inside the store directory. */
  public static final String FILE_NAME = "resources.json";

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final ObjectMapper CANONICAL =
      JsonMapper.builder()
          .enable(MapperFeature.SORT_PROPERTIES_ALPHABETICALLY)
          .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS)
          .build();

  private final Path dir;
  private final Clock clock;
  private final ReentrantLock lock = new ReentrantLock();
  private final List<Consumer<ConfigSnapshot>> listeners = new CopyOnWriteArrayList<>();
  private volatile ConfigSnapshot current;

  private ConfigStore(Path dir, Clock clock, ConfigSnapshot initial) {
    this.dir = dir;
    this.clock = clock;
    this.current = initial;
  }

  /**
   * Opens the store in {@code dir}, loading {@code resources.json} when it exists. A stored
   * document that no longer parses is logged and skipped (it is kept out of the snapshot, not
   * deleted from the file until the next write).
   */
  public static ConfigStore open(Path dir, Clock clock) throws IOException {
    Files.createDirectories(dir);
    Path file = dir.resolve(FILE_NAME);
    ConfigSnapshot initial = ConfigSnapshot.EMPTY;
    if (Files.exists(file)) {
      initial = load(file);
    }
    return new ConfigStore(dir, clock, initial);
  }

  /** The current state. */
  public ConfigSnapshot snapshot() {
    return current;
  }

  /** Calls {@code listener} (under the write lock) with each newly committed state. */
  public void addListener(Consumer<ConfigSnapshot> listener) {
    listeners.add(listener);
  }

  /**
   * Applies {@code resources} all or nothing. A resource whose {@code metadata.resourceVersion} is
   * set must exist with that version; otherwise the whole apply is rejected as a conflict and
   * nothing is written.
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
      TreeMap<ResourceKey, StoredResource> staged = new TreeMap<>(before.resources());
      long version = before.version();
      Instant now = clock.instant();
      List<ApplyResult> results = new ArrayList<>();
      boolean changed = false;
      for (Resource r : resources) {
        StoredResource existing = staged.get(r.key());
        Resource clean = withoutStoreMetadata(r);
        if (existing != null && sameContent(existing.resource(), clean)) {
          results.add(
              new ApplyResult(
                  r.key(), ApplyResult.UNCHANGED, Long.toString(existing.resourceVersion())));
          continue;
        }
        version++;
        changed = true;
        staged.put(
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
      if (changed) {
        commit(new ConfigSnapshot(version, staged));
      }
      return new StoreOutcome(results, List.of(), false);
    } finally {
      lock.unlock();
    }
  }

  /**
   * Deletes the resources with these keys. Keys that do not exist are reported as errors; the
   * others are deleted in one write.
   *
   * @param source the source name for errors
   * @param keys the keys, in document order
   */
  public StoreOutcome delete(String source, List<ResourceKey> keys) throws IOException {
    lock.lock();
    try {
      ConfigSnapshot before = current;
      TreeMap<ResourceKey, StoredResource> staged = new TreeMap<>(before.resources());
      List<ApplyResult> results = new ArrayList<>();
      List<ValidationError> errors = new ArrayList<>();
      for (int i = 0; i < keys.size(); i++) {
        ResourceKey key = keys.get(i);
        StoredResource removed = staged.remove(key);
        if (removed == null) {
          errors.add(new ValidationError(source, i, key.toString(), "", key + " not found"));
        } else {
          results.add(
              new ApplyResult(key, ApplyResult.DELETED, Long.toString(removed.resourceVersion())));
        }
      }
      if (!results.isEmpty()) {
        commit(new ConfigSnapshot(before.version() + 1, staged));
      }
      return new StoreOutcome(results, errors, false);
    } finally {
      lock.unlock();
    }
  }

  private void commit(ConfigSnapshot next) throws IOException {
    write(next);
    current = next;
    for (Consumer<ConfigSnapshot> l : listeners) {
      try {
        l.accept(next);
      } catch (RuntimeException e) {
        logger.log(Level.WARNING, "store listener failed", e);
      }
    }
  }

  /**
   * Writes {@code snapshot} to a temporary file, fsyncs it, renames it and fsyncs the directory.
   */
  private void write(ConfigSnapshot snapshot) throws IOException {
    ObjectNode root = JSON.createObjectNode();
    root.put("resourceVersion", snapshot.version());
    ArrayNode items = root.putArray("resources");
    for (StoredResource r : snapshot.resources().values()) {
      ObjectNode item = items.addObject();
      item.put("resourceVersion", r.resourceVersion());
      item.put("creationTimestamp", r.creationTimestamp().toString());
      item.set("document", JSON.valueToTree(r.resource().document()));
    }
    byte[] bytes = JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(root);
    Files.createDirectories(dir);
    Path tmp = dir.resolve(FILE_NAME + ".tmp");
    try (FileChannel ch =
        FileChannel.open(
            tmp,
            StandardOpenOption.CREATE,
            StandardOpenOption.TRUNCATE_EXISTING,
            StandardOpenOption.WRITE)) {
      ByteBuffer buf = ByteBuffer.wrap(bytes);
      while (buf.hasRemaining()) {
        ch.write(buf);
      }
      ch.force(true);
    }
    Path file = dir.resolve(FILE_NAME);
    try {
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
    }
    try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
      d.force(true);
    } catch (IOException e) {
      // Some file systems cannot fsync a directory; the rename itself is still atomic.
      logger.log(Level.DEBUG, "cannot fsync " + dir, e);
    }
  }

  private static ConfigSnapshot load(Path file) throws IOException {
    JsonNode root;
    try {
      root = JSON.readTree(file.toFile());
    } catch (IOException e) {
      throw new IOException("cannot read the config store " + file + ": " + e.getMessage(), e);
    }
    long version = root.path("resourceVersion").asLong(0);
    TreeMap<ResourceKey, StoredResource> resources = new TreeMap<>();
    String source = file.toString();
    for (JsonNode item : root.path("resources")) {
      String text = JSON.writeValueAsString(item.path("document"));
      ParseResult parsed;
      try {
        parsed = ResourceParser.parse(source, text);
      } catch (RuntimeException e) {
        logger.log(Level.WARNING, "skipping a stored resource that cannot be parsed: " + e);
        continue;
      }
      if (!parsed.ok() || parsed.resources().size() != 1) {
        logger.log(
            Level.WARNING, "skipping a stored resource that no longer parses: " + parsed.errors());
        continue;
      }
      long rv = item.path("resourceVersion").asLong(0);
      Instant created;
      try {
        created = Instant.parse(item.path("creationTimestamp").asText());
      } catch (RuntimeException e) {
        created = Instant.EPOCH;
      }
      Resource r = withVersion(withoutStoreMetadata(parsed.resources().get(0)), rv);
      resources.put(r.key(), new StoredResource(r, rv, created));
      version = Math.max(version, rv);
    }
    return new ConfigSnapshot(version, resources);
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
