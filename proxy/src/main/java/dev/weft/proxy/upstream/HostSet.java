package dev.weft.proxy.upstream;

import dev.weft.proxy.config.ClusterConfig;
import dev.weft.proxy.config.Endpoint;

/**
 * The hosts a cluster balances over right now: its healthy (not ejected) endpoints, or all of them
 * in panic mode, with the consistent-hash table over exactly those. Immutable; {@link ClusterState}
 * publishes a new one when the endpoints or their ejections change.
 *
 * @param source the cluster configuration whose endpoints these are
 * @param hosts the hosts to pick from
 * @param selector the hash table over {@code hosts} for RING_HASH and MAGLEV, else null
 * @param panic whether too few hosts are healthy and all are used (Envoy's panic mode)
 */
public record HostSet(
    ClusterConfig source, Endpoint[] hosts, HashSelector selector, boolean panic) {}
