package dev.weft.proxy.config;

import dev.weft.proxy.stats.HostStats;
import io.netty.util.NetUtil;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The hosts of an ORIGINAL_DST cluster (Envoy's {@code original_dst} cluster, Istio's {@code
 * PassthroughCluster}): made on demand from the destination a request asked for. Envoy takes the
 * connection's original destination (iptables' {@code SO_ORIGINAL_DST}), or with {@code
 * original_dst_lb_config.use_http_header} the {@code x-envoy-original-dst-host} header. Local mode
 * has no capture: a request that reached the outbound HTTP-proxy listener asked for its authority
 * ({@code host[:port]}, port 80 when absent), so that is the original destination when the header
 * is not used. A host name stays unresolved here; the connect resolves it off the event loop
 * ({@code upstream.OffLoopResolver}).
 *
 * <p>Hosts are kept (so their connections pool) up to {@link #MAX_HOSTS}, then forgotten all at
 * once, as Envoy's cleanup of unused original-destination hosts. All hosts share one {@link
 * HostStats}, so that arbitrary destinations never grow the stats. Safe from any thread.
 */
public final class OriginalDestinations {
  /** How many destinations are kept before the cache starts over. */
  static final int MAX_HOSTS = 1024;

  private final String cluster;
  private final HostStats stats;
  private final String header;
  private final Map<String, Endpoint> hosts = new ConcurrentHashMap<>();

  /**
   * @param cluster the cluster name
   * @param stats the counters all its hosts share
   * @param header the header naming the destination ({@code use_http_header}), or null
   */
  public OriginalDestinations(String cluster, HostStats stats, String header) {
    this.cluster = cluster;
    this.stats = stats;
    this.header = header;
  }

  /** The header that names the destination, or null when it is the request's authority. */
  public String header() {
    return header;
  }

  /**
   * The endpoint for destination {@code hostPort} ({@code host}, {@code host:port}, {@code
   * [v6]:port}), or null when it is not one.
   */
  public Endpoint endpoint(String hostPort) {
    if (hostPort == null || hostPort.isEmpty()) {
      return null;
    }
    Endpoint e = hosts.get(hostPort);
    if (e != null) {
      return e;
    }
    InetSocketAddress address = parse(hostPort);
    if (address == null) {
      return null;
    }
    e = new Endpoint(cluster, address, stats);
    if (hosts.size() >= MAX_HOSTS) {
      hosts.clear();
    }
    Endpoint prev = hosts.putIfAbsent(hostPort, e);
    return prev != null ? prev : e;
  }

  /** {@code host[:port]} as an address: IP literals resolved, names left unresolved. */
  public static InetSocketAddress parse(String hostPort) {
    String host;
    int port = 80;
    String rest;
    if (hostPort.startsWith("[")) {
      int close = hostPort.indexOf(']');
      if (close < 0) {
        return null;
      }
      host = hostPort.substring(1, close);
      rest = hostPort.substring(close + 1);
    } else {
      int colon = hostPort.lastIndexOf(':');
      host = colon < 0 ? hostPort : hostPort.substring(0, colon);
      rest = colon < 0 ? "" : hostPort.substring(colon);
    }
    if (!rest.isEmpty()) {
      if (!rest.startsWith(":")) {
        return null;
      }
      try {
        port = Integer.parseInt(rest.substring(1));
      } catch (NumberFormatException ex) {
        return null;
      }
    }
    if (host.isEmpty() || port <= 0 || port > 65535) {
      return null;
    }
    byte[] literal = NetUtil.createByteArrayFromIpAddressString(host);
    if (literal != null) {
      try {
        return new InetSocketAddress(InetAddress.getByAddress(host, literal), port);
      } catch (UnknownHostException ex) {
        return null;
      }
    }
    return InetSocketAddress.createUnresolved(host, port);
  }
}
