package dev.weft.proxy.config;

import dev.weft.proxy.stats.ClusterStats;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A compiled upstream cluster: its endpoints (from its STATIC load assignment or from EDS), the
 * connect timeout, its transport sockets and the load balancer's cursor. Immutable except for the
 * cursor, which is shared with the cluster of the same name in the next configuration so round
 * robin continues across updates.
 *
 * @param name the cluster name, e.g. {@code outbound|80|v1|podinfo.demo.svc.cluster.local}
 * @param type {@code EDS} or {@code STATIC}
 * @param edsServiceName the EDS resource name (the cluster name unless {@code service_name} is set)
 * @param connectTimeoutMillis Envoy's {@code connect_timeout} (default 5 s)
 * @param lbPolicy {@code ROUND_ROBIN} or {@code RANDOM}
 * @param endpoints healthy endpoints, in load-assignment order, each with its transport socket
 * @param cursor round-robin position
 * @param stats the cluster's counters
 * @param transport the cluster's {@code transport_socket} and {@code transport_socket_matches}
 * @param protocol the HTTP protocol of its upstream connections
 */
public record ClusterConfig(
    String name,
    String type,
    String edsServiceName,
    int connectTimeoutMillis,
    String lbPolicy,
    List<Endpoint> endpoints,
    AtomicInteger cursor,
    ClusterStats stats,
    ClusterTransport transport,
    UpstreamProtocol protocol) {

  /** An HTTP/1.1 cluster. */
  public ClusterConfig(
      String name,
      String type,
      String edsServiceName,
      int connectTimeoutMillis,
      String lbPolicy,
      List<Endpoint> endpoints,
      AtomicInteger cursor,
      ClusterStats stats,
      ClusterTransport transport) {
    this(
        name,
        type,
        edsServiceName,
        connectTimeoutMillis,
        lbPolicy,
        endpoints,
        cursor,
        stats,
        transport,
        UpstreamProtocol.HTTP1);
  }

  /** A plaintext cluster. */
  public ClusterConfig(
      String name,
      String type,
      String edsServiceName,
      int connectTimeoutMillis,
      String lbPolicy,
      List<Endpoint> endpoints,
      AtomicInteger cursor,
      ClusterStats stats) {
    this(
        name,
        type,
        edsServiceName,
        connectTimeoutMillis,
        lbPolicy,
        endpoints,
        cursor,
        stats,
        ClusterTransport.PLAINTEXT);
  }

  /** The same cluster with another set of endpoints. */
  public ClusterConfig withEndpoints(List<Endpoint> newEndpoints) {
    return new ClusterConfig(
        name,
        type,
        edsServiceName,
        connectTimeoutMillis,
        lbPolicy,
        newEndpoints,
        cursor,
        stats,
        transport,
        protocol);
  }
}
