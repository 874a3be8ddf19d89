package dev.weft.controlplane.store;

import dev.weft.api.Resource;
import dev.weft.api.ResourceKey;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A resource as the store keeps it: the parsed resource (its metadata carries the store's {@code
 * resourceVersion}) and when it was first created.
 *
 * @param resource the resource; {@code metadata().resourceVersion()} is the store's version
 * @param resourceVersion the store-wide counter value of the last write of this resource
 * @param creationTimestamp when the resource was created
 */
public record StoredResource(Resource resource, long resourceVersion, Instant creationTimestamp) {

  /** The resource's key. */
  public ResourceKey key() {
    return resource.key();
  }

  /**
   * The document as {@code weft get} prints it: the applied document with {@code
   * metadata.resourceVersion} and {@code metadata.creationTimestamp} set by the store. A new map.
   */
  public Map<String, Object> document() {
    Map<String, Object> doc = new LinkedHashMap<>(resource.document());
    Map<String, Object> meta = new LinkedHashMap<>();
    if (doc.get("metadata") instanceof Map<?, ?> m) {
      m.forEach((k, v) -> meta.put(String.valueOf(k), v));
    }
    meta.put("resourceVersion", Long.toString(resourceVersion));
    meta.put("creationTimestamp", creationTimestamp.toString());
    doc.put("metadata", meta);
    return doc;
  }
}
