package dev.weft.proxy.config;

import dev.weft.proxy.stats.HostStats;
import dev.weft.proxy.tls.TlsContext;
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

  /** A plaintext endpoint. */
  public Endpoint(String cluster, InetSocketAddress address, HostStats stats) {
    this(cluster, address, stats, null);
  }

  /**
   * @param tls the TLS context of connections to it, or null for plaintext
   */
  public Endpoint(String cluster, InetSocketAddress address, HostStats stats, TlsContext tls) {
    this.address = address;
    this.hostPort = address.getHostString() + ":" + address.getPort();
    this.poolKey = cluster + "|" + hostPort + "|" + (tls == null ? "raw" : tls.poolKey());
    this.stats = stats;
    this.tls = tls;
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
