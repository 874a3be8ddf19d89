package dev.weft.proxy.upstream;

import dev.weft.proxy.config.ClusterConfig;
import dev.weft.proxy.config.Endpoint;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Envoy's load balancers over a cluster's {@link HostSet} (its hosts that outlier detection has not
 * ejected, or all of them in panic mode): ROUND_ROBIN (a shared cursor), RANDOM, LEAST_REQUEST
 * (Envoy's unweighted power of {@code choice_count} choices: sample hosts at random, with
 * replacement, keep the one with the fewest active requests, the first on a tie), RING_HASH and
 * MAGLEV (the request's hash through the host set's table; no hash: a random one, as Envoy).
 *
 * <p>Lock free and allocation free: event loops read the published host set.
 */
public final class LoadBalancer {
  private LoadBalancer() {}

  /** The next endpoint of {@code cluster} without a request hash, or null (Envoy's {@code UH}). */
  public static Endpoint pick(ClusterConfig cluster) {
    return pick(cluster, 0, false);
  }

  /**
   * The endpoint of {@code cluster} for a request, or null when it has no healthy one.
   *
   * @param hash the request's hash (route {@code hash_policy}), used when {@code hashed}
   */
  public static Endpoint pick(ClusterConfig cluster, long hash, boolean hashed) {
    ClusterState state = cluster.state();
    HostSet set = state.hostSet();
    if (set == null || set.source() != cluster) {
      // This configuration version is being replaced (or not yet published): its own endpoints,
      // skipping ejected ones.
      return pickUnpublished(cluster, hash, hashed);
    }
    Endpoint[] hosts = set.hosts();
    HashSelector selector = set.selector();
    HostSet.Level[] levels = set.levels();
    if (levels != null) {
      // Envoy's priority load: a draw in [0, 100) (the hash's, for hash balancers) picks it.
      int draw =
          hashed
              ? (int) Long.remainderUnsigned(hash, 100)
              : ThreadLocalRandom.current().nextInt(100);
      hosts = null;
      for (HostSet.Level l : levels) {
        if (draw < l.cumulativeLoad()) {
          hosts = l.hosts();
          selector = l.selector();
          break;
        }
      }
      if (hosts == null) {
        return null;
      }
    }
    int n = hosts.length;
    if (n == 0) {
      return null;
    }
    return switch (cluster.policy().lb()) {
      case ROUND_ROBIN ->
          n == 1 ? hosts[0] : hosts[Math.floorMod(state.cursor.getAndIncrement(), n)];
      case RANDOM -> n == 1 ? hosts[0] : hosts[ThreadLocalRandom.current().nextInt(n)];
      case LEAST_REQUEST -> n == 1 ? hosts[0] : leastRequest(hosts, cluster.policy().choiceCount());
      case RING_HASH, MAGLEV ->
          selector.pick(hashed ? hash : ThreadLocalRandom.current().nextLong());
    };
  }

  /** Envoy's unweighted LEAST_REQUEST pick. */
  static Endpoint leastRequest(Endpoint[] hosts, int choices) {
    ThreadLocalRandom r = ThreadLocalRandom.current();
    Endpoint best = hosts[r.nextInt(hosts.length)];
    int bestActive = best.health().activeRequests();
    for (int i = 1; i < choices; i++) {
      Endpoint e = hosts[r.nextInt(hosts.length)];
      int active = e.health().activeRequests();
      if (active < bestActive) {
        best = e;
        bestActive = active;
      }
    }
    return best;
  }

  private static Endpoint pickUnpublished(ClusterConfig cluster, long hash, boolean hashed) {
    List<Endpoint> eps = cluster.endpoints();
    int n = eps.size();
    if (n == 0) {
      return null;
    }
    int start;
    if (cluster.selector() != null) {
      Endpoint e = cluster.selector().pick(hashed ? hash : ThreadLocalRandom.current().nextLong());
      if (!e.health().ejected()) {
        return e;
      }
      start = eps.indexOf(e);
    } else {
      start = cluster.state().cursor.getAndIncrement();
    }
    for (int k = 0; k < n; k++) {
      Endpoint e = eps.get(Math.floorMod(start + k, n));
      if (!e.health().ejected()) {
        return e;
      }
    }
    return eps.get(Math.floorMod(start, n));
  }
}
