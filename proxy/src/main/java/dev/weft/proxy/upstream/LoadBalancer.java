package dev.weft.proxy.upstream;

import dev.weft.proxy.config.ClusterConfig;
import dev.weft.proxy.config.Endpoint;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/** Envoy's ROUND_ROBIN (and RANDOM) over a cluster's healthy endpoints. */
public final class LoadBalancer {
  private LoadBalancer() {}

  /** The next endpoint of {@code cluster}, or null when it has none (Envoy's {@code UH}). */
  public static Endpoint pick(ClusterConfig cluster) {
    List<Endpoint> eps = cluster.endpoints();
    int n = eps.size();
    if (n == 0) {
      return null;
    }
    if (n == 1) {
      return eps.get(0);
    }
    if (cluster.lbPolicy().equals("RANDOM")) {
      return eps.get(ThreadLocalRandom.current().nextInt(n));
    }
    int i = cluster.cursor().getAndIncrement();
    return eps.get(Math.floorMod(i, n));
  }
}
