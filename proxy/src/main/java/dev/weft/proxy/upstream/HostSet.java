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
 * @param levels with endpoints of several priorities: each priority's hosts and its share of the
 *     load (Envoy's priority load), in priority order; null with one priority ({@code hosts})
 */
public record HostSet(
    ClusterConfig source, Endpoint[] hosts, HashSelector selector, boolean panic, Level[] levels) {

  /** A host set of one priority. */
  public HostSet(ClusterConfig source, Endpoint[] hosts, HashSelector selector, boolean panic) {
    this(source, hosts, selector, panic, null);
  }

  /**
   * One priority's hosts.
   *
   * @param hosts its healthy hosts (all of them in panic)
   * @param selector the hash table over them (RING_HASH, MAGLEV), else null
   * @param cumulativeLoad the sum of the loads of the priorities up to this one, in percent: a draw
   *     in {@code [0, 100)} below it and above the previous one's picks this priority
   */
  public record Level(Endpoint[] hosts, HashSelector selector, int cumulativeLoad) {}
}
