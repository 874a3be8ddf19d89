package dev.weft.proxy.config;

/** What a matched route does: forward to a cluster, split by weight, or answer directly. */
public sealed interface RouteAction {

  /** Envoy's {@code route.cluster}. */
  record ToCluster(String cluster) implements RouteAction {}

  /**
   * Envoy's {@code route.weighted_clusters}: a cluster is chosen at random in proportion to its
   * weight.
   *
   * @param clusters the cluster names
   * @param cumulative the running sum of weights, same order
   */
  record Weighted(String[] clusters, int[] cumulative) implements RouteAction {
    public int totalWeight() {
      return cumulative[cumulative.length - 1];
    }

    /** The cluster for a number drawn uniformly from {@code [0, totalWeight())}. */
    public String pick(int draw) {
      for (int i = 0; i < cumulative.length; i++) {
        if (draw < cumulative[i]) {
          return clusters[i];
        }
      }
      return clusters[clusters.length - 1];
    }
  }

  /** Envoy's {@code direct_response}. */
  record DirectResponse(int status, String body) implements RouteAction {}

  /**
   * Envoy's {@code redirect}: a 3xx with a Location built from the request and these parts (null or
   * 0 keep the request's).
   *
   * @param scheme {@code scheme_redirect}, or "https" for {@code https_redirect}
   * @param host {@code host_redirect}
   * @param port {@code port_redirect}
   * @param path {@code path_redirect}
   * @param prefixRewrite {@code prefix_rewrite}
   * @param stripQuery {@code strip_query}
   * @param status 301, 302, 303, 307 or 308
   */
  record Redirect(
      String scheme,
      String host,
      int port,
      String path,
      String prefixRewrite,
      boolean stripQuery,
      int status)
      implements RouteAction {}
}
