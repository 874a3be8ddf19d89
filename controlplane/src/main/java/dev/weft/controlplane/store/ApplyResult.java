package dev.weft.controlplane.store;

import dev.weft.api.ResourceKey;

/**
 * What happened to one applied or deleted resource.
 *
 * @param key the resource
 * @param action {@code created}, {@code configured}, {@code unchanged} or {@code deleted}
 * @param resourceVersion the resource's version after the write (for a delete: the last version)
 */
public record ApplyResult(ResourceKey key, String action, String resourceVersion) {
  public static final String CREATED = "created";
  public static final String CONFIGURED = "configured";
  public static final String UNCHANGED = "unchanged";
  public static final String DELETED = "deleted";
}
