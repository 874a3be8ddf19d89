package dev.weft.controlplane.gen;

import dev.weft.api.Resource;
import dev.weft.api.ResourceKind;
import dev.weft.api.core.Service;
import dev.weft.api.networking.DestinationRule;
import dev.weft.api.networking.Gateway;
import dev.weft.api.networking.HttpMatchRequest;
import dev.weft.api.networking.HttpRoute;
import dev.weft.api.networking.HttpRouteDestination;
import dev.weft.api.networking.Server;
import dev.weft.api.networking.Subset;
import dev.weft.api.networking.TrafficPolicy;
import dev.weft.api.networking.VirtualService;
import dev.weft.api.networking.WorkloadEntry;
import dev.weft.controlplane.registry.Hosts;
import dev.weft.controlplane.registry.MeshService;
import dev.weft.controlplane.registry.Protocol;
import dev.weft.controlplane.store.ConfigSnapshot;
import dev.weft.controlplane.store.StoredResource;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * What of an applied resource Weft accepts but does not enforce yet: the one place that says so,
 * kept in step with the generators of this package ({@link RouteTranslator}, {@link
 * GatewayListener}, {@link ListenerGenerator}, {@link ClusterGenerator}, {@link OutboundCluster})
 * and {@link dev.weft.controlplane.push.PushContext}. The API's apply answer carries these as
 * warnings (as the Kubernetes API server's {@code Warning} headers, which kubectl prints), and
 * {@code docs/compatibility.md} is written from this class: when a generator learns a field, its
 * rule here goes.
 *
 * <p>A field is listed when a user who sets it would otherwise believe it acts: Istio fields the
 * generators never read (fault, mirror, CORS, traffic policies...), kinds that are stored but read
 * by nothing (ServiceEntry, Sidecar, the security kinds, Secret), and configuration whose traffic
 * Weft's proxies do not carry (non-HTTP ports and servers). Settings whose value is what Weft does
 * anyway (a round-robin load balancer, client TLS {@code DISABLE}) are not listed.
 */
public final class Enforcement {
  /** The words every warning message starts with. */
  public static final String NOT_ENFORCED = "accepted but not enforced by Weft yet";

  private Enforcement() {}

  /**
   * One field that is accepted but not enforced.
   *
   * @param resource the resource as {@code Kind namespace/name} ({@code Kind name} when it has no
   *     namespace), as validation errors name it
   * @param field the field path ({@code spec.http[0].fault}); empty when the whole resource is not
   *     enforced
   * @param reason what is not enforced, in a few words ({@code fault injection})
   */
  public record Warning(String resource, String field, String reason) {
    /** The API's message: {@code accepted but not enforced by Weft yet: fault injection}. */
    public String message() {
      return NOT_ENFORCED + ": " + reason;
    }

    /**
     * kubectl's warning line without its {@code Warning: } prefix: {@code VirtualService
     * demo/podinfo: spec.http[0].fault: accepted but not enforced by Weft yet (fault injection)}.
     */
    @Override
    public String toString() {
      return resource
          + ": "
          + (field.isEmpty() ? "" : field + ": ")
          + NOT_ENFORCED
          + " ("
          + reason
          + ")";
    }
  }

  /** The fields of {@code resource} that Weft accepts but does not enforce, in document order. */
  public static List<Warning> unenforced(Resource resource) {
    Collector c = new Collector(describe(resource));
    switch (resource.kind()) {
      case VIRTUAL_SERVICE -> virtualService(c, resource.spec(VirtualService.class));
      case DESTINATION_RULE -> destinationRule(c, resource.spec(DestinationRule.class));
      case GATEWAY -> gateway(c, resource.spec(Gateway.class));
      case SERVICE -> service(c, resource.spec(Service.class));
      case WORKLOAD_ENTRY -> workloadEntry(c, resource.spec(WorkloadEntry.class));
      case SERVICE_ENTRY ->
          c.add("", "ServiceEntry (only core/v1 Services and WorkloadEntries are routed)");
      case SIDECAR -> c.add("", "Sidecar scoping (every sidecar sees every service)");
      case PEER_AUTHENTICATION ->
          c.add("", "mutual TLS (traffic between Weft's proxies is plaintext)");
      case AUTHORIZATION_POLICY ->
          c.add("", "authorization policy (every request is allowed, whatever the action)");
      case REQUEST_AUTHENTICATION ->
          c.add("", "JWT request authentication (tokens are not checked)");
      case SECRET -> c.add("", "Secrets (no TLS yet: nothing reads them)");
      case NAMESPACE -> {
        // A Namespace only names a namespace: nothing to enforce.
      }
    }
    return List.copyOf(c.out);
  }

  /**
   * {@link #unenforced(Resource)}, plus what {@code resource} loses to other stored configuration,
   * as {@link dev.weft.controlplane.push.PushContext} and {@link RouteGenerator} pick: a
   * DestinationRule whose host an older DestinationRule already has (only the oldest is used), and
   * a mesh VirtualService for a Service that an older mesh VirtualService already routes (a sidecar
   * takes the oldest). {@code config} is the store after the apply.
   */
  public static List<Warning> unenforced(Resource resource, ConfigSnapshot config) {
    List<Warning> out = new ArrayList<>(unenforced(resource));
    Collector c = new Collector(describe(resource));
    switch (resource.kind()) {
      case DESTINATION_RULE -> shadowedDestinationRule(c, resource, config);
      case VIRTUAL_SERVICE -> shadowedVirtualService(c, resource, config);
      default -> {
        // Other kinds do not compete with each other.
      }
    }
    out.addAll(c.out);
    return List.copyOf(out);
  }

  /** {@link ConfigSnapshot#derived} key: the oldest DestinationRule per resolved host. */
  private static final Object OLDEST_DESTINATION_RULE = new Object();

  /** {@link ConfigSnapshot#derived} key: the mesh VirtualService sidecars use per Service host. */
  private static final Object MESH_VIRTUAL_SERVICE = new Object();

  /** {@link ConfigSnapshot#derived} key: every Service's hostname, in store (key) order. */
  private static final Object SERVICE_HOSTS = new Object();

  // The indexes below are built once per snapshot: an apply of 28,000 DestinationRules asks about
  // each of them, and a scan of every rule per rule (what this did first) is quadratic (issue #5).

  private static void shadowedDestinationRule(Collector c, Resource dr, ConfigSnapshot config) {
    String host = Hosts.resolve(dr.spec(DestinationRule.class).host(), dr.metadata().namespace());
    Map<String, Resource> oldest =
        config.derived(OLDEST_DESTINATION_RULE, Enforcement::oldestDestinationRules);
    Resource winner = oldest.get(host);
    if (winner != null && !winner.key().equals(dr.key())) {
      c.add(
          "spec.host",
          "a second DestinationRule for one host ("
              + describe(winner)
              + " is older and is the one used; Istio would merge them)");
    }
  }

  /** As {@link dev.weft.controlplane.push.PushContext}: per host, the oldest DestinationRule. */
  private static Map<String, Resource> oldestDestinationRules(ConfigSnapshot config) {
    Map<String, Resource> out = new HashMap<>();
    for (Resource r : config.byAge(ResourceKind.DESTINATION_RULE)) {
      out.putIfAbsent(
          Hosts.resolve(r.spec(DestinationRule.class).host(), r.metadata().namespace()), r);
    }
    return out;
  }

  private static void shadowedVirtualService(Collector c, Resource vs, ConfigSnapshot config) {
    if (!appliesToMesh(vs)) {
      return;
    }
    List<String> services = config.derived(SERVICE_HOSTS, Enforcement::serviceHosts);
    Map<String, Resource> winners =
        config.derived(MESH_VIRTUAL_SERVICE, cfg -> meshVirtualServices(cfg, services));
    Set<String> known = config.derived(SERVICE_HOSTS_SET, cfg -> Set.copyOf(services));
    List<String> hosts = vs.spec(VirtualService.class).hosts();
    for (int i = 0; i < hosts.size(); i++) {
      String host = Hosts.resolve(hosts.get(i), vs.metadata().namespace());
      if (host.equals("*")) {
        continue;
      }
      // An exact host matches at most its own Service; only a wildcard needs the whole list.
      List<String> candidates =
          host.startsWith("*") ? services : known.contains(host) ? List.of(host) : List.of();
      for (String service : candidates) {
        if (!Hosts.matches(host, service)) {
          continue;
        }
        Resource winner = winners.get(service);
        if (winner != null && !winner.key().equals(vs.key())) {
          c.add(
              "spec.hosts[" + i + "]",
              "a second mesh VirtualService for "
                  + service
                  + " ("
                  + describe(winner)
                  + " is older and is the one sidecars use)");
          break;
        }
      }
    }
  }

  /** {@link ConfigSnapshot#derived} key: {@link #SERVICE_HOSTS} as a set. */
  private static final Object SERVICE_HOSTS_SET = new Object();

  private static List<String> serviceHosts(ConfigSnapshot config) {
    List<String> out = new ArrayList<>();
    for (StoredResource s : config.list(ResourceKind.SERVICE)) {
      out.add(MeshService.of(s.resource()).hostname());
    }
    return List.copyOf(out);
  }

  /**
   * As {@link RouteGenerator} picks for a sidecar: per Service host, the oldest mesh VirtualService
   * with a (non-{@code *}) host that covers it.
   */
  private static Map<String, Resource> meshVirtualServices(
      ConfigSnapshot config, List<String> services) {
    Map<String, Resource> out = new HashMap<>();
    for (Resource r : config.byAge(ResourceKind.VIRTUAL_SERVICE)) {
      if (!appliesToMesh(r)) {
        continue;
      }
      for (String h : r.spec(VirtualService.class).hosts()) {
        String host = Hosts.resolve(h, r.metadata().namespace());
        if (host.equals("*")) {
          continue;
        }
        if (host.startsWith("*")) {
          for (String service : services) {
            if (Hosts.matches(host, service)) {
              out.putIfAbsent(service, r);
            }
          }
        } else {
          out.putIfAbsent(host, r);
        }
      }
    }
    return out;
  }

  /** As {@link RouteGenerator}: bound to the mesh when {@code gateways} is empty or has mesh. */
  private static boolean appliesToMesh(Resource vs) {
    List<String> gateways = vs.spec(VirtualService.class).gateways();
    return gateways.isEmpty() || gateways.contains("mesh");
  }

  /** {@code Kind namespace/name}, as {@code ResourceParser} names resources in its errors. */
  static String describe(Resource r) {
    String ns = r.kind().namespaced() ? r.metadata().namespace() : "";
    String name = ns == null || ns.isEmpty() ? r.metadata().name() : ns + "/" + r.metadata().name();
    return r.kind().kind() + " " + name;
  }

  /** {@link RouteTranslator} reads hosts, gateways and these http route fields; nothing else. */
  private static void virtualService(Collector c, VirtualService vs) {
    for (int i = 0; i < vs.http().size(); i++) {
      HttpRoute http = vs.http().get(i);
      String p = "spec.http[" + i + "]";
      if (http.match() != null) {
        for (int m = 0; m < http.match().size(); m++) {
          HttpMatchRequest match = http.match().get(m);
          if (match == null) {
            continue;
          }
          String mp = p + ".match[" + m + "]";
          // uri, scheme, method, authority, headers, withoutHeaders, queryParams, ignoreUriCase,
          // port and gateways are translated; the caller's identity is not known to the routes.
          if (match.sourceLabels() != null && !match.sourceLabels().isEmpty()) {
            c.add(
                mp + ".sourceLabels",
                "matching on the calling workload's labels (this match ignores them)");
          }
          if (match.sourceNamespace() != null && !match.sourceNamespace().isEmpty()) {
            c.add(
                mp + ".sourceNamespace",
                "matching on the calling workload's namespace (this match ignores it)");
          }
        }
      }
      for (int d = 0; d < http.route().size(); d++) {
        HttpRouteDestination dest = http.route().get(d);
        String dp = p + ".route[" + d + "].headers";
        if (http.route().size() == 1) {
          headerOperations(c, dp, dest.headers());
        } else if (hasOperations(dest.headers())) {
          c.add(dp, "header manipulation per destination of a weighted route");
        }
      }
      if (http.rewrite() != null && http.rewrite().uriRegexRewrite() != null) {
        c.add(p + ".rewrite.uriRegexRewrite", "regex path rewrite");
      }
      if (http.redirect() != null
          && http.redirect().derivePort() != null
          && !http.redirect().derivePort().isEmpty()) {
        c.add(p + ".redirect.derivePort", "redirect derivePort");
      }
      if (http.fault() != null) {
        c.add(p + ".fault", "fault injection");
      }
      if (http.mirror() != null) {
        c.add(p + ".mirror", "traffic mirroring");
      }
      if (http.mirrors() != null && !http.mirrors().isEmpty()) {
        c.add(p + ".mirrors", "traffic mirroring");
      }
      if (http.mirrorPercentage() != null) {
        c.add(p + ".mirrorPercentage", "traffic mirroring");
      }
      if (http.corsPolicy() != null) {
        c.add(p + ".corsPolicy", "CORS policy");
      }
      headerOperations(c, p + ".headers", http.headers());
      // RouteTranslator emits a route for `redirect`, `directResponse` or `route`; a delegating
      // route has none of them and is left out.
      boolean routed =
          http.redirect() != null || http.directResponse() != null || !http.route().isEmpty();
      if (http.delegate() != null && !routed) {
        c.add(p + ".delegate", "delegation to another VirtualService (this route is left out)");
      }
    }
    if (vs.tls() != null && !vs.tls().isEmpty()) {
      c.add("spec.tls", "TLS routes (only HTTP is proxied)");
    }
    if (vs.tcp() != null && !vs.tcp().isEmpty()) {
      c.add("spec.tcp", "TCP routes (only HTTP is proxied)");
    }
    if (vs.exportTo() != null && !vs.exportTo().isEmpty()) {
      c.add("spec.exportTo", "exportTo (every namespace sees every resource)");
    }
  }

  /** The header operations {@link RouteTranslator#translatable} leaves out. */
  private static void headerOperations(
      Collector c, String path, dev.weft.api.networking.Headers headers) {
    if (headers == null) {
      return;
    }
    operations(c, path + ".request", headers.request());
    operations(c, path + ".response", headers.response());
  }

  private static void operations(
      Collector c, String path, dev.weft.api.networking.Headers.HeaderOperations ops) {
    if (ops == null) {
      return;
    }
    for (String op : List.of("set", "add")) {
      Map<String, String> values = op.equals("set") ? ops.set() : ops.add();
      if (values == null) {
        continue;
      }
      for (Map.Entry<String, String> e : new java.util.TreeMap<>(values).entrySet()) {
        if (!RouteTranslator.translatable(e.getKey(), e.getValue())) {
          c.add(path + "." + op + "." + e.getKey(), headerReason(e.getKey()));
        }
      }
    }
    if (ops.remove() != null) {
      for (int i = 0; i < ops.remove().size(); i++) {
        String name = ops.remove().get(i);
        if (!RouteTranslator.translatable(name, "")) {
          c.add(path + ".remove[" + i + "]", headerReason(name));
        }
      }
    }
  }

  private static String headerReason(String name) {
    if (name.equalsIgnoreCase("host") || name.equalsIgnoreCase(":authority")) {
      return "changing the Host header this way (use rewrite.authority)";
    }
    if (name.startsWith(":")) {
      return "changing pseudo-headers";
    }
    return "%FORMATTER% header values (a literal % is written %%)";
  }

  private static boolean hasOperations(dev.weft.api.networking.Headers headers) {
    return headers != null && (headers.request() != null || headers.response() != null);
  }

  /** {@link OutboundCluster} reads host and the subsets' names and labels; nothing else. */
  private static void destinationRule(Collector c, DestinationRule dr) {
    trafficPolicy(c, "spec.trafficPolicy", dr.trafficPolicy());
    if (dr.subsets() != null) {
      for (int i = 0; i < dr.subsets().size(); i++) {
        Subset s = dr.subsets().get(i);
        trafficPolicy(c, "spec.subsets[" + i + "].trafficPolicy", s.trafficPolicy());
      }
    }
    if (dr.exportTo() != null && !dr.exportTo().isEmpty()) {
      c.add("spec.exportTo", "exportTo (every namespace sees every resource)");
    }
  }

  /**
   * {@link ClusterGenerator} gives every cluster round robin, plaintext, Istio's 10 s connect
   * timeout and no limits: a policy that asks for exactly that is enforced, anything else is not.
   */
  private static void trafficPolicy(Collector c, String path, TrafficPolicy policy) {
    if (policy == null) {
      return;
    }
    settings(
        c,
        path,
        policy.loadBalancer(),
        policy.connectionPool(),
        policy.outlierDetection(),
        policy.tls());
    List<Map<String, Object>> ports = policy.portLevelSettings();
    if (ports != null) {
      for (int i = 0; i < ports.size(); i++) {
        Map<String, Object> s = ports.get(i);
        settings(
            c,
            path + ".portLevelSettings[" + i + "]",
            map(s.get("loadBalancer")),
            map(s.get("connectionPool")),
            map(s.get("outlierDetection")),
            map(s.get("tls")));
      }
    }
    if (policy.tunnel() != null) {
      c.add(path + ".tunnel", "tunneling");
    }
    if (policy.proxyProtocol() != null) {
      c.add(path + ".proxyProtocol", "PROXY protocol");
    }
  }

  private static void settings(
      Collector c,
      String path,
      Map<String, Object> loadBalancer,
      Map<String, Object> connectionPool,
      Map<String, Object> outlierDetection,
      Map<String, Object> tls) {
    if (loadBalancer != null && !isRoundRobin(loadBalancer)) {
      c.add(path + ".loadBalancer", "load balancer settings (every cluster is round robin)");
    }
    if (connectionPool != null) {
      c.add(path + ".connectionPool", "connection pool limits (circuit breaking)");
    }
    if (outlierDetection != null) {
      c.add(path + ".outlierDetection", "outlier detection");
    }
    if (tls != null && !"DISABLE".equals(tls.get("mode"))) {
      c.add(path + ".tls", "client TLS (upstream connections are plaintext)");
    }
  }

  private static boolean isRoundRobin(Map<String, Object> loadBalancer) {
    return loadBalancer.size() == 1 && "ROUND_ROBIN".equals(loadBalancer.get("simple"));
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> map(Object o) {
    return o instanceof Map<?, ?> m ? (Map<String, Object>) m : null;
  }

  /** {@link GatewayListener} serves HTTP, HTTP2 and GRPC servers by port and hosts only. */
  private static void gateway(Collector c, Gateway gw) {
    if (gw.servers() == null) {
      return;
    }
    for (int i = 0; i < gw.servers().size(); i++) {
      Server s = gw.servers().get(i);
      String p = "spec.servers[" + i + "]";
      if (s.port() == null || s.port().protocol() == null) {
        continue; // validation requires both
      }
      String protocol = s.port().protocol().toUpperCase(Locale.ROOT);
      switch (protocol) {
        case "HTTP", "HTTP2" -> {
          if (s.tls() != null) {
            c.add(p + ".tls", "TLS settings of an HTTP server (httpsRedirect)");
          }
        }
        case "GRPC" ->
            c.add(p, "gRPC server (gRPC needs HTTP/2; Weft's proxy speaks HTTP/1.1 only)");
        default ->
            c.add(
                p,
                protocol
                    + " server (only HTTP servers get a listener"
                    + (protocol.equals("HTTPS") || protocol.equals("TLS")
                        ? "; no TLS termination yet)"
                        : ")"));
      }
      if (s.bind() != null && !s.bind().isEmpty()) {
        c.add(p + ".bind", "bind address (the gateway listens on its own address)");
      }
    }
  }

  /**
   * {@link ListenerGenerator} gives listeners only to HTTP ports ({@link Protocol#isHttp}); other
   * ports get clusters that no listener routes to. The registry ignores ExternalName targets.
   */
  private static void service(Collector c, Service svc) {
    if ("ExternalName".equals(svc.type())) {
      c.add("spec.type", "ExternalName Services (no endpoints, no DNS alias)");
    }
    if (svc.ports() == null) {
      return;
    }
    for (int i = 0; i < svc.ports().size(); i++) {
      Service.ServicePort port = svc.ports().get(i);
      Protocol protocol = Protocol.of(port.name(), port.appProtocol(), port.protocol());
      String p = "spec.ports[" + i + "]";
      if (protocol == Protocol.GRPC) {
        c.add(p, "gRPC traffic (gRPC needs HTTP/2; Weft's proxy speaks HTTP/1.1 only)");
      } else if (!protocol.isHttp()) {
        c.add(p, protocol + " traffic (only HTTP ports get listeners and routes)");
      }
    }
  }

  /** {@link dev.weft.controlplane.push.PushContext} reads address, ports, labels and account. */
  private static void workloadEntry(Collector c, WorkloadEntry we) {
    if (we.weight() > 0) {
      c.add("spec.weight", "endpoint weight (endpoints are picked round robin)");
    }
    if (we.locality() != null && !we.locality().isEmpty()) {
      c.add("spec.locality", "locality-aware load balancing");
    }
    if (we.network() != null && !we.network().isEmpty()) {
      c.add("spec.network", "multi-network meshes");
    }
  }

  private static final class Collector {
    final String resource;
    final List<Warning> out = new ArrayList<>();

    Collector(String resource) {
      this.resource = resource;
    }

    void add(String field, String reason) {
      out.add(new Warning(resource, field, reason));
    }
  }
}
