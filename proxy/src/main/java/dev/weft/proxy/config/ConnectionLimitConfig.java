package dev.weft.proxy.config;

import dev.weft.proxy.stats.ConnectionLimitStats;

/**
 * A compiled {@code envoy.filters.network.connection_limit} in front of a chain's connection
 * manager: at most {@code maxConnections} connections use the chain at once (counted across event
 * loops, under {@code stats}); a connection beyond that is closed, after {@code delayMillis}
 * (Envoy's {@code delay}, which slows clients that reconnect at once), without being read.
 *
 * @param statPrefix the filter's {@code stat_prefix}
 * @param maxConnections {@code max_connections} (at least 1)
 * @param delayMillis {@code delay}, 0 to close at once
 * @param stats the active count the limit is enforced on, and the counters
 */
public record ConnectionLimitConfig(
    String statPrefix, long maxConnections, long delayMillis, ConnectionLimitStats stats) {}
