package dev.weft.proxy.config;

/**
 * The compiled configuration of a filter chain's terminal network filter: what runs on a connection
 * once its filter chain is chosen. {@code envoy.filters.network.tcp_proxy} will be the second
 * implementation.
 */
public sealed interface NetworkFilterConfig permits HttpConnectionManagerConfig {}
