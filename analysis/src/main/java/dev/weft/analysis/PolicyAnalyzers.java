package dev.weft.analysis;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Istio's analyzers of Sidecars, security policies, DestinationRules, ServiceEntries, Services and
 * deprecated fields.
 */
final class PolicyAnalyzers {
  private PolicyAnalyzers() {}

  /** {@code util.PodInAmbientMode}. */
  static boolean podInAmbient(Obj pod) {
    return "enabled".equals(String.valueOf(pod.annotations().get("ambient.istio.io/redirection")));
  }

  /** {@code util.NamespaceInAmbientMode}. */
  static boolean namespaceInAmbient(Obj ns) {
    if (ns == null || "enabled".equals(ns.labels().get("istio-injection"))) {
      return false;
    }
    String rev = ns.labels().get("istio.io/rev");
    if (rev != null && !rev.isEmpty()) {
      return false;
    }
    return "ambient".equals(ns.labels().get("istio.io/dataplane-mode"));
  }

  /**
   * {@code util.PodInMesh}: an istio-proxy container, the inject label/annotation, or namespace.
   */
  static boolean podInMesh(Obj pod, AnalysisInput in) {
    for (String f : List.of("containers", "initContainers")) {
      for (Map<String, Object> c : Docs.maps(pod.spec(), f)) {
        if ("istio-proxy".equals(Docs.str(c, "name")) && !Docs.str(c, "image").isEmpty()) {
          return true;
        }
      }
    }
    if (pod.labels().containsKey("sidecar.istio.io/inject")) {
      return "true".equals(pod.labels().get("sidecar.istio.io/inject"));
    }
    Object anno = pod.annotations().get("sidecar.istio.io/inject");
    if (anno != null) {
      return "true".equals(String.valueOf(anno));
    }
    var ns = in.find("Namespace", "", pod.namespace());
    return ns.isPresent() && "enabled".equals(ns.get().labels().get("istio-injection"));
  }

  /** {@code sidecar.SelectorAnalyzer}: IST0101, IST0110, IST0111, IST0167. */
  static final class SidecarSelector implements Analyzer {
    @Override
    public String name() {
      return "sidecar.SelectorAnalyzer";
    }

    @Override
    public List<Message> analyze(AnalysisInput in) {
      List<Message> out = new ArrayList<>();
      Map<Obj, List<Obj>> podsToSidecars = new LinkedHashMap<>();
      Map<String, List<Obj>> nsToSidecars = new LinkedHashMap<>();
      for (Obj sc : in.all("Sidecar")) {
        Map<String, String> sel = Docs.labels(sc.spec(), "workloadSelector", "labels");
        if (sel.isEmpty()) {
          nsToSidecars.computeIfAbsent(sc.namespace(), k -> new ArrayList<>()).add(sc);
          continue;
        }
        boolean found = false;
        for (Obj pod : in.all("Pod")) {
          if (pod.namespace().equals(sc.namespace()) && Selectors.matches(sel, pod.labels())) {
            found = true;
            podsToSidecars.computeIfAbsent(pod, k -> new ArrayList<>()).add(sc);
          }
        }
        if (!found) {
          out.add(
              Message.of(
                  Messages.REFERENCED_RESOURCE_NOT_FOUND,
                  sc.ref(),
                  "selector",
                  Selectors.string(sel)));
        }
      }
      Set<Obj> reported = new LinkedHashSet<>();
      for (Map.Entry<Obj, List<Obj>> e : podsToSidecars.entrySet()) {
        Obj pod = e.getKey();
        boolean ambient = podInAmbient(pod);
        if (e.getValue().size() == 1 && !ambient) {
          continue;
        }
        List<String> names = e.getValue().stream().map(Obj::fullName).toList();
        for (Obj sc : e.getValue()) {
          if (ambient) {
            if (reported.add(sc)) {
              out.add(
                  Message.of(
                      Messages.INEFFECTIVE_POLICY,
                      sc.ref(),
                      "selected workload is in ambient mode, the policy has no impact"));
            }
            continue;
          }
          out.add(
              Message.of(
                  Messages.CONFLICTING_SIDECAR_WORKLOAD_SELECTORS,
                  sc.ref(),
                  names,
                  pod.namespace(),
                  pod.name()));
        }
      }
      for (Map.Entry<String, List<Obj>> e : nsToSidecars.entrySet()) {
        Obj ns = in.find("Namespace", "", e.getKey()).orElse(null);
        if (namespaceInAmbient(ns)) {
          for (Obj sc : e.getValue()) {
            if (reported.add(sc)) {
              out.add(
                  Message.of(
                      Messages.INEFFECTIVE_POLICY,
                      sc.ref(),
                      "namespace is in ambient mode, the policy has no impact"));
            }
          }
          continue;
        }
        if (e.getValue().size() > 1) {
          List<String> names = e.getValue().stream().map(Obj::fullName).toList();
          for (Obj sc : e.getValue()) {
            out.add(
                Message.of(
                    Messages.MULTIPLE_SIDECARS_WITHOUT_WORKLOAD_SELECTORS,
                    sc.ref(),
                    names,
                    e.getKey()));
          }
        }
      }
      return out;
    }
  }

  /** {@code authz.AuthorizationPoliciesAnalyzer}: IST0127 and IST0101 (namespaces). */
  static final class AuthorizationPolicies implements Analyzer {
    @Override
    public String name() {
      return "authz.AuthorizationPoliciesAnalyzer";
    }

    @Override
    public List<Message> analyze(AnalysisInput in) {
      Map<String, List<Map<String, String>>> podLabels = new LinkedHashMap<>();
      for (Obj pod : in.all("Pod")) {
        List<Map<String, String>> l =
            podLabels.computeIfAbsent(pod.namespace(), k -> new ArrayList<>());
        if (podInMesh(pod, in)) {
          l.add(pod.labels());
        }
        if (podInAmbient(pod)) {
          l.add(pod.labels());
        }
      }
      List<Message> out = new ArrayList<>();
      for (Obj ap : in.all("AuthorizationPolicy")) {
        boolean hasSelector = Docs.has(ap.spec(), "selector");
        Map<String, String> sel = Docs.labels(ap.spec(), "selector", "matchLabels");
        if (ap.namespace().equals(in.rootNamespace())) {
          if (hasSelector
              && podLabels.values().stream()
                  .flatMap(List::stream)
                  .noneMatch(l -> Selectors.matches(sel, l))) {
            out.add(
                Message.of(Messages.NO_MATCHING_WORKLOADS_FOUND, ap.ref(), Selectors.string(sel)));
          }
        } else if (!hasSelector) {
          if (podLabels.getOrDefault(ap.namespace(), List.of()).isEmpty()) {
            out.add(Message.of(Messages.NO_MATCHING_WORKLOADS_FOUND, ap.ref(), ""));
          }
        } else if (podLabels.getOrDefault(ap.namespace(), List.of()).stream()
            .noneMatch(l -> Selectors.matches(sel, l))) {
          out.add(
              Message.of(Messages.NO_MATCHING_WORKLOADS_FOUND, ap.ref(), Selectors.string(sel)));
        }
        for (Map<String, Object> rule : Docs.maps(ap.spec(), "rules")) {
          for (Map<String, Object> from : Docs.maps(rule, "from")) {
            List<String> all = new ArrayList<>(Docs.strs(from, "source", "namespaces"));
            all.addAll(Docs.strs(from, "source", "notNamespaces"));
            for (String ns : all) {
              if (in.all("Namespace").stream().noneMatch(n -> namespaceMatch(n.name(), ns))) {
                out.add(
                    Message.of(Messages.REFERENCED_RESOURCE_NOT_FOUND, ap.ref(), "namespace", ns));
              }
            }
          }
        }
      }
      return out;
    }

    private static boolean namespaceMatch(String ns, String exp) {
      if (exp.equals("*")) {
        return true;
      }
      if (exp.startsWith("*")) {
        return ns.endsWith(exp.substring(1));
      }
      if (exp.endsWith("*")) {
        return ns.startsWith(exp.substring(0, exp.length() - 1));
      }
      return ns.equalsIgnoreCase(exp);
    }
  }

  /**
   * {@code authn.BlockedCIDRsAnalyzer}: RequestAuthentications but istiod lacks the env (IST0175).
   */
  static final class BlockedCidrs implements Analyzer {
    @Override
    public String name() {
      return "authn.BlockedCIDRsAnalyzer";
    }

    @Override
    public List<Message> analyze(AnalysisInput in) {
      List<String> names = in.all("RequestAuthentication").stream().map(Obj::fullName).toList();
      if (names.isEmpty()) {
        return List.of();
      }
      List<Message> out = new ArrayList<>();
      for (Obj d : in.all("Deployment")) {
        if (!"istiod".equals(d.labels().get("app"))) {
          continue;
        }
        boolean set = false;
        for (Map<String, Object> c : Docs.maps(d.spec(), "template", "spec", "containers")) {
          for (Map<String, Object> env : Docs.maps(c, "env")) {
            if (Docs.str(env, "name").equals("BLOCKED_CIDRS_IN_JWKS_URIS")
                && !Docs.str(env, "value").isEmpty()) {
              set = true;
            }
          }
        }
        if (!set) {
          String shown =
              names.size() <= 5
                  ? String.join(", ", names)
                  : String.join(", ", names.subList(0, 5))
                      + ", and "
                      + (names.size() - 5)
                      + " more";
          out.add(Message.of(Messages.JWKS_URI_FETCH_UNRESTRICTED, d.ref(), names.size(), shown));
        }
      }
      return out;
    }
  }

  /** {@code destinationrule.CaCertificateAnalyzer}: SIMPLE/MUTUAL TLS without a CA (IST0128/9). */
  static final class CaCertificates implements Analyzer {
    @Override
    public String name() {
      return "destinationrule.CaCertificateAnalyzer";
    }

    @Override
    public List<Message> analyze(AnalysisInput in) {
      List<Message> out = new ArrayList<>();
      for (Obj dr : in.all("DestinationRule")) {
        boolean selector = Docs.has(dr.spec(), "workloadSelector");
        String host = Docs.str(dr.spec(), "host");
        Map<String, Object> tls = Docs.map(dr.spec(), "trafficPolicy", "tls");
        if (unverified(tls, selector)) {
          out.add(
              Message.of(
                  Messages.NO_SERVER_CERTIFICATE_VERIFICATION_DESTINATION_LEVEL,
                  dr.ref(),
                  dr.fullName(),
                  dr.namespace(),
                  Docs.str(tls, "mode"),
                  host));
        }
        for (Map<String, Object> p : Docs.maps(dr.spec(), "trafficPolicy", "portLevelSettings")) {
          Map<String, Object> ptls = Docs.map(p, "tls");
          if (unverified(ptls, selector)) {
            out.add(
                Message.of(
                    Messages.NO_SERVER_CERTIFICATE_VERIFICATION_PORT_LEVEL,
                    dr.ref(),
                    dr.fullName(),
                    dr.namespace(),
                    Docs.str(ptls, "mode"),
                    host,
                    "number:" + Docs.integer(p, "port", "number")));
          }
        }
      }
      return out;
    }

    private static boolean unverified(Map<String, Object> tls, boolean selector) {
      String mode = Docs.str(tls, "mode");
      if (!mode.equals("SIMPLE") && !mode.equals("MUTUAL")) {
        return false;
      }
      return Docs.str(tls, "caCertificates").isEmpty()
          && !(!Docs.str(tls, "credentialName").isEmpty() && selector);
    }
  }

  /**
   * {@code destinationrule.PodNotSelectedAnalyzer}: unknown host (IST0174), empty subset (IST0173).
   */
  static final class SubsetPods implements Analyzer {
    @Override
    public String name() {
      return "destinationrule.PodNotSelectedAnalyzer";
    }

    @Override
    public List<Message> analyze(AnalysisInput in) {
      ServiceHosts services = new ServiceHosts(in);
      List<Message> out = new ArrayList<>();
      for (Obj dr : in.all("DestinationRule")) {
        String host = Docs.str(dr.spec(), "host");
        ServiceHosts.Entry se =
            services.destination(dr.namespace(), Docs.strs(dr.spec(), "exportTo"), host);
        if (se == null) {
          out.add(Message.of(Messages.UNKNOWN_DESTINATION_RULE_HOST, dr.ref(), host));
          continue;
        }
        for (Map<String, Object> subset : Docs.maps(dr.spec(), "subsets")) {
          Map<String, String> sel = new LinkedHashMap<>(se.workloadSelector());
          sel.putAll(Docs.labels(subset, "labels"));
          boolean matched =
              in.all("Pod").stream().anyMatch(p -> Selectors.matches(sel, p.labels()));
          if (!matched) {
            out.add(
                Message.of(
                    Messages.DESTINATION_RULE_SUBSET_NOT_SELECT_PODS,
                    dr.ref(),
                    Docs.str(subset, "name")));
          }
        }
      }
      return out;
    }
  }

  /** {@code serviceentry.ProtocolAddressesAnalyzer}: TCP ports need addresses (IST0134). */
  static final class ProtocolAddresses implements Analyzer {
    @Override
    public String name() {
      return "serviceentry.ProtocolAddressesAnalyzer";
    }

    @Override
    public List<Message> analyze(AnalysisInput in) {
      Map<String, String> md = in.proxyMetadata();
      boolean auto =
          "true".equals(md.get("ISTIO_META_DNS_CAPTURE"))
              && ("true".equals(md.get("ISTIO_META_DNS_AUTO_ALLOCATE"))
                  || "true".equals(md.get("PILOT_ENABLE_IP_AUTOALLOCATE")));
      List<Message> out = new ArrayList<>();
      for (Obj se : in.all("ServiceEntry")) {
        if (Docs.has(se.spec(), "addresses")
            || !Docs.list(se.document(), "status", "addresses").isEmpty()
            || auto) {
          continue;
        }
        for (Map<String, Object> p : Docs.maps(se.spec(), "ports")) {
          String proto = Docs.str(p, "protocol");
          if (proto.isEmpty() || proto.equalsIgnoreCase("TCP")) {
            out.add(Message.of(Messages.SERVICE_ENTRY_ADDRESSES_REQUIRED, se.ref()));
          }
        }
      }
      return out;
    }
  }

  /** {@code serviceentry.ConflictingServiceEntryProtocolAnalyzer} (IST0177). */
  static final class ConflictingServiceEntryProtocol implements Analyzer {
    @Override
    public String name() {
      return "serviceentry.ConflictingServiceEntryProtocolAnalyzer";
    }

    private record Key(String scope, String host, int port) {}

    private record Entry(String protocol, Obj se) {}

    @Override
    public List<Message> analyze(AnalysisInput in) {
      Map<Key, List<Entry>> index = new LinkedHashMap<>();
      for (Obj se : in.all("ServiceEntry")) {
        List<String> exportTo = Docs.strs(se.spec(), "exportTo");
        Set<String> scopes = new LinkedHashSet<>();
        if (Hosts.exportsToAll(exportTo)) {
          scopes.add(Hosts.ALL);
        } else {
          for (String e : exportTo) {
            scopes.add(e.equals(Hosts.LOCAL) ? se.namespace() : e);
          }
        }
        for (String scope : scopes) {
          for (String h : Docs.strs(se.spec(), "hosts")) {
            for (Map<String, Object> p : Docs.maps(se.spec(), "ports")) {
              index
                  .computeIfAbsent(
                      new Key(scope, h, Docs.integer(p, "number")), k -> new ArrayList<>())
                  .add(new Entry(Docs.str(p, "protocol"), se));
            }
          }
        }
      }
      List<Message> out = new ArrayList<>();
      Set<Obj> reported = new LinkedHashSet<>();
      for (Map.Entry<Key, List<Entry>> e : index.entrySet()) {
        Key key = e.getKey();
        List<Entry> entries = new ArrayList<>(e.getValue());
        if (!key.scope().equals(Hosts.ALL)) {
          entries.addAll(index.getOrDefault(new Key(Hosts.ALL, key.host(), key.port()), List.of()));
        }
        Set<String> protocols = new TreeSet<>();
        for (Entry x : entries) {
          protocols.add(x.protocol().toUpperCase(Locale.ROOT));
        }
        if (protocols.size() < 2) {
          continue;
        }
        String names =
            String.join(", ", new TreeSet<>(entries.stream().map(x -> x.se().fullName()).toList()));
        for (Entry x : entries) {
          if (reported.add(x.se())) {
            out.add(
                Message.of(
                    Messages.CONFLICTING_SERVICE_ENTRY_PROTOCOL,
                    x.se().ref(),
                    names,
                    key.host(),
                    key.port(),
                    String.join(", ", protocols)));
          }
        }
      }
      return out;
    }
  }

  /** {@code service.PortNameAnalyzer}: port names must follow {@code <protocol>[-suffix]}. */
  static final class PortNames implements Analyzer {
    private static final Set<String> PROTOCOLS =
        Set.of(
            "tcp",
            "udp",
            "grpc",
            "grpc-web",
            "http",
            "http_proxy",
            "http2",
            "https",
            "tls",
            "mongo",
            "redis",
            "mysql",
            "thrift",
            "h2c");

    @Override
    public String name() {
      return "service.PortNameAnalyzer";
    }

    @Override
    public List<Message> analyze(AnalysisInput in) {
      List<Message> out = new ArrayList<>();
      for (Obj svc : in.all("Service")) {
        if (svc.namespace().equals(in.rootNamespace())) {
          continue; // util.IsIstioControlPlane: Istio's own namespace
        }
        String managed = svc.labels().getOrDefault("gateway.istio.io/managed", "");
        if (managed.startsWith("istio.io-")) {
          continue;
        }
        for (Map<String, Object> p : Docs.maps(svc.spec(), "ports")) {
          if (!supported(p)) {
            out.add(
                Message.of(
                    Messages.PORT_NAME_IS_NOT_UNDER_NAMING_CONVENTION,
                    svc.ref(),
                    Docs.str(p, "name"),
                    Docs.integer(p, "port"),
                    Docs.str(p, "targetPort")));
          }
        }
      }
      return out;
    }

    /** Istio's {@code kube.ConvertProtocol} is not {@code Unsupported}. */
    static boolean supported(Map<String, Object> port) {
      String proto = Docs.str(port, "protocol");
      if (proto.equals("UDP") || proto.equals("SCTP")) {
        return true;
      }
      String app = Docs.str(port, "appProtocol").toLowerCase(Locale.ROOT);
      if (!app.isEmpty() && (PROTOCOLS.contains(app) || app.startsWith("kubernetes.io/"))) {
        return true;
      }
      String name = Docs.str(port, "name").toLowerCase(Locale.ROOT);
      if (name.equals("grpc-web") || name.startsWith("grpc-web-")) {
        return true;
      }
      int dash = name.indexOf('-');
      return PROTOCOLS.contains(dash >= 0 ? name.substring(0, dash) : name);
    }
  }

  /** {@code k8sgateway.SelectorAnalyzer}: a selector on a Kubernetes Gateway pod (IST0166). */
  static final class KubeGatewaySelector implements Analyzer {
    private static final String GATEWAY_NAME = "gateway.networking.k8s.io/gateway-name";

    @Override
    public String name() {
      return "k8sgateway.SelectorAnalyzer";
    }

    @Override
    public List<Message> analyze(AnalysisInput in) {
      Map<String, List<Map<String, String>>> pods = new LinkedHashMap<>();
      for (Obj pod : in.all("Pod")) {
        if (pod.labels().containsKey(GATEWAY_NAME)) {
          pods.computeIfAbsent(pod.namespace(), k -> new ArrayList<>()).add(pod.labels());
        }
      }
      List<Message> out = new ArrayList<>();
      for (String kind :
          List.of("AuthorizationPolicy", "RequestAuthentication", "Telemetry", "WasmPlugin")) {
        for (Obj p : in.all(kind)) {
          if (Docs.has(p.spec(), "targetRef") || !Docs.has(p.spec(), "selector")) {
            continue;
          }
          Map<String, String> sel = Docs.labels(p.spec(), "selector", "matchLabels");
          for (Map<String, String> pod : pods.getOrDefault(p.namespace(), List.of())) {
            if (Selectors.matches(sel, pod)) {
              out.add(Message.of(Messages.INEFFECTIVE_SELECTOR, p.ref(), pod.get(GATEWAY_NAME)));
            }
          }
        }
      }
      return out;
    }
  }

  /** {@code deprecation.FieldAnalyzer}: deprecated VirtualService and Sidecar fields (IST0002). */
  static final class Deprecation implements Analyzer {
    @Override
    public String name() {
      return "deprecation.FieldAnalyzer";
    }

    @Override
    public List<Message> analyze(AnalysisInput in) {
      List<Message> out = new ArrayList<>();
      for (Obj vs : in.all("VirtualService")) {
        for (Map<String, Object> http : Docs.maps(vs.spec(), "http")) {
          if (Docs.integer(http, "fault", "delay", "percent") > 0) {
            out.add(
                Message.of(
                    Messages.DEPRECATED,
                    vs.ref(),
                    "HTTPRoute.fault.delay.percent is deprecated; use"
                        + " HTTPRoute.fault.delay.percentage"));
          }
        }
      }
      for (Obj sc : in.all("Sidecar")) {
        if (Docs.has(sc.spec(), "outboundTrafficPolicy", "egressProxy")) {
          out.add(
              Message.of(
                  Messages.DEPRECATED, sc.ref(), "OutboundTrafficPolicy.EgressProxy ignored"));
        }
      }
      return out;
    }
  }
}
