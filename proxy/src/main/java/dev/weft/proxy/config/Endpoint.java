package dev.weft.proxy.config;

import dev.weft.proxy.stats.HostStats;
import java.net.InetSocketAddress;

/**
 * One upstream host of a cluster: its resolved address, the {@code host:port} text used in logs and
 * {@code /clusters}, and the key of its connections in a connection pool.
 */
public final class Endpoint {
  private final InetSocketAddress address;
  private final String hostPort;
  private final String poolKey;
  private final HostStats stats;

  public Endpoint(String cluster, InetSocketAddress address, HostStats stats) {
    this.address = address;
    this.hostPort = address.getHostString() + ":" + address.getPort();
    this.poolKey = cluster + "|" + hostPort;
    this.stats = stats;
  }

  public InetSocketAddress address() {
    return address;
  }

  /** {@code 127.0.1.2:9898}. */
  public String hostPort() {
    return hostPort;
  }

  /** Connections to the same host for the same cluster are pooled together under this key. */
  public String poolKey() {
    return poolKey;
  }

  public HostStats stats() {
    return stats;
  }

  @Override
  public String toString() {
    return hostPort;
  }
}
