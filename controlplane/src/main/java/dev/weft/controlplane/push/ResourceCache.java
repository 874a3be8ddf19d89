package dev.weft.controlplane.push;

import com.google.protobuf.Any;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.Message;
import com.google.protobuf.UnsafeByteOperations;
import java.io.IOException;
import java.lang.ref.ReferenceQueue;
import java.lang.ref.WeakReference;
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
 * <p>Keys are held weakly (by identity): an entry lasts while its message (or both objects of a
 * derived pair) is reachable from elsewhere, since nothing else could look it up. A proxy's own
 * resources (its listeners, inbound clusters, the list of its clusters) are generated per proxy
 * and, once encoded into the {@code DeltaStream.Versioned} a stream keeps, are needed by no one;
 * held strongly, every proxy's generated messages stayed for the context's life (and one more),
 * three to four times their encoded size (2000 sidecars, issue #10). What is shared (the push
 * context's cached clusters and endpoints) stays reachable, so it is still encoded once per push.
 *
 * <p>Owned by one {@link PushContext} and dropped with it; safe from any thread. The {@link Any}
 * and digest it hands out are immutable and shared.
 */
public final class ResourceCache {
  private static final String TYPE_URL_PREFIX = "type.googleapis.com/";

  private final Map<Identity, Encoded> encoded = new ConcurrentHashMap<>();
  private final java.util.concurrent.ConcurrentMap<Pair, Object> derived =
      new ConcurrentHashMap<>();

  /** Keys whose object was collected: their entries are removed on the next insertion. */
  private final ReferenceQueue<Object> collected = new ReferenceQueue<>();

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
    Identity key = new Identity(resource, null);
    Encoded e = encoded.get(key);
    if (e == null) {
      ResourceCache f = fallback;
      e = f == null ? null : f.encoded.get(key);
      if (e == null) {
        e = encodeNow(resource);
      }
      expunge();
      Encoded prev = encoded.putIfAbsent(new Identity(resource, collected), e);
      if (prev != null) {
        e = prev;
      }
    }
    return e;
  }

  /**
   * A value derived from two objects (by identity), computed once per push context: say, the
   * encoding of one generated list filtered to one set of subscribed names, which every proxy with
   * that subscription shares. {@code compute} must be a pure function of {@code a} and {@code b}. A
   * thread that asks while another computes it waits for that result ({@link Pending}).
   */
  @SuppressWarnings("unchecked")
  public <T> T derived(Object a, Object b, java.util.function.Supplier<T> compute) {
    Pair key = new Pair(new Identity(a, null), new Identity(b, null));
    Object v = derived.get(key);
    if (v != null) {
      return Pending.valueOf(v, compute);
    }
    ResourceCache f = fallback;
    Object before = f == null ? null : f.derived.get(key);
    expunge();
    Pair stored = new Pair(new Identity(a, collected), new Identity(b, collected));
    if (before != null && !(before instanceof Pending)) {
      Object prev = derived.putIfAbsent(stored, before);
      return (T) (prev == null || prev instanceof Pending ? before : prev);
    }
    return Pending.computeOnce(derived, stored, compute);
  }

  /**
   * The value {@link #derived} holds for {@code a} and {@code b} (here or in the previous context's
   * cache), or null: computes nothing.
   */
  @SuppressWarnings("unchecked")
  public <T> T peek(Object a, Object b) {
    Pair key = new Pair(new Identity(a, null), new Identity(b, null));
    Object v = derived.get(key);
    if (v == null) {
      ResourceCache f = fallback;
      v = f == null ? null : f.derived.get(key);
    }
    return v instanceof Pending ? null : (T) v;
  }

  /** Removes the entries whose key (or one of a pair's) was collected. */
  private void expunge() {
    if (collected.poll() == null) {
      return;
    }
    while (collected.poll() != null) {
      // drained: one sweep below removes every cleared key
    }
    encoded.keySet().removeIf(Identity::cleared);
    derived.keySet().removeIf(p -> p.a().cleared() || p.b().cleared());
  }

  /** How many resources are cached (for tests). */
  int size() {
    return encoded.size();
  }

  /** How many resources and derived values are cached, after removing the collected (tests). */
  int entries() {
    expunge();
    encoded.keySet().removeIf(Identity::cleared);
    derived.keySet().removeIf(p -> p.a().cleared() || p.b().cleared());
    return encoded.size() + derived.size();
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

  /**
   * An object by identity, held weakly: generated messages are immutable, and equal content is not
   * needed. A cleared key equals only itself (so it can still be removed).
   */
  private static final class Identity extends WeakReference<Object> {
    private final int hash;

    Identity(Object message, ReferenceQueue<Object> queue) {
      super(message, queue);
      this.hash = System.identityHashCode(message);
    }

    boolean cleared() {
      return refersTo(null);
    }

    @Override
    public boolean equals(Object o) {
      if (o == this) {
        return true;
      }
      if (!(o instanceof Identity i) || i.hash != hash) {
        return false;
      }
      Object m = get();
      return m != null && i.refersTo(m);
    }

    @Override
    public int hashCode() {
      return hash;
    }
  }
}
