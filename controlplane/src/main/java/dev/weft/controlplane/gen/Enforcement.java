package dev.weft.controlplane.gen;

import dev.weft.api.Resource;
import dev.weft.api.ResourceKey;
import dev.weft.api.ResourceKind;
import dev.weft.api.networking.DestinationRule;
import dev.weft.api.networking.VirtualService;
import dev.weft.api.security.PeerAuthentication;
import dev.weft.controlplane.gen.authz.AuthorizationGenerator;
import dev.weft.controlplane.push.DestinationRuleIndex;
import dev.weft.controlplane.registry.Hosts;
import dev.weft.controlplane.registry.MeshService;
import dev.weft.controlplane.store.ConfigSnapshot;
import dev.weft.controlplane.store.StoredResource;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What of an applied resource Weft accepts but does not enforce yet: the one place that says so.
 * Every field the API accepts has a rule in {@link FieldRules} (enforced, enforced for some values,
 * not enforced, or of no effect); the generators emit only what the proxies support, and what they
 * leave out is warned about here. Tests check the table mechanically against the parser (every
 * field it reads has a rule) and against the generators (every enforced field changes the xDS). The
 * API's apply answer carries these as warnings (as the Kubernetes API server's {@code Warning}
 * headers, which kubectl prints), and the field list of {@code docs/compatibility.md} is generated
 * from the table.
 *
 * <p>A field is listed when a user who sets it would otherwise believe it acts: Istio fields the
 * generators never read (connection pools, outlier detection, Sidecar ingress...) and configuration
 * whose traffic Weft's proxies do not carry (non-HTTP ports and servers). Settings whose value is
 * what Weft does anyway (a round-robin load balancer, client TLS {@code DISABLE}) are not listed.
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

  /**
   * The fields of {@code resource} that Weft accepts but does not enforce, in document order: the
   * document's {@code spec} walked against {@link FieldRules}. A field without a rule (which the
   * tests forbid) is reported too: never silently dropped.
   */
  public static List<Warning> unenforced(Resource resource) {
    Collector c = new Collector(describe(resource));
    String whole = FieldRules.WHOLE_KIND.get(resource.kind());
    if (whole != null) {
      c.add("", whole);
    } else {
      FieldRules.walk(resource.kind(), resource.document().get("spec"), c::add);
    }
    if (resource.kind() == ResourceKind.PEER_AUTHENTICATION
        && PeerAuthentications.ROOT_NAMESPACE.equals(resource.metadata().namespace())
        && !resource.spec(PeerAuthentication.class).selector().isEmpty()) {
      c.add(
          "spec.selector",
          "a workload selector in the root namespace "
              + PeerAuthentications.ROOT_NAMESPACE
              + " (Istio ignores such a policy; put it in the workload's namespace)");
    }
    if (resource.kind() == ResourceKind.AUTHORIZATION_POLICY
        && "true"
            .equalsIgnoreCase(
                resource.metadata().annotations().get(AuthorizationGenerator.DRY_RUN))) {
      c.add(
          "metadata.annotations[\"" + AuthorizationGenerator.DRY_RUN + "\"]",
          "dry-run policies (neither enforced nor logged)");
    }
    return List.copyOf(c.out);
  }

  /**
   * What Weft does with each field of {@code kind}, in the table's order; empty for a kind that is
   * not enforced at all ({@link #wholeKind}).
   */
  public static List<FieldRule> rules(ResourceKind kind) {
    return FieldRules.rules(kind);
  }

  /** Why no field of {@code kind} is enforced, or null when its fields have rules. */
  public static String wholeKind(ResourceKind kind) {
    return FieldRules.WHOLE_KIND.get(kind);
  }

  /**
   * The rule that decides the field {@code path} of a {@code kind} ({@code
   * spec.http[0].retries.backoff}, {@code spec.http[0].match[0].headers["x.y"].exact}, as {@code
   * ResourceParser} names fields), or null when none does; for a kind not enforced at all, null.
   */
  public static FieldRule classify(ResourceKind kind, String path) {
    return FieldRules.classify(kind, segments(path));
  }

  /** {@code a.b[0]["c.d"]} → {@code a, b, [], c.d}. */
  static List<String> segments(String path) {
    List<String> out = new ArrayList<>();
    int i = 0;
    StringBuilder cur = new StringBuilder();
    while (i < path.length()) {
      char ch = path.charAt(i);
      if (ch == '.') {
        flush(cur, out);
        i++;
      } else if (ch == '[') {
        flush(cur, out);
        if (i + 1 < path.length() && path.charAt(i + 1) == '"') {
          int end = path.indexOf("\"]", i + 2);
          end = end < 0 ? path.length() : end;
          out.add(path.substring(i + 2, end));
          i = end + 2;
        } else {
          int end = path.indexOf(']', i);
          end = end < 0 ? path.length() : end;
          out.add("[]");
          i = end + 1;
        }
      } else {
        cur.append(ch);
        i++;
      }
    }
    flush(cur, out);
    return out;
  }

  private static void flush(StringBuilder cur, List<String> out) {
    if (cur.length() > 0) {
      out.add(cur.toString());
      cur.setLength(0);
    }
  }

  /**
   * {@link #unenforced(Resource)}, plus what {@code resource} loses to other stored configuration,
   * as {@link dev.weft.controlplane.push.PushContext} and {@link RouteGenerator} pick: what merging
   * DestinationRules for one host drops (a duplicate subset, a second top-level policy), and a mesh
   * VirtualService for a Service that an older mesh VirtualService already routes (a sidecar takes
   * the oldest). {@code config} is the store after the apply.
   */
  public static List<Warning> unenforced(Resource resource, ConfigSnapshot config) {
    List<Warning> out = new ArrayList<>(unenforced(resource));
    Collector c = new Collector(describe(resource));
    switch (resource.kind()) {
      case PEER_AUTHENTICATION -> shadowedPeerAuthentication(c, resource, config);
      case DESTINATION_RULE -> shadowedDestinationRule(c, resource, config);
      case VIRTUAL_SERVICE -> shadowedVirtualService(c, resource, config);
      default -> {
        // Other kinds do not compete with each other.
      }
    }
    out.addAll(c.out);
    return List.copyOf(out);
  }

  /** {@link ConfigSnapshot#derived} key: the mesh VirtualService sidecars use per Service host. */
  private static final Object MESH_VIRTUAL_SERVICE = new Object();

  /** {@link ConfigSnapshot#derived} key: every Service's hostname, in store (key) order. */
  private static final Object SERVICE_HOSTS = new Object();

  // The indexes below are built once per snapshot: an apply of 28,000 DestinationRules asks about
  // each of them, and a scan of every rule per rule (what this did first) is quadratic (issue #5).

  /**
   * {@link ConfigSnapshot#derived} key: the oldest selector-less PeerAuthentication per namespace.
   */
  private static final Object OLDEST_PEER_AUTHENTICATION = new Object();

  /** A second mesh- or namespace-wide PeerAuthentication: the oldest is used, as in Istio. */
  private static void shadowedPeerAuthentication(
      Collector c, Resource resource, ConfigSnapshot config) {
    if (!resource.spec(PeerAuthentication.class).selector().isEmpty()) {
      return;
    }
    String ns = resource.metadata().namespace();
    Map<String, Resource> oldest =
        config.derived(OLDEST_PEER_AUTHENTICATION, Enforcement::oldestPeerAuthentications);
    Resource winner = oldest.get(ns);
    if (winner != null && !winner.key().equals(resource.key())) {
      c.add(
          "",
          "a second "
              + (ns.equals(PeerAuthentications.ROOT_NAMESPACE) ? "mesh-wide" : "namespace-wide")
              + " PeerAuthentication ("
              + describe(winner)
              + " is older and is the one used, as in Istio)");
    }
  }

  private static Map<String, Resource> oldestPeerAuthentications(ConfigSnapshot config) {
    Map<String, Resource> out = new HashMap<>();
    for (Resource r : config.byAge(ResourceKind.PEER_AUTHENTICATION)) {
      if (r.spec(PeerAuthentication.class).selector().isEmpty()) {
        out.putIfAbsent(r.metadata().namespace(), r);
      }
    }
    return out;
  }

  /**
   * What merging several DestinationRules for one host drops of {@code dr}, as Istio's {@code
   * mergeDestinationRule} does ({@link DestinationRuleIndex}): a subset whose name an older rule
   * merged with it already defines, and its top-level {@code trafficPolicy} when an older rule's is
   * used. A rule with a {@code workloadSelector} is merged only with rules of the same selector.
   */
  private static void shadowedDestinationRule(Collector c, Resource dr, ConfigSnapshot config) {
    DestinationRuleIndex index =
        DestinationRuleIndex.of(config, PeerAuthentications.ROOT_NAMESPACE);
    Map<String, ResourceKey> duplicates = index.duplicates(dr.key());
    List<dev.weft.api.networking.Subset> subsets = dr.spec(DestinationRule.class).subsets();
    for (int i = 0; subsets != null && i < subsets.size(); i++) {
      ResourceKey older = duplicates.get(subsets.get(i).name());
      if (older != null) {
        c.add(
            "spec.subsets[" + i + "]",
            "subset "
                + subsets.get(i).name()
                + " of a second DestinationRule for one host ("
                + describe(older)
                + " is older and defines it; Istio merges the rules and drops the later"
                + " duplicate)");
      }
    }
    ResourceKey policy = index.shadowedPolicy(dr.key());
    if (policy != null) {
      c.add(
          "spec.trafficPolicy",
          "the top-level trafficPolicy of a second DestinationRule for one host ("
              + describe(policy)
              + " is older and its trafficPolicy is the one used; Istio merges only the"
              + " subsets)");
    }
  }

  private static String describe(ResourceKey k) {
    return k.kind().kind() + " " + k.namespace() + "/" + k.name();
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
