package dev.weft.proxy.stats;

import java.util.concurrent.atomic.LongAdder;

/**
 * The counters of one {@code envoy.filters.network.tcp_proxy} stat prefix ({@code
 * tcp.<stat_prefix>.*}, Envoy's names): connections, bytes each way, connections closed for
 * idleness and connections that found no upstream. Shared by every event loop; survives config
 * pushes.
 */
public final class TcpProxyStats {
  private final String prefix;
  final LongAdder downstreamCxTotal = new LongAdder();
  final LongAdder downstreamCxRxBytes = new LongAdder();
  final LongAdder downstreamCxTxBytes = new LongAdder();
  final LongAdder idleTimeout = new LongAdder();
  final LongAdder downstreamCxNoRoute = new LongAdder();
  final LongAdder upstreamConnectFailed = new LongAdder();

  TcpProxyStats(String prefix) {
    this.prefix = prefix;
  }

  /** Counters no stats page shows (an HTTP upgrade's tunnel is counted as its HTTP stream). */
  public static TcpProxyStats detached() {
    return new TcpProxyStats("");
  }

  public String prefix() {
    return prefix;
  }

  public void connection() {
    downstreamCxTotal.increment();
  }

  /** Bytes read from the downstream (and sent upstream). */
  public void received(long bytes) {
    downstreamCxRxBytes.add(bytes);
  }

  /** Bytes read from the upstream (and sent downstream). */
  public void sent(long bytes) {
    downstreamCxTxBytes.add(bytes);
  }

  public void idleTimeout() {
    idleTimeout.increment();
  }

  /** No cluster, or a cluster without endpoints ({@code downstream_cx_no_route}, Envoy's UH/NR). */
  public void noRoute() {
    downstreamCxNoRoute.increment();
  }

  public void connectFailed() {
    upstreamConnectFailed.increment();
  }

  public long connections() {
    return downstreamCxTotal.sum();
  }

  public long receivedBytes() {
    return downstreamCxRxBytes.sum();
  }

  public long sentBytes() {
    return downstreamCxTxBytes.sum();
  }

  public long idleTimeouts() {
    return idleTimeout.sum();
  }

  public long noRoutes() {
    return downstreamCxNoRoute.sum();
  }

  public long connectFailures() {
    return upstreamConnectFailed.sum();
  }
}
