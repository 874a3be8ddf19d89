package dev.weft.api;

import java.util.Map;

/**
 * One parsed, validated resource.
 *
 * @param apiVersion the apiVersion as written, e.g. {@code networking.istio.io/v1}
 * @param kind the kind
 * @param metadata the metadata
 * @param spec the typed spec; its class depends on the kind (e.g. {@link
 *     dev.weft.api.networking.VirtualService})
 * @param document the document as parsed (ordered maps, lists, strings, numbers, booleans), which
 *     the store persists and {@code weft get -o yaml} prints; treat as read-only
 */
public record Resource(
    String apiVersion,
    ResourceKind kind,
    ObjectMeta metadata,
    Spec spec,
    Map<String, Object> document) {

  /** This resource's key. */
  public ResourceKey key() {
    return new ResourceKey(kind, metadata.namespace(), metadata.name());
  }

  /** The spec as {@code type}; throws ClassCastException if the kind has another spec type. */
  public <T extends Spec> T spec(Class<T> type) {
    return type.cast(spec);
  }
}
