package dev.weft.proxy.config;

/**
 * Envoy's {@code upstream_connection_options.tcp_keepalive}: {@code SO_KEEPALIVE} on upstream
 * connections, with the kernel's defaults for any value that is 0.
 *
 * @param probes {@code keepalive_probes} ({@code TCP_KEEPCNT}), 0 for the system default
 * @param timeSeconds {@code keepalive_time} ({@code TCP_KEEPIDLE}), 0 for the system default
 * @param intervalSeconds {@code keepalive_interval} ({@code TCP_KEEPINTVL}), 0 for the default
 */
public record TcpKeepalive(int probes, int timeSeconds, int intervalSeconds) {}
