package dev.weft.proxy.upstream;

import dev.weft.proxy.config.ClusterConfig;
import dev.weft.proxy.config.Endpoint;
import dev.weft.proxy.config.LbPolicy;
import dev.weft.proxy.config.SlowStart;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Envoy's load balancers over a cluster's {@link HostSet} (its hosts that outlier detection has not
 * ejected, or all of them in panic mode): ROUND_ROBIN (a shared cursor), RANDOM, LEAST_REQUEST
 * (Envoy's unweighted power of {@code choice_count} choices: sample hosts at random, with
 * replacement, keep the one with the fewest active requests, the first on a tie), RING_HASH and
 * MAGLEV (the request's hash through the host set's table; no hash: a random one, as Envoy). Within
 * a priority, a locality-weighted cluster first draws a locality by weight; a host in its slow
 * start window makes ROUND_ROBIN and LEAST_REQUEST weighted by the hosts' slow start factors.
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
    HostSet.Locality[] localities = set.localities();
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
          localities = l.localities();
          break;
        }
      }
      if (hosts == null) {
        return null;
      }
    }
    if (localities != null) {
      hosts = locality(localities);
    }
    int n = hosts.length;
    if (n == 0) {
      return null;
    }
    SlowStart slowStart = cluster.policy().slowStart();
    if (slowStart != null && n > 1) {
      long now = state.scheduler().nanoTime();
      if (now - set.newestNanos() < slowStart.windowNanos()) {
        return slowStart(hosts, slowStart, now, cluster.policy().lb() == LbPolicy.LEAST_REQUEST);
      }
    }
    return switch (cluster.policy().lb()) {
      case ROUND_ROBIN ->
          n == 1 ? hosts[0] : hosts[Math.floorMod(state.cursor.getAndIncrement(), n)];
      case RANDOM -> n == 1 ? hosts[0] : hosts[ThreadLocalRandom.current().nextInt(n)];
      case LEAST_REQUEST -> n == 1 ? hosts[0] : leastRequest(hosts, cluster.policy().choiceCount());
      case RING_HASH, MAGLEV ->
          selector.pick(hashed ? hash : ThreadLocalRandom.current().nextLong());
      // An ORIGINAL_DST cluster has no endpoints to pick from (its caller picks the host).
      case CLUSTER_PROVIDED -> null;
    };
  }

  /** A locality drawn by its effective weight (Envoy's locality weighted load balancing). */
  private static Endpoint[] locality(HostSet.Locality[] localities) {
    long total = localities[localities.length - 1].cumulativeWeight();
    long draw = ThreadLocalRandom.current().nextLong(total);
    for (HostSet.Locality l : localities) {
      if (draw < l.cumulativeWeight()) {
        return l.hosts();
      }
    }
    return localities[localities.length - 1].hosts();
  }

  /**
   * A pick while a host is in its slow start window: each host weighted by its slow start factor
   * ({@link SlowStart#factor}), for LEAST_REQUEST divided by its active requests + 1 (Envoy's
   * weighted least request with {@code active_request_bias} 1), drawn at random by weight (Envoy
   * draws by earliest deadline first: the same shares).
   */
  static Endpoint slowStart(Endpoint[] hosts, SlowStart s, long now, boolean leastRequest) {
    double total = 0;
    for (Endpoint e : hosts) {
      total += weight(e, s, now, leastRequest);
    }
    double draw = ThreadLocalRandom.current().nextDouble(total);
    for (Endpoint e : hosts) {
      draw -= weight(e, s, now, leastRequest);
      if (draw < 0) {
        return e;
      }
    }
    return hosts[hosts.length - 1];
  }

  private static double weight(Endpoint e, SlowStart s, long now, boolean leastRequest) {
    double w = s.factor(now - e.health().createdNanos());
    return leastRequest ? w / (e.health().activeRequests() + 1) : w;
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
