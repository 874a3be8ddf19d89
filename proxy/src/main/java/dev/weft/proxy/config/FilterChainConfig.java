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
 * @param rbac the chain's {@code envoy.filters.network.rbac} filters, in order (only before a TCP
 *     proxy), evaluated once the connection is established
 */
public record FilterChainConfig(
    String name,
    FilterChainMatch match,
    NetworkFilterConfig networkFilter,
    ConnectionLimitConfig connectionLimit,
    TlsContext tls,
    java.util.List<dev.weft.proxy.filters.rbac.NetworkRbac> rbac) {

  public FilterChainConfig {
    rbac = java.util.List.copyOf(rbac);
  }

  /** A chain without network RBAC. */
  public FilterChainConfig(
      String name,
      FilterChainMatch match,
      NetworkFilterConfig networkFilter,
      ConnectionLimitConfig connectionLimit,
      TlsContext tls) {
    this(name, match, networkFilter, connectionLimit, tls, java.util.List.of());
  }

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
