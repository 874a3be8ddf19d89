package dev.weft.controlplane.push;

import dev.weft.api.Resource;
import dev.weft.api.ResourceKind;
import dev.weft.api.networking.DestinationRule;
import dev.weft.api.networking.HttpMatchRequest;
import dev.weft.api.networking.HttpRoute;
import dev.weft.api.networking.Sidecar;
import dev.weft.api.networking.Subset;
import dev.weft.api.networking.VirtualService;
import dev.weft.api.networking.WorkloadEntry;
import dev.weft.controlplane.mesh.MeshConfig;
import dev.weft.controlplane.registry.Labels;
import dev.weft.controlplane.registry.MeshService;
import dev.weft.controlplane.registry.Visibility;
import dev.weft.controlplane.registry.Workload;
import dev.weft.controlplane.store.ConfigSnapshot;
import dev.weft.controlplane.store.StoredResource;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One immutable snapshot of the config store and the service registry, from which the generators
 * build every proxy's configuration. Built by {@link #build}; never changes afterwards.
 */
public final class PushContext {
  private final long version;
  private final ConfigSnapshot config;
  private final List<MeshService> services;
  private final Map<String, MeshService> servicesByHost;
  private final List<Workload> workloads;
  private final List<Resource> virtualServices;
  private final List<Resource> gateways;
  private final Map<String, Resource> gatewaysByName;
  private final java.util.concurrent.ConcurrentMap<String, Object> cache =
      new java.util.concurrent.ConcurrentHashMap<>();
  private final ResourceCache resources;
  private final ConfigsUpdated changes;

  /**
   * The previous context's sidecar route configurations by scope key, when this context's changes
   * are known to touch only {@link ConfigsUpdated#routes}'s hosts (else empty): the basis {@link
   * #previousSidecarRoutes} hands to the route generator, so a VirtualService change regenerates
   * only the virtual hosts of its hosts (Istio's XdsCache, invalidated by the changed configs).
   */
  private final Map<String, Object> routeBasis;

  private final MeshConfig mesh;

  /** The DestinationRules, merged per host as Istio does. */
  private final DestinationRuleIndex destinationRules;

  /** Per namespace, its DestinationRules with a {@code workloadSelector}, oldest first. */
  private final Map<String, List<Resource>> selectorRulesByNamespace;

  /** Per namespace, its Sidecars, oldest first. */
  private final Map<String, List<Resource>> sidecarsByNamespace;

  /** The distinct {@code sourceLabels} of VirtualService http matches (see {@link #scope}). */
  private final List<Map<String, String>> sourceLabelSets;

  private PushContext(
      long version,
      ConfigSnapshot config,
      List<Workload> connected,
      PushContext previous,
      MeshConfig mesh) {
    this.version = version;
    this.mesh = mesh;
    this.config = config;
    // Services first, then ServiceEntry hosts oldest first; a host is declared once (the first
    // declaration wins, as a cluster name must be unique).
    Map<String, MeshService> byHost = new LinkedHashMap<>();
    for (StoredResource r : config.list(ResourceKind.SERVICE)) {
      MeshService s = MeshService.of(r.resource());
      byHost.putIfAbsent(s.hostname(), s);
    }
    for (Resource r : config.byAge(ResourceKind.SERVICE_ENTRY)) {
      for (MeshService s : MeshService.ofServiceEntry(r)) {
        byHost.putIfAbsent(s.hostname(), s);
      }
    }
    List<MeshService> svcs = new ArrayList<>(byHost.values());
    svcs.sort(Comparator.comparing(MeshService::hostname));
    this.services = List.copyOf(svcs);
    this.servicesByHost = byHost;

    List<Workload> all = new ArrayList<>(connected);
    for (StoredResource r : config.list(ResourceKind.WORKLOAD_ENTRY)) {
      WorkloadEntry we = r.resource().spec(WorkloadEntry.class);
      if (we.address() == null || we.address().isEmpty()) {
        continue;
      }
      all.add(
          new Workload(
              r.resource().metadata().name(),
              r.resource().metadata().namespace(),
              dev.weft.controlplane.gen.Localities.augment(
                  we.labels() == null ? Map.of() : we.labels(), we.locality()),
              we.address(),
              we.ports() == null ? Map.of() : we.ports(),
              we.serviceAccount(),
              Workload.Source.WORKLOAD_ENTRY));
    }
    this.workloads = List.copyOf(all);

    // Istio merges several DestinationRules for one host (DestinationRuleIndex); the rules with a
    // workloadSelector also decide which proxies share a scope (scope's key).
    this.destinationRules = DestinationRuleIndex.of(config, mesh.rootNamespace());
    Map<String, List<Resource>> selectorRules = new HashMap<>();
    for (Resource r : config.byAge(ResourceKind.DESTINATION_RULE)) {
      if (!r.spec(DestinationRule.class).workloadSelector().isEmpty()) {
        selectorRules.computeIfAbsent(r.metadata().namespace(), k -> new ArrayList<>()).add(r);
      }
    }
    this.selectorRulesByNamespace = selectorRules;
    Map<String, List<Resource>> sidecars = new HashMap<>();
    for (Resource r : config.byAge(ResourceKind.SIDECAR)) {
      sidecars.computeIfAbsent(r.metadata().namespace(), k -> new ArrayList<>()).add(r);
    }
    this.sidecarsByNamespace = sidecars;
    this.virtualServices = config.byAge(ResourceKind.VIRTUAL_SERVICE);
    this.gateways = config.byAge(ResourceKind.GATEWAY);
    Map<String, Resource> gws = new LinkedHashMap<>();
    for (Resource g : gateways) {
      gws.put(g.metadata().namespace() + "/" + g.metadata().name(), g);
    }
    this.gatewaysByName = gws;
    Set<Map<String, String>> labelSets = new LinkedHashSet<>();
    for (Resource r : virtualServices) {
      for (HttpRoute http : r.spec(VirtualService.class).http()) {
        for (HttpMatchRequest m :
            http.match() == null ? List.<HttpMatchRequest>of() : http.match()) {
          if (m != null && m.sourceLabels() != null && !m.sourceLabels().isEmpty()) {
            labelSets.add(Map.copyOf(m.sourceLabels()));
          }
        }
      }
      // tcp matches too: http_proxy's CONNECT routes follow them (gen/TcpRoutes.connect).
      for (Map<String, Object> tcp : r.spec(VirtualService.class).tcp()) {
        if (tcp.get("match") instanceof List<?> ms) {
          for (Object m : ms) {
            if (m instanceof Map<?, ?> mm && mm.get("sourceLabels") instanceof Map<?, ?> sl) {
              Map<String, String> set = new java.util.TreeMap<>();
              sl.forEach((k, v) -> set.put(String.valueOf(k), String.valueOf(v)));
              if (!set.isEmpty()) {
                labelSets.add(Map.copyOf(set));
              }
            }
          }
        }
      }
    }
    this.sourceLabelSets = List.copyOf(labelSets);
    if (previous == null) {
      this.changes = ConfigsUpdated.FULL;
      this.resources = new ResourceCache(null);
      this.routeBasis = Map.of();
    } else {
      boolean selectionSame =
          previous.workloads.equals(workloads)
              && previous.config.list(ResourceKind.SERVICE) == config.list(ResourceKind.SERVICE)
              && previous.config.list(ResourceKind.SERVICE_ENTRY)
                  == config.list(ResourceKind.SERVICE_ENTRY);
      if (selectionSame) {
        // The same services and workloads: who selects whom is the same (2000 workloads by 1000
        // services is two million label matches otherwise).
        for (String k : List.of(SELECTED_WORKLOADS, SERVICE_ACCOUNTS)) {
          Object v = previous.cache.get(k);
          if (v != null) {
            cache.put(k, v);
          }
        }
      }
      ConfigsUpdated c =
          widen(
              ConfigsUpdated.between(
                  previous.config,
                  previous.workloads,
                  config,
                  workloads,
                  !selectionSame
                      && !previous.serviceAccountsByHost().equals(serviceAccountsByHost())),
              previous);
      Map<String, Object> basis = Map.of();
      if (routingOnly(c)) {
        RouteChanges routes =
            RouteChanges.between(
                previous.config.list(ResourceKind.VIRTUAL_SERVICE),
                config.list(ResourceKind.VIRTUAL_SERVICE));
        if (routes != null) {
          c =
              c.withRoutes(
                  routes,
                  c.kinds().contains(ResourceKind.GATEWAY) || routes.affectsListeners(services));
          if (previous.sourceLabelSets.equals(sourceLabelSets)) {
            basis = new HashMap<>();
            for (Map.Entry<String, Object> e : previous.cache.entrySet()) {
              if (e.getKey().startsWith(SIDECAR_ROUTES)) {
                basis.put(e.getKey(), e.getValue());
              }
            }
          }
        }
      }
      this.changes = c;
      this.routeBasis = basis;
      // Generated resources that did not change are the previous context's objects: their
      // encodings are found there (only for routing changes; other changes regenerate everything).
      this.resources = new ResourceCache(basis.isEmpty() ? null : previous.resources);
    }
  }

  /** The cache key prefix of a sidecar scope's route configuration ({@code RouteGenerator}). */
  public static final String SIDECAR_ROUTES = "rds/sidecar/";

  private static final String SELECTED_WORKLOADS = "selected-workloads";
  private static final String SERVICES_BY_LABEL = "services-by-label";
  private static final String SERVICES_ORDER = "services-order";
  private static final String SERVICE_ACCOUNTS = "service-accounts-by-host";

  /**
   * Whether only VirtualServices and Gateways changed: the services, rules, Sidecars and workloads
   * that scopes and domains come from are the previous context's.
   */
  private static boolean routingOnly(ConfigsUpdated c) {
    if (c.full() || c.workloads() || c.serviceAccounts()) {
      return false;
    }
    for (ResourceKind k : c.kinds()) {
      if (k != ResourceKind.VIRTUAL_SERVICE && k != ResourceKind.GATEWAY) {
        return false;
      }
    }
    return true;
  }

  /**
   * The route configuration the previous context generated for the sidecar scope with key {@code
   * scopeKey}, when this context differs from it only in the routes of {@link
   * ConfigsUpdated#routes}'s hosts; else null (generate it whole).
   */
  public Object previousSidecarRoutes(String scopeKey) {
    return routeBasis.get(SIDECAR_ROUTES + scopeKey);
  }

  /**
   * The changes whose effect reaches further than {@link ConfigsUpdated}'s table by kind: with a
   * Sidecar present, a VirtualService change may change the clusters a scope imports (the hosts its
   * VirtualServices route to); with a DNS ServiceEntry selecting workloads, a workload change
   * changes the endpoints inline in its clusters. Either is then a change of every type.
   */
  private ConfigsUpdated widen(ConfigsUpdated c, PushContext previous) {
    if (c.full()) {
      return c;
    }
    boolean sidecars =
        !config.list(ResourceKind.SIDECAR).isEmpty()
            || !previous.config.list(ResourceKind.SIDECAR).isEmpty();
    if (sidecars && c.kinds().contains(ResourceKind.VIRTUAL_SERVICE)) {
      return c.merge(new ConfigsUpdated(false, Set.of(ResourceKind.SIDECAR), false, false));
    }
    if (c.workloads() || c.kinds().contains(ResourceKind.WORKLOAD_ENTRY)) {
      for (MeshService s : services) {
        if (!s.selector().isEmpty()
            && (s.resolution() == MeshService.Resolution.DNS
                || s.resolution() == MeshService.Resolution.DNS_ROUND_ROBIN)) {
          return c.merge(
              new ConfigsUpdated(false, Set.of(ResourceKind.SERVICE_ENTRY), false, false));
        }
      }
    }
    return c;
  }

  /**
   * Builds a push context from a store snapshot and the connected proxies' workloads; its {@link
   * #changes} are {@link ConfigsUpdated#FULL}.
   */
  public static PushContext build(long version, ConfigSnapshot config, List<Workload> connected) {
    return new PushContext(version, config, connected, null, MeshConfig.DEFAULT);
  }

  /** As {@link #build(long, ConfigSnapshot, List)}, with the mesh's settings. */
  public static PushContext build(
      long version, ConfigSnapshot config, List<Workload> connected, MeshConfig mesh) {
    return new PushContext(version, config, connected, null, mesh);
  }

  /**
   * Builds the push context that follows {@code previous}; its {@link #changes} say what differs
   * from it.
   */
  public static PushContext build(
      long version, ConfigSnapshot config, List<Workload> connected, PushContext previous) {
    return new PushContext(
        version,
        config,
        connected,
        previous,
        previous == null ? MeshConfig.DEFAULT : previous.mesh);
  }

  /** The mesh-wide settings this context was built with. */
  public MeshConfig mesh() {
    return mesh;
  }

  /** What changed since the previous context: which types a push regenerates. */
  public ConfigsUpdated changes() {
    return changes;
  }

  /** This context's generated resources, each encoded once (see {@link ResourceCache}). */
  public ResourceCache resources() {
    return resources;
  }

  /**
   * The oldest VirtualService that applies to the mesh ({@code gateways} empty or with {@code
   * mesh}) and has a host, other than {@code *}, that covers {@code hostname}; or null. Looked up
   * in an index built once per context, so that a proxy's routes cost what it sees, not every
   * VirtualService for every service.
   */
  public Resource meshVirtualService(String hostname) {
    return cached(VirtualServiceIndex.KEY, () -> VirtualServiceIndex.mesh(virtualServices))
        .first(hostname);
  }

  /**
   * As {@link #meshVirtualService(String)} for a sidecar in {@code namespace}: among the
   * VirtualServices exported to it ({@code exportTo}), those of its own namespace first (Istio's
   * private-then-exported order), each group oldest first.
   */
  public Resource meshVirtualService(String hostname, String namespace) {
    return cached(
            VirtualServiceIndex.KEY + "/" + namespace,
            () -> {
              List<Resource> own = new ArrayList<>();
              List<Resource> others = new ArrayList<>();
              for (Resource r : virtualServices) {
                String ns = r.metadata().namespace();
                if (ns.equals(namespace)) {
                  own.add(r);
                } else if (Visibility.visible(
                    r.spec(VirtualService.class).exportTo(), ns, namespace)) {
                  others.add(r);
                }
              }
              if (others.size() == virtualServices.size() - own.size() && own.isEmpty()) {
                return cached(
                    VirtualServiceIndex.KEY, () -> VirtualServiceIndex.mesh(virtualServices));
              }
              own.addAll(others);
              return VirtualServiceIndex.mesh(own);
            })
        .first(hostname);
  }

  /**
   * The VirtualService {@code namespace/name} a route delegates to (Istio's {@code delegate}), when
   * it exists, has no hosts (a delegate) and is exported to {@code rootNamespace}; else null.
   */
  public Resource delegate(String name, String namespace, String rootNamespace) {
    for (Resource r : virtualServices) {
      if (r.metadata().name().equals(name)
          && r.metadata().namespace().equals(namespace)
          && r.spec(VirtualService.class).hosts().isEmpty()
          && Visibility.visible(
              r.spec(VirtualService.class).exportTo(), namespace, rootNamespace)) {
        return r;
      }
    }
    return null;
  }

  /**
   * The DestinationRule that applies to {@code service} for a proxy in {@code proxyNamespace} with
   * {@code labels}, as Istio's {@code PushContext.destinationRule} and {@code
   * SidecarScope.DestinationRule}: the consolidated rules ({@link DestinationRuleIndex}: several
   * rules for one host merged) of the proxy's own namespace for the host if there are any, else
   * those of the service's namespace exported to it, else those of the root namespace exported to
   * it, the most specific host in each; among those, a rule of the proxy's namespace whose {@code
   * workloadSelector} selects the proxy wins, else the last without a selector. Null when none.
   */
  public Resource destinationRule(
      String proxyNamespace, Map<String, String> labels, MeshService service) {
    return DestinationRuleIndex.select(
        destinationRules.candidates(proxyNamespace, service.namespace(), service.hostname()),
        proxyNamespace,
        labels);
  }

  /** The DestinationRule index of this context (merged rules, their keys). */
  public DestinationRuleIndex destinationRules() {
    return destinationRules;
  }

  /**
   * The Sidecar resource that applies to a sidecar proxy in {@code namespace} with {@code labels},
   * as Istio's {@code getSidecarScope}: the oldest of its namespace whose {@code workloadSelector}
   * selects it, else the oldest of its namespace without a selector, else the oldest of the root
   * namespace without a selector (the mesh default); null when none.
   */
  public Resource sidecar(String namespace, Map<String, String> labels) {
    List<Resource> own = sidecarsByNamespace.getOrDefault(namespace, List.of());
    for (Resource r : own) {
      Map<String, String> sel = r.spec(Sidecar.class).workloadSelector();
      if (!sel.isEmpty() && Labels.matches(sel, labels)) {
        return r;
      }
    }
    for (Resource r : own) {
      if (r.spec(Sidecar.class).workloadSelector().isEmpty()) {
        return r;
      }
    }
    for (Resource r : sidecarsByNamespace.getOrDefault(mesh.rootNamespace(), List.of())) {
      if (r.spec(Sidecar.class).workloadSelector().isEmpty()) {
        return r;
      }
    }
    return null;
  }

  /**
   * What a proxy in {@code namespace} with {@code labels} is sent: its {@link ProxyScope}. Proxies
   * with the same namespace, Sidecar, selected DestinationRules and {@code sourceLabels} outcomes
   * share one scope object, and so the resources generated for it ({@link ProxyScope#key}).
   */
  public ProxyScope scope(String namespace, Map<String, String> labels, boolean router) {
    Resource sidecar = router ? null : sidecar(namespace, labels);
    StringBuilder key = new StringBuilder(router ? "router|" : "sidecar|").append(namespace);
    key.append('|');
    if (sidecar != null) {
      key.append(sidecar.metadata().namespace()).append('/').append(sidecar.metadata().name());
    }
    key.append('|');
    for (Resource r : selectorRulesByNamespace.getOrDefault(namespace, List.of())) {
      if (Labels.matches(r.spec(DestinationRule.class).workloadSelector(), labels)) {
        key.append(r.metadata().name()).append(',');
      }
    }
    key.append('|');
    for (Map<String, String> set : sourceLabelSets) {
      key.append(Labels.matches(set, labels) ? '1' : '0');
    }
    String k = key.toString();
    return cached("scope/" + k, () -> new ProxyScope(this, k, namespace, labels, router, sidecar));
  }

  /** This context's version (increases with every rebuild). */
  public long version() {
    return version;
  }

  /** The store snapshot it was built from. */
  public ConfigSnapshot config() {
    return config;
  }

  /** All Services, ordered by host. */
  public List<MeshService> services() {
    return services;
  }

  /** The Service with this FQDN, or null. */
  public MeshService service(String hostname) {
    return servicesByHost.get(hostname);
  }

  /** All workloads: connected proxies, then WorkloadEntries. */
  public List<Workload> workloads() {
    return workloads;
  }

  /**
   * The DestinationRule for a service host as a proxy without labels in the service's namespace
   * gets it (merged), or null; for callers that have no proxy in mind (the dashboard, EDS).
   */
  public Resource destinationRule(String hostname) {
    MeshService s = servicesByHost.get(hostname);
    return s == null ? null : destinationRule(s.namespace(), Map.of(), s);
  }

  /** The subsets defined for a service host (empty without a DestinationRule). */
  public List<Subset> subsets(String hostname) {
    Resource dr = destinationRule(hostname);
    if (dr == null) {
      return List.of();
    }
    List<Subset> subsets = dr.spec(DestinationRule.class).subsets();
    return subsets == null ? List.of() : subsets;
  }

  /** The subset named {@code subset} of {@code hostname}, or null. */
  public Subset subset(String hostname, String subset) {
    for (Subset s : subsets(hostname)) {
      if (s.name().equals(subset)) {
        return s;
      }
    }
    return null;
  }

  /** VirtualServices, oldest first. */
  public List<Resource> virtualServices() {
    return virtualServices;
  }

  /** Gateways, oldest first. */
  public List<Resource> gateways() {
    return gateways;
  }

  /** The Gateway named {@code namespace/name}, or null. */
  public Resource gateway(String namespacedName) {
    return gatewaysByName.get(namespacedName);
  }

  /**
   * A value computed once per push context, for results every proxy shares (endpoints, outbound
   * clusters). {@code compute} may use other cached values. A thread that asks for a key another
   * thread is computing waits for that result ({@link Pending}); a computation that fails is
   * forgotten (the next caller computes again).
   */
  public <T> T cached(String key, java.util.function.Supplier<T> compute) {
    Object value = cache.get(key);
    return value == null
        ? Pending.computeOnce(cache, key, compute)
        : Pending.valueOf(value, compute);
  }

  /**
   * The Services that select {@code workload}, ordered by host; immutable. Found once per push for
   * each namespace and labels (a proxy's listeners and clusters ask several times, and each
   * question scanned every Service: at 2000 proxies and 1000 Services, millions of selector matches
   * per sync, issue #10).
   */
  public List<MeshService> servicesSelecting(Workload workload) {
    return selecting.computeIfAbsent(
        new Selected(workload.namespace(), workload.labels()),
        k -> {
          List<MeshService> out = new ArrayList<>();
          // Only the Services whose selector's first label the workload has: the others cannot
          // select it (a scan of every Service per workload was a million selector matches per
          // push at 2000 proxies and 1000 Services, issue #10).
          Map<String, List<MeshService>> byLabel = servicesByLabel();
          for (Map.Entry<String, String> label : workload.labels().entrySet()) {
            String key = labelKey(workload.namespace(), label.getKey(), label.getValue());
            // Each service is under one key, and a workload has each key once: no repeats.
            for (MeshService s : byLabel.getOrDefault(key, List.of())) {
              // A ServiceEntry's workloadSelector makes the workload an endpoint of it; its
              // inbound ports stay those of the Services that select it.
              if (!s.isServiceEntry() && s.selects(workload)) {
                out.add(s);
              }
            }
          }
          out.sort(java.util.Comparator.comparingInt(servicesOrder()::get));
          return List.copyOf(out);
        });
  }

  /**
   * Each namespace's {@code key=value} (as {@link #labelKey}) → the services (in {@link #services}
   * order) whose selector's first entry it is: a workload is selected only by services found under
   * one of its own labels. Once per context.
   */
  private Map<String, List<MeshService>> servicesByLabel() {
    return cached(
        SERVICES_BY_LABEL,
        () -> {
          Map<String, List<MeshService>> m = new java.util.HashMap<>();
          for (MeshService s : services) {
            if (s.selector().isEmpty()) {
              continue; // selects none
            }
            Map.Entry<String, String> first = s.selector().entrySet().iterator().next();
            m.computeIfAbsent(
                    labelKey(s.namespace(), first.getKey(), first.getValue()),
                    k -> new ArrayList<>())
                .add(s);
          }
          return m;
        });
  }

  /** Each service's position in {@link #services}. Once per context. */
  private Map<MeshService, Integer> servicesOrder() {
    return cached(
        SERVICES_ORDER,
        () -> {
          Map<MeshService, Integer> m = new java.util.IdentityHashMap<>();
          for (int i = 0; i < services.size(); i++) {
            m.putIfAbsent(services.get(i), i);
          }
          return m;
        });
  }

  private static String labelKey(String namespace, String key, String value) {
    return namespace + '\u0000' + key + '\u0000' + value;
  }

  /** What {@link MeshService#selects} reads of a workload. */
  private record Selected(String namespace, Map<String, String> labels) {}

  private final Map<Selected, List<MeshService>> selecting =
      new java.util.concurrent.ConcurrentHashMap<>();

  /**
   * The endpoints of a service port, restricted to workloads carrying {@code subsetLabels} (all
   * when empty), ordered by address and port. Workloads whose port cannot be resolved (a named
   * targetPort they do not declare) are skipped.
   */
  public List<Endpoint> endpoints(
      MeshService service, MeshService.Port port, Map<String, String> subsetLabels) {
    List<Endpoint> out = new ArrayList<>();
    java.util.Set<String> seen = new java.util.HashSet<>();
    List<Workload> candidates = selected(service);
    if (!service.endpoints().isEmpty()) {
      candidates = new ArrayList<>(candidates);
      candidates.addAll(entryEndpoints(service));
    }
    for (Workload w : candidates) {
      if (!Labels.matches(subsetLabels, w.labels())) {
        continue;
      }
      int target = w.targetPort(port.spec());
      // One endpoint per address and port, even when a proxy's old stream is still open.
      if (target <= 0 || !seen.add(w.address() + ":" + target)) {
        continue;
      }
      out.add(new Endpoint(w.address(), target, w));
    }
    out.sort(Comparator.comparing(Endpoint::address).thenComparingInt(Endpoint::port));
    return out;
  }

  /**
   * For each Service host, the {@code namespace/serviceAccount}s of the workloads it selects (what
   * upstream mTLS verifies, {@code MeshTls.serviceAccounts}); once per context.
   */
  private Map<String, java.util.Set<String>> serviceAccountsByHost() {
    return cached(
        SERVICE_ACCOUNTS,
        () -> {
          Map<String, java.util.Set<String>> m = new java.util.HashMap<>();
          for (MeshService s : services) {
            java.util.Set<String> sas = new java.util.TreeSet<>();
            for (Workload w : selected(s)) {
              if (w.serviceAccount() != null && !w.serviceAccount().isEmpty()) {
                sas.add(w.namespace() + "/" + w.serviceAccount());
              }
            }
            m.put(s.hostname(), sas);
          }
          return m;
        });
  }

  /**
   * A ServiceEntry's own {@code endpoints} as workloads of its namespace (named {@code
   * host#index}): the port of an endpoint is its {@code ports} entry for the port name, else the
   * port's {@code targetPort}, else the port number (Istio's {@code convertEndpoint}).
   */
  public static List<Workload> entryEndpoints(MeshService service) {
    List<Workload> out = new ArrayList<>();
    int i = 0;
    for (WorkloadEntry we : service.endpoints()) {
      out.add(
          new Workload(
              service.hostname() + "#" + i++,
              service.namespace(),
              we.labels() == null ? Map.of() : we.labels(),
              we.address() == null || we.address().isEmpty() ? service.hostname() : we.address(),
              we.ports() == null ? Map.of() : we.ports(),
              we.serviceAccount(),
              Workload.Source.WORKLOAD_ENTRY));
    }
    return out;
  }

  /** The workloads {@code service} selects, in {@link #workloads} order; once per context. */
  public List<Workload> selected(MeshService service) {
    Map<String, List<Workload>> byHost =
        cached(
            SELECTED_WORKLOADS,
            () -> {
              // Each workload under each of its namespace's labels, in workloads order: a
              // service's candidates are those with its selector's first label, not every
              // workload (1000 Services by 2000 workloads were two million matches a push).
              Map<String, List<Workload>> byLabel = new java.util.HashMap<>();
              for (Workload w : workloads) {
                for (Map.Entry<String, String> e : w.labels().entrySet()) {
                  byLabel
                      .computeIfAbsent(
                          labelKey(w.namespace(), e.getKey(), e.getValue()), k -> new ArrayList<>())
                      .add(w);
                }
              }
              Map<String, List<Workload>> m = new java.util.HashMap<>();
              for (MeshService s : services) {
                List<Workload> sel = new ArrayList<>();
                if (!s.selector().isEmpty()) {
                  Map.Entry<String, String> first = s.selector().entrySet().iterator().next();
                  for (Workload w :
                      byLabel.getOrDefault(
                          labelKey(s.namespace(), first.getKey(), first.getValue()), List.of())) {
                    if (s.selects(w)) {
                      sel.add(w);
                    }
                  }
                }
                m.put(s.hostname(), List.copyOf(sel));
              }
              return m;
            });
    List<Workload> sel = byHost.get(service.hostname());
    if (sel != null && servicesByHost.get(service.hostname()) == service) {
      return sel;
    }
    List<Workload> out = new ArrayList<>(); // a service not of this context
    for (Workload w : workloads) {
      if (service.selects(w)) {
        out.add(w);
      }
    }
    return out;
  }
}
