package dev.weft.controlplane.dashboard;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.weft.controlplane.gen.PeerAuthentications;
import dev.weft.controlplane.push.PushContext;
import dev.weft.controlplane.registry.Hosts;
import dev.weft.controlplane.registry.Labels;
import dev.weft.controlplane.registry.MeshService;
import dev.weft.controlplane.registry.Workload;
import dev.weft.controlplane.xds.ProxyStatus;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The dashboard's service page as JSON: a Service's ports and selector, the workloads it selects
 * with their PeerAuthentication mode and their proxies' sync state, the routes (with weights) of
 * the VirtualServices for its host, its DestinationRule's subsets and traffic policies, and the
 * security policies that apply to its workloads. Read from one immutable push context.
 */
final class ServicePage {
  private static final ObjectMapper JSON = new ObjectMapper();

  private ServicePage() {}

  /**
   * The service page's data (without its edges), or null when there is no such Service.
   *
   * @param ctx the config and workloads
   * @param statuses the proxies' sync state
   */
  static ObjectNode render(
      PushContext ctx, List<ProxyStatus> statuses, String namespace, String name) {
    String host = Hosts.serviceHost(name, namespace);
    MeshService svc = ctx.service(host);
    if (svc == null) {
      return null;
    }
    ObjectNode root = JSON.createObjectNode();
    root.put("name", name);
    root.put("namespace", namespace);
    root.put("host", host);
    ArrayNode ports = root.putArray("ports");
    for (MeshService.Port p : svc.ports()) {
      ports
          .addObject()
          .put("name", p.name())
          .put("port", p.number())
          .put("protocol", p.protocol().toString());
    }
    root.set("selector", JSON.valueToTree(svc.selector()));
    // Workloads, their mTLS mode and their proxies' sync state.
    PeerAuthentications pa = PeerAuthentications.of(ctx);
    root.put("namespaceMtlsMode", pa.serviceMode(namespace).name());
    Map<String, ProxyStatus> proxies = new LinkedHashMap<>();
    for (ProxyStatus p : statuses) {
      proxies.putIfAbsent(p.name(), p);
    }
    List<Workload> selected = new ArrayList<>();
    ArrayNode workloads = root.putArray("workloads");
    for (Workload w : ctx.workloads()) {
      if (!svc.selects(w)) {
        continue;
      }
      selected.add(w);
      ObjectNode o = workloads.addObject();
      o.put("name", w.name());
      o.put("address", w.address());
      o.set("labels", JSON.valueToTree(w.labels()));
      o.put("mtlsMode", pa.forWorkload(w.namespace(), w.labels()).mode().name());
      ProxyStatus p = proxies.get(w.name() + "." + w.namespace());
      if (p != null) {
        o.set("proxy", proxyJson(p));
      }
    }
    // Routes and weights from the VirtualServices for this host.
    ArrayNode vss = root.putArray("virtualServices");
    for (dev.weft.api.Resource vs : ctx.virtualServices()) {
      Map<String, Object> spec = map(vs.document().get("spec"));
      boolean forHost = false;
      for (Object h : list(spec.get("hosts"))) {
        if (Hosts.matches(Hosts.resolve(String.valueOf(h), vs.metadata().namespace()), host)) {
          forHost = true;
        }
      }
      if (!forHost) {
        continue;
      }
      ObjectNode o = vss.addObject();
      o.put("namespace", vs.metadata().namespace());
      o.put("name", vs.metadata().name());
      o.set("hosts", JSON.valueToTree(list(spec.get("hosts"))));
      o.set("gateways", JSON.valueToTree(list(spec.get("gateways"))));
      ArrayNode routes = o.putArray("routes");
      for (Object r : list(spec.get("http"))) {
        Map<String, Object> route = map(r);
        ObjectNode ro = routes.addObject();
        ro.put("name", String.valueOf(route.getOrDefault("name", "")));
        ro.put("match", route.containsKey("match") ? toJson(route.get("match")) : "any request");
        ArrayNode dests = ro.putArray("destinations");
        for (Object d : list(route.get("route"))) {
          Map<String, Object> dest = map(map(d).get("destination"));
          ObjectNode dn = dests.addObject();
          dn.put("host", String.valueOf(dest.getOrDefault("host", "")));
          dn.put("subset", String.valueOf(dest.getOrDefault("subset", "")));
          Object weight = map(d).get("weight");
          dn.put(
              "weight",
              weight == null
                  ? (list(route.get("route")).size() == 1 ? 100 : 0)
                  : ((Number) weight).intValue());
        }
        List<String> features = new ArrayList<>();
        for (String f :
            List.of(
                "timeout",
                "retries",
                "fault",
                "mirror",
                "mirrors",
                "corsPolicy",
                "rewrite",
                "redirect",
                "headers")) {
          if (route.containsKey(f)) {
            features.add(f + " " + toJson(route.get(f)));
          }
        }
        ro.set("features", JSON.valueToTree(features));
      }
    }
    // Subsets and traffic policy from the DestinationRule.
    dev.weft.api.Resource dr = ctx.destinationRule(host);
    if (dr != null) {
      Map<String, Object> spec = map(dr.document().get("spec"));
      ObjectNode o = root.putObject("destinationRule");
      o.put("namespace", dr.metadata().namespace());
      o.put("name", dr.metadata().name());
      o.put(
          "trafficPolicy",
          spec.containsKey("trafficPolicy") ? toJson(spec.get("trafficPolicy")) : "");
      ArrayNode subsets = o.putArray("subsets");
      for (Object s : list(spec.get("subsets"))) {
        Map<String, Object> sub = map(s);
        ObjectNode so = subsets.addObject();
        so.put("name", String.valueOf(sub.getOrDefault("name", "")));
        so.set("labels", JSON.valueToTree(map(sub.get("labels"))));
        int count = 0;
        for (Workload w : selected) {
          if (Labels.matches(stringMap(sub.get("labels")), w.labels())) {
            count++;
          }
        }
        so.put("workloads", count);
        so.put(
            "trafficPolicy",
            sub.containsKey("trafficPolicy") ? toJson(sub.get("trafficPolicy")) : "");
      }
    }
    // Security policies that apply to the service's workloads.
    ArrayNode policies = root.putArray("policies");
    for (dev.weft.api.ResourceKind kind :
        List.of(
            dev.weft.api.ResourceKind.PEER_AUTHENTICATION,
            dev.weft.api.ResourceKind.AUTHORIZATION_POLICY,
            dev.weft.api.ResourceKind.REQUEST_AUTHENTICATION)) {
      for (dev.weft.controlplane.store.StoredResource r : ctx.config().list(kind)) {
        String pns = r.key().namespace();
        if (!pns.equals(namespace) && !pns.equals(PeerAuthentications.ROOT_NAMESPACE)) {
          continue;
        }
        Map<String, Object> spec = map(r.resource().document().get("spec"));
        Map<String, String> match = stringMap(map(spec.get("selector")).get("matchLabels"));
        boolean applies = match.isEmpty();
        for (Workload w : selected) {
          applies |= Labels.matches(match, w.labels());
        }
        if (!applies) {
          continue;
        }
        ObjectNode o = policies.addObject();
        o.put("kind", kind.kind());
        o.put("namespace", pns);
        o.put("name", r.key().name());
        o.put(
            "summary",
            switch (kind) {
              case PEER_AUTHENTICATION -> "mtls " + toJson(spec.getOrDefault("mtls", Map.of()));
              case AUTHORIZATION_POLICY -> "action " + spec.getOrDefault("action", "ALLOW");
              default -> "jwtRules " + list(spec.get("jwtRules")).size();
            });
      }
    }
    return root;
  }

  /**
   * The resources a rendered service page is about, written as analysis messages name them ({@code
   * Kind namespace/name}): the Service, its workloads (as the Pods Istio's analyzers see), the
   * VirtualServices naming its host (not by a wildcard, which would drag every catch-all route onto
   * every service) or routing to it, its DestinationRule and the policies listed.
   */
  static java.util.Set<String> resources(PushContext ctx, ObjectNode page) {
    java.util.Set<String> out = new java.util.TreeSet<>();
    String ns = page.path("namespace").asText();
    String host = page.path("host").asText();
    out.add("Service " + ns + "/" + page.path("name").asText());
    page.path("workloads").forEach(w -> out.add("Pod " + ns + "/" + w.path("name").asText()));
    JsonNode dr = page.path("destinationRule");
    if (dr.isObject()) {
      out.add("DestinationRule " + dr.path("namespace").asText() + "/" + dr.path("name").asText());
    }
    page.path("policies")
        .forEach(
            p ->
                out.add(
                    p.path("kind").asText()
                        + " "
                        + p.path("namespace").asText()
                        + "/"
                        + p.path("name").asText()));
    // VirtualServices naming the host or routing to it (http, tls and tcp routes).
    for (dev.weft.api.Resource vs : ctx.virtualServices()) {
      Map<String, Object> spec = map(vs.document().get("spec"));
      String vsNs = vs.metadata().namespace();
      boolean routes = false;
      for (Object h : list(spec.get("hosts"))) {
        routes |= Hosts.resolve(String.valueOf(h), vsNs).equals(host);
      }
      for (String section : List.of("http", "tls", "tcp")) {
        for (Object r : list(spec.get(section))) {
          for (Object d : list(map(r).get("route"))) {
            Object h = map(map(d).get("destination")).get("host");
            routes |= h != null && Hosts.resolve(String.valueOf(h), vsNs).equals(host);
          }
        }
      }
      if (routes) {
        out.add("VirtualService " + vsNs + "/" + vs.metadata().name());
      }
    }
    return out;
  }

  /** A proxy's sync state, per xDS type in {@code istioctl proxy-status}'s words. */
  static ObjectNode proxyJson(ProxyStatus p) {
    ObjectNode o = JSON.createObjectNode();
    o.put("id", p.id());
    o.put("name", p.name());
    o.put("type", p.type());
    o.put("connected", p.connected());
    ObjectNode types = o.putObject("sync");
    p.types().entrySet().stream()
        .sorted(Map.Entry.comparingByKey())
        .forEach(
            e -> {
              ProxyStatus.TypeStatus s = e.getValue();
              // istioctl proxy-status's words
              String state =
                  s.nacked()
                      ? "NACKED: " + s.nack().message()
                      : s.synced() ? "SYNCED" : s.sent().isEmpty() ? "NOT SENT" : "STALE";
              types.put(e.getKey(), state);
            });
    return o;
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> map(Object o) {
    return o instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of();
  }

  private static List<Object> list(Object o) {
    return o instanceof List<?> l ? new ArrayList<>(l) : List.of();
  }

  private static Map<String, String> stringMap(Object o) {
    Map<String, String> out = new LinkedHashMap<>();
    map(o).forEach((k, v) -> out.put(k, String.valueOf(v)));
    return out;
  }

  private static String toJson(Object o) {
    try {
      return JSON.writeValueAsString(o);
    } catch (IOException e) {
      return String.valueOf(o);
    }
  }
}
