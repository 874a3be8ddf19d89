package dev.weft.proxy.config;

/**
 * The compiled configuration of a filter chain's terminal network filter: what runs on a connection
 * once its filter chain is chosen: an HTTP connection manager or a TCP proxy.
 */
public sealed interface NetworkFilterConfig permits HttpConnectionManagerConfig, TcpProxyConfig {}
