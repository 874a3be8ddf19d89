package dev.weft.proxy.config;

import dev.weft.proxy.stats.HostStats;
import dev.weft.proxy.tls.TlsContext;
import dev.weft.proxy.upstream.HostHealth;
import java.net.InetSocketAddress;

/**
 * One upstream host of a cluster: its resolved address, the {@code host:port} text used in logs and
 * {@code /clusters}, its transport socket (the cluster's TLS context chosen for it by {@link
 * ClusterTransport}, or plaintext) and the key of its connections in a connection pool, which names
 * the transport so that TLS and plaintext connections (or two TLS configurations) never share a
 * pool.
 */
public final class Endpoint {
  private final InetSocketAddress address;
  private final String hostPort;
  private final String poolKey;
  private final HostStats stats;
  private final TlsContext tls;
  private final HostHealth health;
  private final int priority;
  private final int locality;
  private final int localityWeight;

  /** A plaintext endpoint. */
  public Endpoint(String cluster, InetSocketAddress address, HostStats stats) {
    this(cluster, address, stats, null);
  }

  /** An endpoint with a health state of its own (not shared with any cluster). */
  public Endpoint(String cluster, InetSocketAddress address, HostStats stats, TlsContext tls) {
    this(cluster, address, stats, tls, new HostHealth());
  }

  /**
   * @param tls the TLS context of connections to it, or null for plaintext
   * @param health the host's load and outlier state in its cluster ({@code
   *     ClusterState.host(poolKey)})
   */
  public Endpoint(
      String cluster,
      InetSocketAddress address,
      HostStats stats,
      TlsContext tls,
      HostHealth health) {
    this(cluster, address, stats, tls, health, 0);
  }

  /**
   * @param priority the priority of its locality in the load assignment (0 is the highest)
   */
  public Endpoint(
      String cluster,
      InetSocketAddress address,
      HostStats stats,
      TlsContext tls,
      HostHealth health,
      int priority) {
    this(cluster, address, stats, tls, health, priority, 0, 0);
  }

  /**
   * @param locality the index of its locality ({@code LocalityLbEndpoints}) in the load assignment
   * @param localityWeight its locality's {@code load_balancing_weight}, 0 when unset
   */
  public Endpoint(
      String cluster,
      InetSocketAddress address,
      HostStats stats,
      TlsContext tls,
      HostHealth health,
      int priority,
      int locality,
      int localityWeight) {
    this.locality = locality;
    this.localityWeight = localityWeight;
    this.address = address;
    this.hostPort = address.getHostString() + ":" + address.getPort();
    this.poolKey = cluster + "|" + hostPort + "|" + (tls == null ? "raw" : tls.poolKey());
    this.stats = stats;
    this.tls = tls;
    this.health = health;
    this.priority = priority;
  }

  /** Its locality's priority in the load assignment: 0 first, higher ones for failover. */
  public int priority() {
    return priority;
  }

  /** The index of its locality in the load assignment. */
  public int locality() {
    return locality;
  }

  /** Its locality's {@code load_balancing_weight} (0 when unset). */
  public int localityWeight() {
    return localityWeight;
  }

  /** The host's load and outlier state, shared by the cluster's versions and event loops. */
  public HostHealth health() {
    return health;
  }

  /** The key of the host's state in its cluster: its pool key (address and transport). */
  public static String healthKey(String cluster, InetSocketAddress address, TlsContext tls) {
    return cluster
        + "|"
        + address.getHostString()
        + ":"
        + address.getPort()
        + "|"
        + (tls == null ? "raw" : tls.poolKey());
  }

  public InetSocketAddress address() {
    return address;
  }

  /** {@code 127.0.1.2:9898}. */
  public String hostPort() {
    return hostPort;
  }

  /** Connections to the same host for the same cluster and transport share this key. */
  public String poolKey() {
    return poolKey;
  }

  public HostStats stats() {
    return stats;
  }

  /** The TLS context of connections to this endpoint, or null for plaintext. */
  public TlsContext tls() {
    return tls;
  }

  @Override
  public String toString() {
    return hostPort;
  }
}
