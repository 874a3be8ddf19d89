package dev.weft.proxy.stats;

/**
 * The hook Istio's TCP telemetry ({@code istio_tcp_connections_opened_total}, {@code
 * istio_tcp_connections_closed_total}, {@code istio_tcp_sent_bytes_total}, {@code
 * istio_tcp_received_bytes_total}) is counted from: the TCP proxy calls it on the connection's
 * event loop when a connection reaches its upstream, for the bytes of each read (so counts move
 * while a long connection lasts, as Istio's stats filter reports them periodically), and when it
 * closes. Implementations must not block and should not allocate per call. Installed with {@link
 * ProxyStats#tcpObserver(TcpConnectionObserver)}.
 */
public interface TcpConnectionObserver {
  /** Does nothing. */
  TcpConnectionObserver NONE = new TcpConnectionObserver() {};

  /** A connection was proxied to {@code cluster} (its upstream connected). */
  default void opened(String cluster) {}

  /** Bytes read from the downstream ({@code received}) or from the upstream ({@code sent}). */
  default void bytes(String cluster, long received, long sent) {}

  /** A connection that {@link #opened} has closed. */
  default void closed(String cluster) {}
}
