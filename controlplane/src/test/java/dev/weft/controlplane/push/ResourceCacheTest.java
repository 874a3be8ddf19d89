package dev.weft.controlplane.push;

import static org.assertj.core.api.Assertions.assertThat;

import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import java.lang.ref.WeakReference;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A resource is encoded once per identity; equal content gives equal bytes and digests. */
class ResourceCacheTest {
  @Test
  void encodesOncePerMessageAndPacksAsAnyPackDoes() throws Exception {
    ResourceCache cache = new ResourceCache();
    Cluster a = Cluster.newBuilder().setName("outbound|80||a.demo.svc.cluster.local").build();
    Cluster equal = Cluster.newBuilder().setName("outbound|80||a.demo.svc.cluster.local").build();
    Cluster other = Cluster.newBuilder().setName("outbound|80||b.demo.svc.cluster.local").build();

    ResourceCache.Encoded e = cache.encode(a);
    assertThat(cache.encode(a)).isSameAs(e);
    assertThat(cache.size()).isEqualTo(1);
    assertThat(e.any()).isEqualTo(com.google.protobuf.Any.pack(a));
    assertThat(e.any().unpack(Cluster.class)).isEqualTo(a);

    ResourceCache.Encoded same = cache.encode(equal);
    assertThat(same).isNotSameAs(e);
    assertThat(same.digest()).isEqualTo(e.digest());
    assertThat(cache.encode(other).digest()).isNotEqualTo(e.digest());
    assertThat(cache.size()).isEqualTo(3);
  }

  /**
   * A message nobody else holds (a proxy's own listener once its stream has the encoding) is not
   * kept by the cache: its entry and its derived values go, while a message still reachable (the
   * push context's shared clusters) keeps its encoding and derived values, the same objects.
   */
  @Test
  void holdsItsKeysWeakly() throws Exception {
    ResourceCache cache = new ResourceCache();
    Cluster shared = Cluster.newBuilder().setName("outbound|80||a.demo.svc.cluster.local").build();
    ResourceCache.Encoded sharedEncoding = cache.encode(shared);
    Object sharedDerived = cache.derived(shared, String.class, () -> new Object());

    Cluster own = Cluster.newBuilder().setName("inbound|8080||").build();
    ResourceCache.Encoded ownEncoding = cache.encode(own); // what a stream keeps
    cache.derived(own, String.class, () -> List.of(ownEncoding));
    cache.derived(shared, own, () -> "pair");
    assertThat(cache.entries()).isEqualTo(5);
    WeakReference<Cluster> ownRef = new WeakReference<>(own);
    own = null;

    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (cache.entries() != 2 && System.nanoTime() < deadline) {
      System.gc();
      Thread.sleep(10); // the reference handler enqueues the cleared keys
    }
    assertThat(ownRef.get()).isNull();
    assertThat(cache.entries()).isEqualTo(2);
    assertThat(ownEncoding.any().unpack(Cluster.class).getName()).isEqualTo("inbound|8080||");
    assertThat(cache.encode(shared)).isSameAs(sharedEncoding);
    assertThat((Object) cache.derived(shared, String.class, () -> new Object()))
        .isSameAs(sharedDerived);
  }
}
