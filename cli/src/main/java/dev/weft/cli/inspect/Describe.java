package dev.weft.cli.inspect;

import static dev.weft.cli.inspect.ProxyConfigCommand.fqdn;
import static dev.weft.cli.inspect.ProxyConfigCommand.map;
import static dev.weft.cli.inspect.ProxyConfigCommand.string;

import dev.weft.controlplane.registry.Protocol;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code weft x describe}'s text: what applies to a workload or a Service, in istioctl's {@code
 * describe} sentences ({@code istioctl/pkg/describe}): the Services that select the pod and their
 * ports, the DestinationRule and which of its subsets match, the VirtualServices that route to the
 * service and how much of each route reaches the pod, the effective PeerAuthentication (Istio's
 * resolution: mesh &lt; namespace &lt; workload selector &lt; port level; oldest first per level;
 * {@code UNSET} inherits; PERMISSIVE when nothing is set) and the AuthorizationPolicies that select
 * it. Pure: made from the documents the API lists and the pod the control plane knows, so it is
 * tested with golden files.
 */
final class Describe {
  static final String ROOT_NAMESPACE = "istio-system";
  private static final String RULE = "--------------------";

  private Describe() {}

  /**
   * A workload as its proxy's node describes it.
   *
   * @param name the workload name
   * @param namespace its namespace
   * @param labels its labels
   * @param ports its named container ports
   * @param serviceAccount its service account
   * @param mtls whether its sidecar announces TLS support (terminates and originates mTLS)
   */
  record Pod(
      String name,
      String namespace,
      Map<String, String> labels,
      Map<String, Integer> ports,
      String serviceAccount,
      boolean mtls) {}

  /**
   * The mesh's documents (as {@code GET /api/v1/resources} lists them, oldest first).
   *
   * @param services core/v1 Services
   * @param virtualServices VirtualServices
   * @param destinationRules DestinationRules
   * @param peerAuthentications PeerAuthentications
   * @param authorizationPolicies AuthorizationPolicies
   * @param pods the workloads the control plane knows
   */
  record Mesh(
      List<Map<String, Object>> services,
      List<Map<String, Object>> virtualServices,
      List<Map<String, Object>> destinationRules,
      List<Map<String, Object>> peerAuthentications,
      List<Map<String, Object>> authorizationPolicies,
      List<Pod> pods) {}

  // ------------------------------------------------------------------ pod

  static String pod(Pod pod, Mesh mesh) {
    StringBuilder sb = new StringBuilder();
    sb.append("Pod: ").append(pod.name()).append('\n');
    List<String> ports = new ArrayList<>();
    new TreeMap<>(pod.ports())
        .entrySet().stream()
            .sorted(Map.Entry.comparingByValue())
            .forEach(e -> ports.add(e.getValue() + " (" + e.getKey() + ")"));
    sb.append("   Pod Ports: ")
        .append(ports.isEmpty() ? "none" : String.join(", ", ports))
        .append('\n');
    List<Map<String, Object>> services = selecting(pod, mesh.services());
    if (services.isEmpty()) {
      sb.append("Suggestion: no Service selects this pod's labels ")
          .append(labels(pod.labels()))
          .append("; nothing routes to it by name.\n");
    }
    for (Map<String, Object> svc : services) {
      sb.append(RULE).append('\n');
      service(sb, svc, pod, mesh);
    }
    sb.append(RULE).append('\n');
    peerAuthentication(sb, pod, mesh.peerAuthentications());
    authorization(sb, pod, mesh.authorizationPolicies());
    return sb.toString();
  }

  private static void service(StringBuilder sb, Map<String, Object> svc, Pod pod, Mesh mesh) {
    String name = name(svc);
    String ns = namespace(svc);
    String host = fqdn(name, ns);
    sb.append("Service: ").append(name).append('\n');
    for (Object o : list(map(svc.get("spec")).get("ports"))) {
      Map<String, Object> p = map(o);
      String portName = string(p.get("name"));
      Object target = p.get("targetPort") == null ? p.get("port") : p.get("targetPort");
      Protocol protocol =
          Protocol.of(portName, string(p.get("appProtocol")), string(p.get("protocol")));
      String targetPort = string(target);
      sb.append("   Port: ")
          .append(portName.isEmpty() ? "" : portName + " ")
          .append(string(p.get("port")))
          .append('/')
          .append(protocol == Protocol.UNSUPPORTED ? "UnsupportedProtocol" : protocol.name())
          .append(" targets pod port ")
          .append(resolvedTarget(targetPort, pod))
          .append('\n');
      if (!targetPort.matches("\\d+") && !pod.ports().containsKey(targetPort)) {
        sb.append("   WARNING: the pod has no port named \"")
            .append(targetPort)
            .append("\": the port is unreachable\n");
      }
    }
    Map<String, Object> dr = destinationRule(host, ns, mesh.destinationRules());
    List<String> matching = new ArrayList<>();
    if (dr != null) {
      sb.append("DestinationRule: ")
          .append(name(dr))
          .append(" for \"")
          .append(string(map(dr.get("spec")).get("host")))
          .append("\"\n");
      List<String> nonMatching = new ArrayList<>();
      for (Object o : list(map(dr.get("spec")).get("subsets"))) {
        Map<String, Object> s = map(o);
        (selects(stringMap(s.get("labels")), pod.labels()) ? matching : nonMatching)
            .add(string(s.get("name")));
      }
      if (matching.isEmpty() && !nonMatching.isEmpty()) {
        sb.append("  WARNING POD DOES NOT MATCH ANY SUBSETS.  (Non matching subsets ")
            .append(String.join(",", nonMatching))
            .append(")\n");
      }
      sb.append("   Matching subsets: ").append(String.join(",", matching)).append('\n');
      if (!nonMatching.isEmpty()) {
        sb.append("      (Non-matching subsets ")
            .append(String.join(",", nonMatching))
            .append(")\n");
      }
      trafficPolicy(sb, map(map(dr.get("spec")).get("trafficPolicy")));
    }
    for (Map<String, Object> vs : mesh.virtualServices()) {
      virtualServiceForPod(sb, vs, host, dr, pod);
    }
  }

  private static String resolvedTarget(String target, Pod pod) {
    if (target.matches("\\d+")) {
      return target;
    }
    Integer n = pod.ports().get(target);
    return n == null ? target : n.toString();
  }

  private static void trafficPolicy(StringBuilder sb, Map<String, Object> tp) {
    if (tp.isEmpty()) {
      sb.append("   No Traffic Policy\n");
      return;
    }
    String tls = string(map(tp.get("tls")).get("mode"));
    if (!tls.isEmpty()) {
      sb.append("   Traffic Policy TLS Mode: ").append(tls).append('\n');
    }
    String lb = string(map(tp.get("loadBalancer")).get("simple"));
    if (!lb.isEmpty()) {
      sb.append("   Policies: load balancer ").append(lb).append('\n');
    }
  }

  /** The VirtualService's routes to {@code host}, and how much of each reaches {@code pod}. */
  private static void virtualServiceForPod(
      StringBuilder sb, Map<String, Object> vs, String host, Map<String, Object> dr, Pod pod) {
    String ns = namespace(vs);
    List<Object> http = list(map(vs.get("spec")).get("http"));
    boolean mentions = false;
    StringBuilder body = new StringBuilder();
    StringBuilder notReaching = new StringBuilder();
    int checked = 0;
    int reachingRoutes = 0;
    for (Object o : http) {
      Map<String, Object> route = map(o);
      List<Object> dests = list(route.get("route"));
      boolean toHost = dests.stream().anyMatch(d -> destinationHost(d, ns).equals(host));
      if (!toHost) {
        continue;
      }
      mentions = true;
      checked++;
      int reachWeight = 0;
      int other = 0;
      List<String> nonMatching = new ArrayList<>();
      for (Object d : dests) {
        Map<String, Object> dest = map(map(d).get("destination"));
        int weight = weight(d, dests.size());
        boolean toThis = destinationHost(d, ns).equals(host);
        boolean reaches = toThis && subsetMatches(string(dest.get("subset")), dr, pod);
        if (reaches) {
          reachWeight += weight;
        } else {
          other++;
          if (toThis && !string(dest.get("subset")).isEmpty()) {
            nonMatching.add(string(dest.get("subset")));
          }
        }
      }
      String match = describeMatches(list(route.get("match")));
      if (reachWeight > 0 || other == 0) {
        reachingRoutes++;
        if (dests.size() > 1) {
          body.append("   Weight ").append(reachWeight).append("%\n");
        }
        if (other > 0) {
          body.append("   ")
              .append(other)
              .append(" additional destination(s) that will not reach this pod\n");
        }
        if (!match.isEmpty()) {
          body.append("   Match: ").append(match).append('\n');
        }
      } else {
        notReaching
            .append("      Route to ")
            .append(
                nonMatching.isEmpty()
                    ? "other hosts"
                    : "non-matching subset " + String.join(",", nonMatching))
            .append(" for ")
            .append(match.isEmpty() ? "(everything)" : "(" + match + ")")
            .append('\n');
      }
    }
    if (!mentions) {
      return;
    }
    sb.append("VirtualService: ").append(name(vs)).append('\n');
    List<String> gateways = ProxyConfigCommand.strings(map(vs.get("spec")).get("gateways"));
    if (!gateways.isEmpty() && !gateways.equals(List.of("mesh"))) {
      sb.append("   Gateways: ").append(String.join(", ", gateways)).append('\n');
    }
    if (reachingRoutes == 0) {
      sb.append("   WARNING: No destinations match pod subsets (checked ")
          .append(checked)
          .append(" HTTP routes)\n");
    }
    sb.append(body);
    if (!notReaching.isEmpty()) {
      if (reachingRoutes > 0) {
        sb.append("   Routes that do not reach this pod:\n");
      }
      sb.append(notReaching);
    }
  }

  private static boolean subsetMatches(String subset, Map<String, Object> dr, Pod pod) {
    if (subset.isEmpty()) {
      return true;
    }
    if (dr == null) {
      return false; // a subset without a rule: Istio's IST0101, no cluster, 503 NC
    }
    for (Object o : list(map(dr.get("spec")).get("subsets"))) {
      Map<String, Object> s = map(o);
      if (string(s.get("name")).equals(subset)) {
        return selects(stringMap(s.get("labels")), pod.labels());
      }
    }
    return false;
  }

  // ------------------------------------------------------------------ service

  static String service(Map<String, Object> svc, Mesh mesh) {
    StringBuilder sb = new StringBuilder();
    String name = name(svc);
    String ns = namespace(svc);
    String host = fqdn(name, ns);
    sb.append("Service: ").append(name).append('\n');
    Map<String, String> selector = stringMap(map(svc.get("spec")).get("selector"));
    List<Pod> pods =
        mesh.pods().stream()
            .filter(
                p ->
                    p.namespace().equals(ns)
                        && !selector.isEmpty()
                        && selects(selector, p.labels()))
            .sorted(Comparator.comparing(Pod::name))
            .toList();
    for (Object o : list(map(svc.get("spec")).get("ports"))) {
      Map<String, Object> p = map(o);
      String portName = string(p.get("name"));
      Protocol protocol =
          Protocol.of(portName, string(p.get("appProtocol")), string(p.get("protocol")));
      Object target = p.get("targetPort") == null ? p.get("port") : p.get("targetPort");
      sb.append("   Port: ")
          .append(portName.isEmpty() ? "" : portName + " ")
          .append(string(p.get("port")))
          .append('/')
          .append(protocol == Protocol.UNSUPPORTED ? "UnsupportedProtocol" : protocol.name())
          .append(" targets pod port ")
          .append(string(target))
          .append('\n');
    }
    sb.append("   Pods: ")
        .append(
            pods.isEmpty()
                ? "none (no running workload has the labels " + labels(selector) + ")"
                : String.join(", ", pods.stream().map(Pod::name).toList()))
        .append('\n');
    Map<String, Object> dr = destinationRule(host, ns, mesh.destinationRules());
    if (dr != null) {
      sb.append("DestinationRule: ")
          .append(name(dr))
          .append(" for \"")
          .append(string(map(dr.get("spec")).get("host")))
          .append("\"\n");
      for (Object o : list(map(dr.get("spec")).get("subsets"))) {
        Map<String, Object> s = map(o);
        Map<String, String> l = stringMap(s.get("labels"));
        List<String> in = pods.stream().filter(p -> selects(l, p.labels())).map(Pod::name).toList();
        sb.append("   Subset ")
            .append(string(s.get("name")))
            .append(" (")
            .append(labels(l))
            .append("): ")
            .append(in.isEmpty() ? "no pods (requests to it fail: 503 UH)" : String.join(", ", in))
            .append('\n');
      }
      trafficPolicy(sb, map(map(dr.get("spec")).get("trafficPolicy")));
    }
    for (Map<String, Object> vs : mesh.virtualServices()) {
      String vns = namespace(vs);
      StringBuilder body = new StringBuilder();
      for (Object o : list(map(vs.get("spec")).get("http"))) {
        Map<String, Object> route = map(o);
        List<Object> dests = list(route.get("route"));
        if (dests.stream().noneMatch(d -> destinationHost(d, vns).equals(host))) {
          continue;
        }
        for (Object d : dests) {
          Map<String, Object> dest = map(map(d).get("destination"));
          String subset = string(dest.get("subset"));
          body.append("   Route to host \"")
              .append(string(dest.get("host")))
              .append('"')
              .append(subset.isEmpty() ? "" : " subset " + subset)
              .append(" with weight ")
              .append(weight(d, dests.size()))
              .append("%\n");
        }
        String match = describeMatches(list(route.get("match")));
        if (!match.isEmpty()) {
          body.append("   Match: ").append(match).append('\n');
        }
      }
      if (!body.isEmpty()) {
        sb.append("VirtualService: ").append(name(vs)).append('\n');
        List<String> gateways = ProxyConfigCommand.strings(map(vs.get("spec")).get("gateways"));
        if (!gateways.isEmpty() && !gateways.equals(List.of("mesh"))) {
          sb.append("   Gateways: ").append(String.join(", ", gateways)).append('\n');
        }
        sb.append(body);
      }
    }
    return sb.toString();
  }

  // ------------------------------------------------------------------ security

  /** Istio's PeerAuthentication resolution for {@code pod}, and the policies it came from. */
  static void peerAuthentication(StringBuilder sb, Pod pod, List<Map<String, Object>> policies) {
    String mode = "PERMISSIVE";
    List<String> applied = new ArrayList<>();
    Map<String, Object> mesh =
        oldest(policies, p -> namespace(p).equals(ROOT_NAMESPACE) && selector(p).isEmpty());
    Map<String, Object> namespaced =
        pod.namespace().equals(ROOT_NAMESPACE)
            ? null
            : oldest(policies, p -> namespace(p).equals(pod.namespace()) && selector(p).isEmpty());
    Map<String, Object> workload =
        pod.namespace().equals(ROOT_NAMESPACE)
            ? null
            : oldest(
                policies,
                p ->
                    namespace(p).equals(pod.namespace())
                        && !selector(p).isEmpty()
                        && selects(selector(p), pod.labels()));
    for (Map<String, Object> p : java.util.Arrays.asList(mesh, namespaced, workload)) {
      if (p == null) {
        continue;
      }
      applied.add(name(p) + "." + namespace(p));
      String m = string(map(map(p.get("spec")).get("mtls")).get("mode"));
      if (!m.isEmpty() && !m.equals("UNSET")) {
        mode = m;
      }
    }
    sb.append("Effective PeerAuthentication:\n");
    sb.append("   Workload mTLS mode: ").append(mode).append('\n');
    if (!pod.mtls() && !mode.equals("DISABLE")) {
      sb.append(
          "   NOTE: this pod's sidecar does not announce TLS support, so it is served in plaintext"
              + " whatever the mode\n");
    } else if (mode.equals("STRICT")) {
      boolean overridden =
          workload != null && !map(map(workload.get("spec")).get("portLevelMtls")).isEmpty();
      sb.append("   Only mTLS clients (with a sidecar) can reach this pod")
          .append(overridden ? ", except as the port levels below say.\n" : ".\n");
    }
    if (workload != null) {
      Map<String, Object> portLevel = map(map(workload.get("spec")).get("portLevelMtls"));
      if (!portLevel.isEmpty()) {
        sb.append("   Port Level mTLS mode:\n");
        new TreeMap<>(portLevel)
            .forEach(
                (port, v) -> {
                  String m = string(map(v).get("mode"));
                  sb.append("      ")
                      .append(port)
                      .append(": ")
                      .append(m.isEmpty() || m.equals("UNSET") ? "(inherits)" : m)
                      .append('\n');
                });
      }
    }
    if (!applied.isEmpty()) {
      sb.append("Applied PeerAuthentication:\n   ").append(String.join(", ", applied)).append('\n');
    }
  }

  /** The AuthorizationPolicies that select {@code pod}, by action in Istio's order. */
  static void authorization(StringBuilder sb, Pod pod, List<Map<String, Object>> policies) {
    List<String> lines = new ArrayList<>();
    boolean allow = false;
    for (String action : List.of("CUSTOM", "DENY", "ALLOW", "AUDIT")) {
      for (Map<String, Object> p : policies) {
        String ns = namespace(p);
        if (!ns.equals(pod.namespace()) && !ns.equals(ROOT_NAMESPACE)) {
          continue;
        }
        if (!selects(selector(p), pod.labels())) {
          continue;
        }
        Map<String, Object> spec = map(p.get("spec"));
        String a = string(spec.get("action"));
        if (!(a.isEmpty() ? "ALLOW" : a).equals(action)) {
          continue;
        }
        allow |= action.equals("ALLOW");
        int rules = list(spec.get("rules")).size();
        lines.add(
            "   "
                + action
                + " "
                + name(p)
                + "."
                + ns
                + " ("
                + rules
                + (rules == 1 ? " rule" : " rules")
                + (rules == 0 && action.equals("ALLOW") ? ": denies every request" : "")
                + ")");
      }
    }
    if (lines.isEmpty()) {
      sb.append("AuthorizationPolicies: none (every request is allowed)\n");
      return;
    }
    sb.append("AuthorizationPolicies:\n");
    lines.forEach(l -> sb.append(l).append('\n'));
    if (allow) {
      sb.append("   Requests that match no ALLOW rule are denied (403 RBAC: access denied).\n");
    }
  }

  // ------------------------------------------------------------------ helpers

  /** The Services of the pod's namespace whose selector its labels satisfy. */
  static List<Map<String, Object>> selecting(Pod pod, List<Map<String, Object>> services) {
    return services.stream()
        .filter(s -> namespace(s).equals(pod.namespace()))
        .filter(
            s -> {
              Map<String, String> sel = stringMap(map(s.get("spec")).get("selector"));
              return !sel.isEmpty() && selects(sel, pod.labels());
            })
        .sorted(Comparator.comparing(Describe::name))
        .toList();
  }

  /** The DestinationRule for {@code host}: the service's namespace first, then any, then root. */
  static Map<String, Object> destinationRule(
      String host, String ns, List<Map<String, Object>> rules) {
    Map<String, Object> found = null;
    for (Map<String, Object> dr : rules) {
      String h = fqdn(string(map(dr.get("spec")).get("host")), namespace(dr));
      if (!h.equals(host)) {
        continue;
      }
      if (namespace(dr).equals(ns)) {
        return dr;
      }
      if (found == null) {
        found = dr;
      }
    }
    return found;
  }

  private static String destinationHost(Object routeDestination, String ns) {
    return fqdn(string(map(map(routeDestination).get("destination")).get("host")), ns);
  }

  /** A destination's weight; a lone destination without one takes 100, as Istio. */
  private static int weight(Object routeDestination, int count) {
    Object w = map(routeDestination).get("weight");
    if (w == null) {
      return count == 1 ? 100 : 0;
    }
    return Integer.parseInt(string(w));
  }

  /** istioctl's match text: {@code /prefix*}, {@code /exact}, {@code regex R}, headers. */
  static String describeMatches(List<Object> matches) {
    List<String> out = new ArrayList<>();
    for (Object o : matches) {
      Map<String, Object> m = map(o);
      List<String> conds = new ArrayList<>();
      Map<String, Object> uri = map(m.get("uri"));
      if (uri.containsKey("prefix")) {
        conds.add(string(uri.get("prefix")) + "*");
      } else if (uri.containsKey("exact")) {
        conds.add(string(uri.get("exact")));
      } else if (uri.containsKey("regex")) {
        conds.add("regex " + string(uri.get("regex")));
      }
      new TreeMap<>(map(m.get("headers")))
          .forEach(
              (k, v) -> {
                Map<String, Object> sm = map(v);
                String kind = sm.keySet().stream().findFirst().orElse("");
                conds.add("header " + k + " " + kind + " " + string(sm.get(kind)));
              });
      Map<String, Object> method = map(m.get("method"));
      if (!method.isEmpty()) {
        conds.add("method " + string(method.values().iterator().next()));
      }
      if (!conds.isEmpty()) {
        out.add(String.join(" and ", conds));
      }
    }
    return String.join(" or ", out);
  }

  private static Map<String, Object> oldest(
      List<Map<String, Object>> docs, java.util.function.Predicate<Map<String, Object>> p) {
    return docs.stream()
        .filter(p)
        .min(
            Comparator.comparing(
                    (Map<String, Object> d) ->
                        string(map(d.get("metadata")).get("creationTimestamp")))
                .thenComparing(Describe::name))
        .orElse(null);
  }

  private static Map<String, String> selector(Map<String, Object> policy) {
    return stringMap(map(map(policy.get("spec")).get("selector")).get("matchLabels"));
  }

  /** Whether {@code labels} has every pair of {@code selector} (an empty selector: everything). */
  static boolean selects(Map<String, String> selector, Map<String, String> labels) {
    return selector.entrySet().stream().allMatch(e -> e.getValue().equals(labels.get(e.getKey())));
  }

  private static String labels(Map<String, String> l) {
    List<String> kv = new ArrayList<>();
    new TreeMap<>(l).forEach((k, v) -> kv.add(k + "=" + v));
    return String.join(",", kv);
  }

  static Map<String, String> stringMap(Object o) {
    Map<String, String> out = new TreeMap<>();
    map(o).forEach((k, v) -> out.put(k, string(v)));
    return out;
  }

  private static List<Object> list(Object o) {
    return o instanceof List<?> l ? new ArrayList<>(l) : List.of();
  }

  static String name(Map<String, Object> doc) {
    return string(map(doc.get("metadata")).get("name"));
  }

  static String namespace(Map<String, Object> doc) {
    String ns = string(map(doc.get("metadata")).get("namespace"));
    return ns.isEmpty() ? "default" : ns;
  }
}
