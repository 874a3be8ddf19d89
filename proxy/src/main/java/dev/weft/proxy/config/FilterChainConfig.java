package dev.weft.proxy.config;

/**
 * One compiled filter chain of a listener: the connections it takes and the network filter that
 * handles them. Today the chain is plaintext and its filter is an HTTP connection manager; TLS (a
 * transport socket) and a TCP proxy filter are additions here.
 *
 * @param name Envoy's filter chain {@code name}, or ""
 * @param match which connections use this chain
 * @param networkFilter the terminal network filter
 * @param connectionLimit the chain's {@code envoy.filters.network.connection_limit}, or null
 */
public record FilterChainConfig(
    String name,
    FilterChainMatch match,
    NetworkFilterConfig networkFilter,
    ConnectionLimitConfig connectionLimit) {

  /** A chain without a connection limit. */
  public FilterChainConfig(String name, FilterChainMatch match, NetworkFilterConfig networkFilter) {
    this(name, match, networkFilter, null);
  }
}
