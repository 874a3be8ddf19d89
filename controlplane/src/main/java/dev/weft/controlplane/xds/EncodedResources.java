package dev.weft.controlplane.xds;

import com.google.protobuf.Message;
import dev.weft.controlplane.push.ResourceCache;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;

/**
 * One type's resources for one proxy, as they go into a DiscoveryResponse: each resource encoded
 * through the push context's {@link ResourceCache} (so a resource shared by many proxies is
 * serialised and hashed once), and the hash of the whole set, from which the version is made.
 *
 * @param encoded the resources, in the generator's order
 * @param hash SHA-256, hex, over the resources' own SHA-256 digests in order: it changes exactly
 *     when a resource's deterministic serialization, or the list of resources, does
 */
record EncodedResources(List<ResourceCache.Encoded> encoded, String hash) {

  static EncodedResources of(ResourceCache cache, List<Message> resources) {
    List<ResourceCache.Encoded> out = new ArrayList<>(resources.size());
    MessageDigest digest = sha256();
    for (Message m : resources) {
      ResourceCache.Encoded e = cache.encode(m);
      out.add(e);
      digest.update(e.digest());
    }
    return new EncodedResources(out, HexFormat.of().formatHex(digest.digest()));
  }

  /**
   * These resources less the ones {@code before} has with the same bytes (by digest), with this
   * set's hash: what a state-of-the-world EDS or RDS response needs to carry for a proxy that holds
   * {@code before}. xDS lets such a response leave out resources of those types (only LDS and CDS
   * responses must hold every resource: an omitted ClusterLoadAssignment is not removed; Envoy
   * drops it with its cluster), and Istio's incremental EDS push sends only the changed ones.
   */
  EncodedResources changedSince(EncodedResources before) {
    Set<ByteBuffer> had = new HashSet<>(before.encoded.size() * 2);
    for (ResourceCache.Encoded e : before.encoded) {
      had.add(ByteBuffer.wrap(e.digest()));
    }
    List<ResourceCache.Encoded> changed = new ArrayList<>();
    for (ResourceCache.Encoded e : encoded) {
      if (!had.contains(ByteBuffer.wrap(e.digest()))) {
        changed.add(e);
      }
    }
    return new EncodedResources(List.copyOf(changed), hash);
  }

  /** The response carrying these resources. */
  DiscoveryResponse response(String typeUrl, String version, String nonce) {
    DiscoveryResponse.Builder r =
        DiscoveryResponse.newBuilder().setTypeUrl(typeUrl).setVersionInfo(version).setNonce(nonce);
    for (ResourceCache.Encoded e : encoded) {
      r.addResources(e.any());
    }
    return r.build();
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
