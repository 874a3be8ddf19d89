package dev.weft.controlplane.push;

import com.google.protobuf.Any;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.Message;
import com.google.protobuf.UnsafeByteOperations;
import java.io.IOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Generated xDS resources encoded once per push context: each resource's deterministic
 * serialization, packed as the {@link Any} a DiscoveryResponse carries, and its SHA-256. Keyed by
 * the identity of the generated message, so a resource that generators share across proxies (the
 * push context caches them: every proxy's outbound clusters and endpoints, a namespace's sidecar
 * routes) is serialised and hashed once per push, not once per proxy and again for its hash (as
 * Istio's XdsCache keeps generated resources by their inputs).
 *
 * <p>A context that reuses the previous context's generated objects (a VirtualService change: every
 * virtual host but the changed ones is the previous object) looks up what it misses in the previous
 * context's cache ({@code fallback}), so an unchanged resource is not serialised and hashed again
 * and keeps its derived objects' identity. Only one generation back is kept: a new cache cuts its
 * fallback's own fallback.
 *
 * <p>Owned by one {@link PushContext} and dropped with it; safe from any thread. The {@link Any}
 * and digest it hands out are immutable and shared.
 */
public final class ResourceCache {
  private static final String TYPE_URL_PREFIX = "type.googleapis.com/";

  private final Map<Identity, Encoded> encoded = new ConcurrentHashMap<>();
  private final Map<Pair, Object> derived = new ConcurrentHashMap<>();

  /** The previous context's cache, or null. */
  private volatile ResourceCache fallback;

  /** An empty cache. */
  public ResourceCache() {
    this(null);
  }

  /**
   * An empty cache that finds what it misses in {@code fallback} (may be null), whose own fallback
   * is dropped so that caches never chain further back than one push.
   */
  ResourceCache(ResourceCache fallback) {
    if (fallback != null) {
      fallback.fallback = null;
    }
    this.fallback = fallback;
  }

  private record Pair(Identity a, Identity b) {}

  /** A resource as sent: packed in an {@link Any}, and the SHA-256 of its bytes. */
  public record Encoded(Any any, byte[] digest) {}

  /** {@code resource} encoded; the same object for the same message (by identity). */
  public Encoded encode(Message resource) {
    Identity key = new Identity(resource);
    Encoded e = encoded.get(key);
    if (e == null) {
      ResourceCache f = fallback;
      e = f == null ? null : f.encoded.get(key);
      if (e == null) {
        e = encodeNow(resource);
      }
      Encoded prev = encoded.putIfAbsent(key, e);
      if (prev != null) {
        e = prev;
      }
    }
    return e;
  }

  /**
   * A value derived from two objects (by identity), computed once per push context: say, the
   * encoding of one generated list filtered to one set of subscribed names, which every proxy with
   * that subscription shares. {@code compute} must be a pure function of {@code a} and {@code b}.
   */
  @SuppressWarnings("unchecked")
  public <T> T derived(Object a, Object b, java.util.function.Supplier<T> compute) {
    Pair key = new Pair(new Identity(a), new Identity(b));
    Object v = derived.get(key);
    if (v == null) {
      ResourceCache f = fallback;
      v = f == null ? null : f.derived.get(key);
      if (v == null) {
        v = compute.get();
      }
      Object prev = derived.putIfAbsent(key, v);
      if (prev != null) {
        v = prev;
      }
    }
    return (T) v;
  }

  /**
   * The value {@link #derived} holds for {@code a} and {@code b} (here or in the previous context's
   * cache), or null: computes nothing.
   */
  @SuppressWarnings("unchecked")
  public <T> T peek(Object a, Object b) {
    Pair key = new Pair(new Identity(a), new Identity(b));
    Object v = derived.get(key);
    if (v == null) {
      ResourceCache f = fallback;
      v = f == null ? null : f.derived.get(key);
    }
    return (T) v;
  }

  /** How many resources are cached (for tests). */
  int size() {
    return encoded.size();
  }

  static Encoded encodeNow(Message resource) {
    try {
      byte[] bytes = new byte[resource.getSerializedSize()];
      CodedOutputStream out = CodedOutputStream.newInstance(bytes);
      out.useDeterministicSerialization();
      resource.writeTo(out);
      out.checkNoSpaceLeft();
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(bytes);
      Any any =
          Any.newBuilder()
              .setTypeUrl(TYPE_URL_PREFIX + resource.getDescriptorForType().getFullName())
              .setValue(UnsafeByteOperations.unsafeWrap(bytes)) // never written again
              .build();
      // Memoized once here, for the thousands of responses that carry this Any: its type URL's
      // UTF-8 bytes (else encoded again on every write) and its size.
      any.getTypeUrlBytes();
      any.getSerializedSize();
      return new Encoded(any, digest);
    } catch (IOException | NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** An object by identity: generated messages are immutable, and equal content is not needed. */
  private static final class Identity {
    private final Object message;

    Identity(Object message) {
      this.message = message;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Identity i && i.message == message;
    }

    @Override
    public int hashCode() {
      return System.identityHashCode(message);
    }
  }
}
