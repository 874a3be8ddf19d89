package dev.weft.proxy.config;

/**
 * One compiled filter chain of a listener: the connections it takes and the network filter that
 * handles them. Today the chain is plaintext and its filter is an HTTP connection manager; TLS (a
 * transport socket) and a TCP proxy filter are additions here.
 *
 * @param name Envoy's filter chain {@code name}, or ""
 * @param match which connections use this chain
 * @param networkFilter the terminal network filter
 */
public record FilterChainConfig(
    String name, FilterChainMatch match, NetworkFilterConfig networkFilter) {}
