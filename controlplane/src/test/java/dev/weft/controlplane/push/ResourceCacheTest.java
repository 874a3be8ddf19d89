package dev.weft.controlplane.push;

import static org.assertj.core.api.Assertions.assertThat;

import io.envoyproxy.envoy.config.cluster.v3.Cluster;
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
}
