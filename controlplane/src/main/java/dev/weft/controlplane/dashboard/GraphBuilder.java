package dev.weft.controlplane.dashboard;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.TreeMap;

/**
 * Builds a namespace's {@link Graph} from {@link Traffic}, as Kiali builds its versioned-app graph
 * with service nodes: each series adds an edge from its source workload to its destination service,
 * and from that service to its destination workload.
 *
 * <p>Both ends of a request report it ({@code reporter="source"} from the client's proxy, {@code
 * destination} from the server's sidecar). Like Kiali, the graph counts each request once: for one
 * source workload, destination service and destination workload, the destination's report when
 * there is one (it alone knows mTLS), else the source's (a request that never reached a sidecar: a
 * gateway's 503, a destination without a sidecar).
 */
final class GraphBuilder {
  private GraphBuilder() {}

  /**
   * A workload the control plane knows, to show it (and its services) even without traffic, and to
   * tell gateways from workloads.
   *
   * @param namespace its namespace
   * @param name its name
   * @param app its {@code app} label, or empty
   * @param version its {@code version} label, or empty
   * @param gateway whether its proxy is a router (gateway)
   */
  record KnownWorkload(
      String namespace, String name, String app, String version, boolean gateway) {}

  /**
   * A service the control plane knows.
   *
   * @param namespace its namespace
   * @param name its name
   */
  record KnownService(String namespace, String name) {}

  /** The graph of {@code namespace}. */
  static Graph build(
      String namespace,
      Traffic traffic,
      Collection<KnownWorkload> workloads,
      Collection<KnownService> services) {
    Set<String> gateways = new HashSet<>();
    for (KnownWorkload w : workloads) {
      if (w.gateway()) {
        gateways.add(w.namespace() + "/" + w.name());
      }
    }
    // One report per request: the destination's for a triple when it has one.
    Set<List<String>> reportedByDestination = new HashSet<>();
    for (Traffic.Series s : traffic.series()) {
      if (s.key().reporter().equals("destination")) {
        reportedByDestination.add(triple(s.key()));
      }
    }
    Map<String, Graph.Node> nodes = new LinkedHashMap<>();
    Map<List<String>, Acc> edges = new LinkedHashMap<>();
    for (Traffic.Series s : traffic.series()) {
      SeriesKey k = s.key();
      if (!k.reporter().equals("destination") && reportedByDestination.contains(triple(k))) {
        continue;
      }
      Graph.Node source = sourceNode(k, gateways);
      Graph.Node service = serviceNode(k);
      Graph.Node dest = destinationNode(k, gateways);
      if (service == null && dest == null) {
        continue;
      }
      boolean inNamespace =
          namespace.equals(source.namespace())
              || (service != null && namespace.equals(service.namespace()))
              || (dest != null && namespace.equals(dest.namespace()));
      if (!inNamespace) {
        continue;
      }
      nodes.putIfAbsent(source.id(), source);
      if (service != null) {
        nodes.putIfAbsent(service.id(), service);
        edges.computeIfAbsent(List.of(source.id(), service.id()), e -> new Acc()).add(s);
        if (dest != null) {
          nodes.putIfAbsent(dest.id(), dest);
          edges.computeIfAbsent(List.of(service.id(), dest.id()), e -> new Acc()).add(s);
        }
      } else {
        nodes.putIfAbsent(dest.id(), dest);
        edges.computeIfAbsent(List.of(source.id(), dest.id()), e -> new Acc()).add(s);
      }
    }
    for (KnownService sv : services) {
      if (sv.namespace().equals(namespace)) {
        Graph.Node n =
            new Graph.Node(
                "service:" + sv.namespace() + "/" + sv.name(),
                Graph.NodeType.SERVICE,
                sv.namespace(),
                sv.name(),
                "",
                "");
        nodes.putIfAbsent(n.id(), n);
      }
    }
    for (KnownWorkload w : workloads) {
      if (w.namespace().equals(namespace)) {
        Graph.Node n = workloadNode(w.namespace(), w.name(), w.app(), w.version(), gateways);
        nodes.putIfAbsent(n.id(), n);
      }
    }
    // Each source's outgoing rate (or, when idle, requests) for the edges' shares.
    Map<String, double[]> outgoing = new HashMap<>();
    for (Map.Entry<List<String>, Acc> e : edges.entrySet()) {
      double[] o = outgoing.computeIfAbsent(e.getKey().get(0), s -> new double[2]);
      o[0] += e.getValue().rate;
      o[1] += e.getValue().total;
    }
    List<Graph.Edge> out = new ArrayList<>();
    for (Map.Entry<List<String>, Acc> e : edges.entrySet()) {
      Acc a = e.getValue();
      double[] o = outgoing.get(e.getKey().get(0));
      boolean idle = !(a.rate > 0);
      double count = idle ? a.total : a.rate;
      double all = idle ? (o[0] > 0 ? 0 : o[1]) : o[0];
      double errors = idle ? a.errorTotal : a.errorRate;
      double mtls = idle ? a.mtlsTotal : a.mtlsRate;
      double p99 = Quantiles.quantile(0.99, idle ? a.bucketTotals : a.bucketRates);
      out.add(
          new Graph.Edge(
              e.getKey().get(0),
              e.getKey().get(1),
              a.rate,
              count > 0 ? errors / count : 0,
              p99,
              all > 0 ? 100 * count / all : 0,
              a.total,
              count > 0 ? 100 * mtls / count : 0,
              idle));
    }
    out.sort(Comparator.comparing(Graph.Edge::source).thenComparing(Graph.Edge::target));
    List<Graph.Node> nodeList = new ArrayList<>(nodes.values());
    nodeList.sort(Comparator.comparing(Graph.Node::id));
    return new Graph(namespace, nodeList, out, traffic.windowSeconds());
  }

  /**
   * What identifies a request's edge on both reports. The service is the node's (name and
   * namespace), not {@code destination_service}: a destination that got the request by address
   * reports that {@code unknown} and its canonical service as the name, as Istio does.
   */
  private static List<String> triple(SeriesKey k) {
    Graph.Node service = serviceNode(k);
    return List.of(
        k.sourceNamespace() + "/" + k.sourceWorkload(),
        service == null ? SeriesKey.UNKNOWN : service.id(),
        k.destinationNamespace() + "/" + k.destinationWorkload());
  }

  private static Graph.Node sourceNode(SeriesKey k, Set<String> gateways) {
    if (k.sourceWorkload().equals(SeriesKey.UNKNOWN)) {
      return new Graph.Node("unknown", Graph.NodeType.UNKNOWN, "", "unknown", "", "");
    }
    return workloadNode(
        k.sourceNamespace(), k.sourceWorkload(), k.sourceApp(), k.sourceVersion(), gateways);
  }

  private static Graph.Node serviceNode(SeriesKey k) {
    String name = k.serviceName();
    String ns = k.serviceNamespace();
    if (name.equals(SeriesKey.UNKNOWN) || ns.equals(SeriesKey.UNKNOWN)) {
      // the host may still say: name.namespace.svc.cluster.local
      String[] parts = k.service().split("\\.");
      if (parts.length < 3 || !parts[2].equals("svc")) {
        return null;
      }
      name = parts[0];
      ns = parts[1];
    }
    return new Graph.Node("service:" + ns + "/" + name, Graph.NodeType.SERVICE, ns, name, "", "");
  }

  private static Graph.Node destinationNode(SeriesKey k, Set<String> gateways) {
    if (k.destinationWorkload().equals(SeriesKey.UNKNOWN)) {
      return null;
    }
    return workloadNode(
        k.destinationNamespace(),
        k.destinationWorkload(),
        k.destinationApp(),
        k.destinationVersion(),
        gateways);
  }

  private static Graph.Node workloadNode(
      String ns, String name, String app, String version, Set<String> gateways) {
    boolean gateway = gateways.contains(ns + "/" + name);
    return new Graph.Node(
        "workload:" + ns + "/" + name,
        gateway ? Graph.NodeType.GATEWAY : Graph.NodeType.WORKLOAD,
        ns,
        name,
        app.equals(SeriesKey.UNKNOWN) ? "" : app,
        version.equals(SeriesKey.UNKNOWN) ? "" : version);
  }

  /** An edge's sums. */
  private static final class Acc {
    double rate;
    double total;
    double errorRate;
    double errorTotal;
    double mtlsRate;
    double mtlsTotal;
    final NavigableMap<Double, Double> bucketRates = new TreeMap<>();
    final NavigableMap<Double, Double> bucketTotals = new TreeMap<>();

    void add(Traffic.Series s) {
      rate += s.rate();
      total += s.total();
      if (s.key().error()) {
        errorRate += s.rate();
        errorTotal += s.total();
      }
      if (s.key().mutualTls()) {
        mtlsRate += s.rate();
        mtlsTotal += s.total();
      }
      s.bucketRates().forEach((le, v) -> bucketRates.merge(le, v, Double::sum));
      s.bucketTotals().forEach((le, v) -> bucketTotals.merge(le, v, Double::sum));
    }
  }
}
