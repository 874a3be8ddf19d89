package dev.weft.analysis;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/** Istio's {@code analyzers/virtualservice}. */
final class VirtualServiceAnalyzers {
  private VirtualServiceAnalyzers() {}

  private static boolean boundToMesh(Obj vs) {
    List<String> gws = Docs.strs(vs.spec(), "gateways");
    return gws.isEmpty() || gws.contains("mesh");
  }

  /** {@code virtualservice.ConflictingMeshGatewayHostsAnalyzer} (IST0109). */
  static final class ConflictingMeshGatewayHosts implements Analyzer {
    @Override
    public String name() {
      return "virtualservice.ConflictingMeshGatewayHostsAnalyzer";
    }

    @Override
    public List<Message> analyze(AnalysisInput in) {
      Map<String, List<Obj>> hosts = new LinkedHashMap<>();
      for (Obj vs : in.all("VirtualService")) {
        if (!boundToMesh(vs)) {
          continue;
        }
        List<String> exportTo = Docs.strs(vs.spec(), "exportTo");
        Set<String> scopes = new LinkedHashSet<>();
        if (Hosts.exportsToAll(exportTo)) {
          scopes.add(Hosts.ALL);
        } else {
          for (String e : exportTo) {
            scopes.add(e.equals(Hosts.LOCAL) ? vs.namespace() : e);
          }
        }
        for (String scope : scopes) {
          for (String h : Docs.strs(vs.spec(), "hosts")) {
            hosts
                .computeIfAbsent(Hosts.scoped(scope, vs.namespace(), h), k -> new ArrayList<>())
                .add(vs);
          }
        }
      }
      List<Message> out = new ArrayList<>();
      Set<Obj> reported = new HashSet<>();
      for (Map.Entry<String, List<Obj>> e : hosts.entrySet()) {
        String[] sf = e.getKey().split("/", 2);
        List<Obj> list = new ArrayList<>(e.getValue());
        if (!sf[0].equals(Hosts.ALL)) {
          for (Map.Entry<String, List<Obj>> o : hosts.entrySet()) {
            String[] of = o.getKey().split("/", 2);
            if (of[0].equals(Hosts.ALL) && Hosts.matches(sf[1], of[1])) {
              list.addAll(o.getValue());
            }
          }
        }
        if (list.size() < 2) {
          continue;
        }
        String names = String.join(",", list.stream().map(Obj::fullName).sorted().toList());
        for (Obj vs : list) {
          if (reported.add(vs)) {
            out.add(
                Message.of(
                    Messages.CONFLICTING_MESH_GATEWAY_VIRTUAL_SERVICE_HOSTS,
                    vs.ref(),
                    names,
                    e.getKey()));
          }
        }
      }
      return out;
    }
  }

  /**
   * {@code virtualservice.DestinationHostAnalyzer}: destination and mirror hosts must exist
   * (IST0101), ports must too (IST0101, IST0112); a gateway route without a subset to a host a mesh
   * VirtualService splits by subset (IST0140).
   */
  static final class DestinationHosts implements Analyzer {
    @Override
    public String name() {
      return "virtualservice.DestinationHostAnalyzer";
    }

    @Override
    public List<Message> analyze(AnalysisInput in) {
      ServiceHosts services = new ServiceHosts(in);
      // VirtualServices routing to one of their own hosts by subset, and those destinations
      Map<Obj, List<String>> subsetDestinations = new LinkedHashMap<>();
      for (Obj vs : in.all("VirtualService")) {
        List<String> own = Docs.strs(vs.spec(), "hosts");
        for (Map<String, Object> http : Docs.maps(vs.spec(), "http")) {
          for (Map<String, Object> rd : Docs.maps(http, "route")) {
            Map<String, Object> d = Docs.map(rd, "destination");
            if (!Docs.str(d, "subset").isEmpty() && own.contains(Docs.str(d, "host"))) {
              subsetDestinations
                  .computeIfAbsent(vs, k -> new ArrayList<>())
                  .add(Docs.str(d, "host"));
            }
          }
        }
      }
      List<Message> out = new ArrayList<>();
      for (Obj vs : in.all("VirtualService")) {
        List<String> exportTo = Docs.strs(vs.spec(), "exportTo");
        for (VsDestinations.Annotated d : VsDestinations.routes(vs)) {
          check(out, vs, d, "host", services.destination(vs.namespace(), exportTo, host(d)));
        }
        for (VsDestinations.Annotated d : VsDestinations.mirrors(vs)) {
          check(out, vs, d, "mirror host", services.destination(vs.namespace(), exportTo, host(d)));
        }
        if (Docs.strs(vs.spec(), "gateways").isEmpty()) {
          continue;
        }
        for (Map<String, Object> http : Docs.maps(vs.spec(), "http")) {
          for (Map<String, Object> rd : Docs.maps(http, "route")) {
            Map<String, Object> d = Docs.map(rd, "destination");
            if (!Docs.str(d, "subset").isEmpty()) {
              continue;
            }
            for (Map.Entry<Obj, List<String>> e : subsetDestinations.entrySet()) {
              for (String h : e.getValue()) {
                if (h.equals(Docs.str(d, "host"))) {
                  out.add(
                      Message.of(
                          Messages.INGRESS_ROUTE_RULES_NOT_AFFECTED,
                          vs.ref(),
                          e.getKey().fullName(),
                          vs.fullName()));
                }
              }
            }
          }
        }
      }
      return out;
    }

    private static String host(VsDestinations.Annotated d) {
      return Docs.str(d.destination(), "host");
    }

    private static void check(
        List<Message> out, Obj vs, VsDestinations.Annotated d, String what, ServiceHosts.Entry s) {
      if (s == null) {
        out.add(Message.of(Messages.REFERENCED_RESOURCE_NOT_FOUND, vs.ref(), what, host(d)));
        return;
      }
      if (!Docs.has(d.destination(), "port")) {
        if (s.ports().size() > 1) {
          out.add(
              Message.of(
                  Messages.VIRTUAL_SERVICE_DESTINATION_PORT_SELECTOR_REQUIRED,
                  vs.ref(),
                  host(d),
                  s.ports()));
        }
        return;
      }
      int port = Docs.integer(d.destination(), "port", "number");
      if (!s.ports().contains(port)) {
        out.add(
            Message.of(
                Messages.REFERENCED_RESOURCE_NOT_FOUND,
                vs.ref(),
                "host:port",
                host(d) + ":" + port));
      }
    }
  }

  /** {@code virtualservice.DestinationRuleAnalyzer}: a used subset must be in a DestinationRule. */
  static final class DestinationRules implements Analyzer {
    @Override
    public String name() {
      return "virtualservice.DestinationRuleAnalyzer";
    }

    @Override
    public List<Message> analyze(AnalysisInput in) {
      Set<String> known = new HashSet<>();
      for (Obj dr : in.all("DestinationRule")) {
        String host = Hosts.resourceName(dr.namespace(), Docs.str(dr.spec(), "host"));
        for (Map<String, Object> ss : Docs.maps(dr.spec(), "subsets")) {
          known.add(host + "+" + Docs.str(ss, "name"));
        }
      }
      List<Message> out = new ArrayList<>();
      for (Obj vs : in.all("VirtualService")) {
        for (VsDestinations.Annotated d : VsDestinations.routes(vs)) {
          check(out, known, vs, d, "host+subset in destinationrule");
        }
        for (VsDestinations.Annotated d : VsDestinations.mirrors(vs)) {
          check(out, known, vs, d, "mirror+subset in destinationrule");
        }
      }
      return out;
    }

    private static void check(
        List<Message> out, Set<String> known, Obj vs, VsDestinations.Annotated d, String what) {
      String subset = Docs.str(d.destination(), "subset");
      String host = Docs.str(d.destination(), "host");
      if (subset.isEmpty()
          || known.contains(Hosts.resourceName(vs.namespace(), host) + "+" + subset)) {
        return;
      }
      out.add(
          Message.of(Messages.REFERENCED_RESOURCE_NOT_FOUND, vs.ref(), what, host + "+" + subset));
    }
  }

  /**
   * {@code virtualservice.GatewayAnalyzer}: named gateways exist (IST0101), are not internal
   * (IST0165), and serve the VirtualService's hosts (IST0132).
   */
  static final class Gateways implements Analyzer {
    @Override
    public String name() {
      return "virtualservice.GatewayAnalyzer";
    }

    @Override
    public List<Message> analyze(AnalysisInput in) {
      List<Message> out = new ArrayList<>();
      for (Obj vs : in.all("VirtualService")) {
        List<String> vsHosts = Docs.strs(vs.spec(), "hosts");
        for (String gwName : Docs.strs(vs.spec(), "gateways")) {
          if (gwName.equals("mesh")) {
            continue;
          }
          // kube.IsInternalGatewayReference: "[ns/]gw~istio-autogenerated-k8s-gateway~listener"
          if (gwName
              .substring(gwName.indexOf('/') + 1)
              .contains("~istio-autogenerated-k8s-gateway~")) {
            out.add(
                Message.of(Messages.REFERENCED_INTERNAL_GATEWAY, vs.ref(), vs.fullName(), gwName));
            continue;
          }
          var gw = in.findShortOrFull("Gateway", vs.namespace(), gwName);
          boolean kube = false;
          if (gw.isEmpty()) {
            gw = in.findShortOrFull("KubernetesGateway", vs.namespace(), gwName);
            kube = gw.isPresent();
          }
          if (gw.isEmpty()) {
            out.add(
                Message.of(Messages.REFERENCED_RESOURCE_NOT_FOUND, vs.ref(), "gateway", gwName));
          }
          boolean match =
              gw.isPresent()
                  && (kube ? inKubeGateway(gw.get(), vsHosts) : inGateway(gw.get(), vs, vsHosts));
          if (!match) {
            String full = gwName.contains("/") ? gwName : vs.namespace() + "/" + gwName;
            out.add(
                Message.of(
                    Messages.VIRTUAL_SERVICE_HOST_NOT_FOUND_IN_GATEWAY,
                    vs.ref(),
                    vsHosts,
                    vs.fullName(),
                    full));
          }
        }
      }
      return out;
    }

    private static boolean inGateway(Obj gw, Obj vs, List<String> vsHosts) {
      List<String> gatewayHosts = new ArrayList<>();
      for (Map<String, Object> server : Docs.maps(gw.spec(), "servers")) {
        List<String> hosts = new ArrayList<>();
        boolean all = false;
        for (String h : Docs.strs(server, "hosts")) {
          int slash = h.indexOf('/');
          if (slash >= 0) {
            String ns = h.substring(0, slash);
            String rest = h.substring(slash + 1);
            if (ns.equals(".")) {
              h = gw.namespace() + "/" + rest;
            } else if (ns.equals("*")) {
              if (rest.equals("*")) {
                all = true;
                break;
              }
              h = rest;
            }
          }
          hosts.add(h);
        }
        gatewayHosts.addAll(all ? List.of("*") : hosts);
      }
      for (String gh : Hosts.namesForNamespace(gatewayHosts, vs.namespace())) {
        for (String vh : vsHosts) {
          if (Hosts.matches(gh, vh)) {
            return true;
          }
        }
      }
      return false;
    }

    private static boolean inKubeGateway(Obj gw, List<String> vsHosts) {
      for (Map<String, Object> l : Docs.maps(gw.spec(), "listeners")) {
        String h = Docs.str(l, "hostname");
        if (h.isEmpty()) {
          return true;
        }
        for (String vh : vsHosts) {
          if (Hosts.matches(h, vh)) {
            return true;
          }
        }
      }
      return false;
    }
  }

  /**
   * {@code virtualservice.JWTClaimRouteAnalyzer}: routing on {@code @request.auth.claims} at a
   * gateway needs a RequestAuthentication for the gateway's pods (IST0149).
   */
  static final class JwtClaimRoute implements Analyzer {
    @Override
    public String name() {
      return "virtualservice.JWTClaimRouteAnalyzer";
    }

    @Override
    public List<Message> analyze(AnalysisInput in) {
      Map<String, List<Map<String, String>>> raByNs = new LinkedHashMap<>();
      for (Obj ra : in.all("RequestAuthentication")) {
        raByNs
            .computeIfAbsent(ra.namespace(), k -> new ArrayList<>())
            .add(Docs.labels(ra.spec(), "selector", "matchLabels"));
      }
      List<Message> out = new ArrayList<>();
      for (Obj vs : in.all("VirtualService")) {
        String key = claimKey(vs);
        if (key == null) {
          continue;
        }
        for (String gwName : Docs.strs(vs.spec(), "gateways")) {
          if (gwName.equals("mesh")) {
            continue;
          }
          var gw = in.findShortOrFull("Gateway", vs.namespace(), gwName);
          if (gw.isEmpty()) {
            continue;
          }
          Map<String, String> sel = Docs.labels(gw.get().spec(), "selector");
          for (Obj pod : in.all("Pod")) {
            if (!Selectors.matches(sel, pod.labels())) {
              continue;
            }
            List<Map<String, String>> ras =
                new ArrayList<>(raByNs.getOrDefault(in.rootNamespace(), List.of()));
            ras.addAll(raByNs.getOrDefault(pod.namespace(), List.of()));
            if (ras.stream().noneMatch(s -> Selectors.matches(s, pod.labels()))) {
              out.add(
                  Message.of(
                      Messages.JWT_CLAIM_BASED_ROUTING_WITHOUT_REQUEST_AUTH_N,
                      vs.ref(),
                      key,
                      gw.get().fullName(),
                      pod.name()));
            }
          }
        }
      }
      return out;
    }

    /** The first header key that routes on a JWT claim ({@code @request.auth.claims.x}). */
    private static String claimKey(Obj vs) {
      for (Map<String, Object> http : Docs.maps(vs.spec(), "http")) {
        for (Map<String, Object> m : Docs.maps(http, "match")) {
          for (String f : List.of("headers", "withoutHeaders")) {
            for (String k : Docs.map(m, f).keySet()) {
              if (k.startsWith("@request.auth.claims.") || k.startsWith("@request.auth.claims[")) {
                return k;
              }
            }
          }
        }
      }
      return null;
    }
  }

  /**
   * The VirtualService part of Istio's schema validation analyzer ({@code
   * schemaValidation.CollectionValidationAnalyzer}): rules that can never match (IST0130) and
   * matches shadowed by earlier ones (IST0131), as {@code pkg/config/validation}'s {@code
   * analyzeUnreachable*Rules}.
   */
  static final class Matches implements Analyzer {
    @Override
    public String name() {
      return "schemaValidation.CollectionValidationAnalyzer(collections.VirtualService)";
    }

    @Override
    public List<Message> analyze(AnalysisInput in) {
      List<Message> out = new ArrayList<>();
      for (Obj vs : in.all("VirtualService")) {
        unreachable(out, vs, Docs.maps(vs.spec(), "http"), true);
        unreachable(out, vs, Docs.maps(vs.spec(), "tcp"), false);
        unreachable(out, vs, Docs.maps(vs.spec(), "tls"), false);
      }
      return out;
    }

    private static void unreachable(
        List<Message> out, Obj vs, List<Map<String, Object>> routes, boolean http) {
      Map<Map<String, Object>, Integer> seen = new LinkedHashMap<>();
      int empty = -1;
      List<Prefixed> prefixed = new ArrayList<>();
      for (int rulen = 0; rulen < routes.size(); rulen++) {
        Map<String, Object> route = routes.get(rulen);
        List<Map<String, Object>> matches = Docs.maps(route, "match");
        if (matches.isEmpty()) {
          if (empty >= 0) {
            out.add(
                unused(
                    vs, routeName(route, rulen, http), "only the last rule can have no matches"));
          }
          empty = rulen;
          continue;
        }
        int dups = 0;
        for (int matchn = 0; matchn < matches.size(); matchn++) {
          Map<String, Object> match = matches.get(matchn);
          if (empty >= 0) {
            out.add(
                unused(vs, routeName(route, rulen, http), "route without matches defined before"));
            continue;
          }
          Map<String, Object> key = new LinkedHashMap<>(match);
          if (http) {
            key.remove("name");
          }
          Integer dupn = seen.get(key);
          if (dupn != null) {
            out.add(
                Message.of(
                    Messages.VIRTUAL_SERVICE_INEFFECTIVE_MATCH,
                    vs.ref(),
                    routeName(route, rulen, http),
                    requestName(match, matchn, http),
                    routeName(routes.get(dupn), dupn, http)));
            dups++;
            continue;
          }
          seen.put(key, rulen);
          if (http) {
            Prefixed p = Prefixed.of(route, match, rulen, matchn);
            if (p != null) {
              prefixed.add(p);
            }
          }
        }
        if (dups == matches.size()) {
          out.add(unused(vs, routeName(route, rulen, http), "all matches used by prior rules"));
        }
      }
      for (int i = 0; i < prefixed.size(); i++) {
        Prefixed a = prefixed.get(i);
        for (int j = i + 1; j < prefixed.size(); j++) {
          Prefixed b = prefixed.get(j);
          if (b.prefix.equals(a.prefix)) {
            continue;
          }
          if (covers(a, b)) {
            out.add(
                Message.of(
                    Messages.VIRTUAL_SERVICE_INEFFECTIVE_MATCH,
                    vs.ref(),
                    b.route,
                    b.match + " of prefix " + b.prefix,
                    a.match + " of prefix " + a.prefix + " on " + a.route));
          }
        }
      }
    }

    private static Message unused(Obj vs, String rule, String reason) {
      return Message.of(Messages.VIRTUAL_SERVICE_UNREACHABLE_RULE, vs.ref(), rule, reason);
    }

    private static String routeName(Map<String, Object> route, int n, boolean http) {
      String name = Docs.str(route, "name");
      return http && !name.isEmpty() ? GoFormat.quote(name) : "#" + n;
    }

    private static String requestName(Map<String, Object> match, int n, boolean http) {
      String name = Docs.str(match, "name");
      return http && !name.isEmpty() ? GoFormat.quote(name) : "#" + n;
    }

    /** Istio's {@code OverlappingMatchValidationForHTTPRoute}: a prefix match's other fields. */
    private record Prefixed(
        String route,
        String match,
        String prefix,
        int port,
        String method,
        String authority,
        Map<String, String> headers,
        Map<String, String> queryParams,
        Map<String, String> withoutHeaders) {
      static Prefixed of(
          Map<String, Object> route, Map<String, Object> match, int rulen, int matchn) {
        String prefix = Docs.str(match, "uri", "prefix");
        if (prefix.isEmpty()) {
          return null;
        }
        String method = exactOrPrefix(Docs.map(match, "method"));
        return new Prefixed(
            routeName(route, rulen, true),
            requestName(match, matchn, true),
            prefix,
            Docs.integer(match, "port"),
            method.isEmpty() ? "exact:GET" : method,
            exactOrPrefix(Docs.map(match, "authority")),
            stringMatches(Docs.map(match, "headers")),
            stringMatches(Docs.map(match, "queryParams")),
            stringMatches(Docs.map(match, "withoutHeaders")));
      }

      private static Map<String, String> stringMatches(Map<String, Object> m) {
        Map<String, String> out = new LinkedHashMap<>();
        m.forEach((k, v) -> out.put(k, exactOrPrefix(Docs.map(v))));
        return out;
      }

      private static String exactOrPrefix(Map<String, Object> sm) {
        String exact = Docs.str(sm, "exact");
        if (!exact.isEmpty()) {
          return "exact:" + exact;
        }
        String prefix = Docs.str(sm, "prefix");
        return prefix.isEmpty() ? "" : "prefix:" + prefix;
      }
    }

    /** Istio's {@code coveredValidation}: whether {@code a} shadows {@code b}. */
    private static boolean covers(Prefixed a, Prefixed b) {
      if (!b.prefix.startsWith(a.prefix) || a.port != b.port) {
        return false;
      }
      if (!a.method.equals(b.method) && !a.method.startsWith(b.method)) {
        return false;
      }
      if (!a.authority.equals(b.authority) && !a.authority.startsWith(b.authority)) {
        return false;
      }
      return mapCovers(a.headers, b.headers)
          && mapCovers(a.queryParams, b.queryParams)
          && mapCovers(a.withoutHeaders, b.withoutHeaders);
    }

    private static boolean mapCovers(Map<String, String> a, Map<String, String> b) {
      if (a.size() != b.size()) {
        return false;
      }
      for (Map.Entry<String, String> e : a.entrySet()) {
        String bv = b.get(e.getKey());
        if (bv == null) {
          return false;
        }
        if (!Objects.equals(e.getValue(), bv) && !e.getValue().startsWith(bv)) {
          return false;
        }
      }
      return true;
    }
  }
}
