package dev.weft.proxy.config;

import dev.weft.proxy.tls.TlsContext;

/**
 * One compiled filter chain of a listener: the connections it takes, its transport socket
 * (plaintext, or TLS with a {@code DownstreamTlsContext}) and the network filter that handles them
 * (an HTTP connection manager or a TCP proxy).
 *
 * @param name Envoy's filter chain {@code name}, or ""
 * @param match which connections use this chain
 * @param networkFilter the terminal network filter
 * @param connectionLimit the chain's {@code envoy.filters.network.connection_limit}, or null
 * @param tls the chain's {@code envoy.transport_sockets.tls} context, or null for plaintext
 */
public record FilterChainConfig(
    String name,
    FilterChainMatch match,
    NetworkFilterConfig networkFilter,
    ConnectionLimitConfig connectionLimit,
    TlsContext tls) {

  /** A plaintext chain without a connection limit. */
  public FilterChainConfig(String name, FilterChainMatch match, NetworkFilterConfig networkFilter) {
    this(name, match, networkFilter, null, null);
  }

  /** A plaintext chain. */
  public FilterChainConfig(
      String name,
      FilterChainMatch match,
      NetworkFilterConfig networkFilter,
      ConnectionLimitConfig connectionLimit) {
    this(name, match, networkFilter, connectionLimit, null);
  }
}
