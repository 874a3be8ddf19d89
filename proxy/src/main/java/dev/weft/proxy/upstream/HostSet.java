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
 * @param localities with one priority and a locality-weighted cluster: {@code hosts} by locality
 *     with their weights; else null
 * @param newestNanos when the newest of the cluster's hosts joined it (slow start), on the
 *     cluster's scheduler clock
 */
public record HostSet(
    ClusterConfig source,
    Endpoint[] hosts,
    HashSelector selector,
    boolean panic,
    Level[] levels,
    Locality[] localities,
    long newestNanos) {

  /** A host set of one priority. */
  public HostSet(ClusterConfig source, Endpoint[] hosts, HashSelector selector, boolean panic) {
    this(source, hosts, selector, panic, null, null, Long.MIN_VALUE);
  }

  /** A host set of several priorities. */
  public HostSet(
      ClusterConfig source, Endpoint[] hosts, HashSelector selector, boolean panic, Level[] l) {
    this(source, hosts, selector, panic, l, null, Long.MIN_VALUE);
  }

  /**
   * The hosts of one locality of a locality-weighted cluster (Envoy's locality weighted load
   * balancing): a draw in {@code [0, total)} below {@code cumulativeWeight} (and at or above the
   * previous one's) picks it.
   *
   * @param hosts its hosts to balance over
   * @param cumulativeWeight the sum of the effective weights of the localities up to this one
   */
  public record Locality(Endpoint[] hosts, long cumulativeWeight) {}

  /**
   * One priority's hosts.
   *
   * @param hosts its healthy hosts (all of them in panic)
   * @param selector the hash table over them (RING_HASH, MAGLEV), else null
   * @param localities its hosts by locality in a locality-weighted cluster, else null
   * @param cumulativeLoad the sum of the loads of the priorities up to this one, in percent: a draw
   *     in {@code [0, 100)} below it and above the previous one's picks this priority
   */
  public record Level(
      Endpoint[] hosts, HashSelector selector, int cumulativeLoad, Locality[] localities) {
    public Level(Endpoint[] hosts, HashSelector selector, int cumulativeLoad) {
      this(hosts, selector, cumulativeLoad, null);
    }
  }
}
