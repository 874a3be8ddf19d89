package dev.weft.controlplane.dashboard;

import java.util.List;

/**
 * A namespace's topology as the dashboard shows it: Kiali's versioned-app graph with service nodes.
 *
 * @param namespace the namespace asked for
 * @param nodes workloads, services and gateways with traffic into, out of or within it (and its
 *     known services and workloads without traffic)
 * @param edges requests between them
 * @param windowSeconds how long the rates are over (0 when no rate is known yet)
 */
record Graph(String namespace, List<Node> nodes, List<Edge> edges, double windowSeconds) {
  Graph {
    nodes = List.copyOf(nodes);
    edges = List.copyOf(edges);
  }

  /** What a node stands for. */
  enum NodeType {
    WORKLOAD,
    SERVICE,
    GATEWAY,
    UNKNOWN;

    String json() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  /**
   * A node.
   *
   * @param id unique in the graph: {@code workload:ns/name}, {@code service:ns/name}, {@code
   *     unknown}
   * @param type what it is
   * @param namespace its namespace
   * @param name the workload's or service's name
   * @param app its canonical service ({@code app}), workloads only, else empty
   * @param version its canonical revision ({@code version}), workloads only, else empty
   */
  record Node(String id, NodeType type, String namespace, String name, String app, String version) {
    /** A short label: {@code podinfo v1} for a versioned workload, else the name. */
    String label() {
      if (type == NodeType.WORKLOAD
          && !app.isEmpty()
          && !version.isEmpty()
          && !version.equals(SeriesKey.UNKNOWN)
          && !version.equals("latest")) {
        return app + " " + version;
      }
      return name;
    }
  }

  /**
   * An edge: requests from {@code source} to {@code target}.
   *
   * @param source the source node's id
   * @param target the target node's id
   * @param rate requests per second over the window
   * @param errorRate the fraction of them that failed (5xx or no response), 0..1
   * @param p99 the 99th percentile of their duration in milliseconds, NaN when unknown
   * @param percent this edge's share of its source's outgoing requests, 0..100: for a service's
   *     edges to its workloads, the observed split between versions
   * @param requests requests counted since the proxies started
   * @param mtlsPercent the share of requests over Istio mTLS ({@code
   *     connection_security_policy="mutual_tls"}), 0..100
   * @param idle whether no request was seen in the window: the numbers are then since the start
   */
  record Edge(
      String source,
      String target,
      double rate,
      double errorRate,
      double p99,
      double percent,
      double requests,
      double mtlsPercent,
      boolean idle) {
    /** Whether to draw a lock: some of the traffic is mTLS. */
    boolean mtls() {
      return mtlsPercent > 0;
    }
  }
}
