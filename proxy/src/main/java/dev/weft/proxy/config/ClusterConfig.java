package dev.weft.proxy.config;

import dev.weft.proxy.stats.ClusterStats;
import dev.weft.proxy.upstream.ClusterState;
import dev.weft.proxy.upstream.HashSelector;
import java.util.List;

/**
 * A compiled upstream cluster: its endpoints (from its STATIC load assignment or from EDS), the
 * connect timeout, its balancing and limits ({@link ClusterPolicy}), its transport sockets, the
 * HTTP protocol of its upstream connections, and its {@link ClusterState} (cursor, circuit breaker
 * counts, outlier detection), which is shared with the cluster of the same name in the next
 * configuration so that they carry across updates. Immutable.
 *
 * @param name the cluster name, e.g. {@code outbound|80|v1|podinfo.demo.svc.cluster.local}
 * @param type {@code EDS}, {@code STATIC}, {@code STRICT_DNS}, {@code LOGICAL_DNS} (endpoints whose
 *     host names are resolved at connect, off the event loop) or {@code ORIGINAL_DST}
 * @param edsServiceName the EDS resource name (the cluster name unless {@code service_name} is set)
 * @param connectTimeoutMillis Envoy's {@code connect_timeout} (default 5 s)
 * @param policy load balancing, circuit breakers, outlier detection, connection options
 * @param endpoints healthy endpoints, in load-assignment order, each with its transport socket
 * @param state the cluster's mutable state, shared across versions
 * @param stats the cluster's counters
 * @param transport the cluster's {@code transport_socket} and {@code transport_socket_matches}
 * @param protocol the HTTP protocol of its upstream connections
 * @param selector the consistent-hash table over all {@code endpoints} (RING_HASH, MAGLEV), else
 *     null
 * @param originalDst for an ORIGINAL_DST cluster, its hosts made per destination; else null
 */
public record ClusterConfig(
    String name,
    String type,
    String edsServiceName,
    int connectTimeoutMillis,
    ClusterPolicy policy,
    List<Endpoint> endpoints,
    ClusterState state,
    ClusterStats stats,
    ClusterTransport transport,
    UpstreamProtocol protocol,
    HashSelector selector,
    OriginalDestinations originalDst) {

  /**
   * An HTTP/1.1 cluster whose hash table (if its policy has one) is built over {@code endpoints}.
   */
  public ClusterConfig(
      String name,
      String type,
      String edsServiceName,
      int connectTimeoutMillis,
      ClusterPolicy policy,
      List<Endpoint> endpoints,
      ClusterState state,
      ClusterStats stats,
      ClusterTransport transport) {
    this(
        name,
        type,
        edsServiceName,
        connectTimeoutMillis,
        policy,
        endpoints,
        state,
        stats,
        transport,
        UpstreamProtocol.HTTP1,
        (OriginalDestinations) null);
  }

  /** A cluster speaking {@code protocol}, its hash table (if any) built over {@code endpoints}. */
  public ClusterConfig(
      String name,
      String type,
      String edsServiceName,
      int connectTimeoutMillis,
      ClusterPolicy policy,
      List<Endpoint> endpoints,
      ClusterState state,
      ClusterStats stats,
      ClusterTransport transport,
      UpstreamProtocol protocol) {
    this(
        name,
        type,
        edsServiceName,
        connectTimeoutMillis,
        policy,
        endpoints,
        state,
        stats,
        transport,
        protocol,
        (OriginalDestinations) null);
  }

  /**
   * A cluster speaking {@code protocol} whose hash table (if its policy has one) is built over
   * {@code endpoints}; {@code originalDst} for an ORIGINAL_DST cluster, else null.
   */
  public ClusterConfig(
      String name,
      String type,
      String edsServiceName,
      int connectTimeoutMillis,
      ClusterPolicy policy,
      List<Endpoint> endpoints,
      ClusterState state,
      ClusterStats stats,
      ClusterTransport transport,
      UpstreamProtocol protocol,
      OriginalDestinations originalDst) {
    this(
        name,
        type,
        edsServiceName,
        connectTimeoutMillis,
        policy,
        endpoints,
        state,
        stats,
        transport,
        protocol,
        ClusterState.selector(policy, endpoints.toArray(new Endpoint[0])),
        originalDst);
  }

  /** The same cluster with another set of endpoints (its hash table rebuilt over them). */
  public ClusterConfig withEndpoints(List<Endpoint> newEndpoints) {
    return new ClusterConfig(
        name,
        type,
        edsServiceName,
        connectTimeoutMillis,
        policy,
        newEndpoints,
        state,
        stats,
        transport,
        protocol,
        originalDst);
  }
}
