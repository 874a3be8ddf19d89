package dev.weft.controlplane.push;

import dev.weft.api.Resource;
import dev.weft.api.ResourceKind;
import dev.weft.api.networking.DestinationRule;
import dev.weft.api.networking.Subset;
import dev.weft.api.networking.WorkloadEntry;
import dev.weft.controlplane.registry.Hosts;
import dev.weft.controlplane.registry.Labels;
import dev.weft.controlplane.registry.MeshService;
import dev.weft.controlplane.registry.Workload;
import dev.weft.controlplane.store.ConfigSnapshot;
import dev.weft.controlplane.store.StoredResource;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

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
  private final Map<String, Resource> destinationRulesByHost;
  private final List<Resource> virtualServices;
  private final List<Resource> gateways;
  private final Map<String, Resource> gatewaysByName;
  private final Map<String, Object> cache = new java.util.concurrent.ConcurrentHashMap<>();
  private final ResourceCache resources = new ResourceCache();
  private final ConfigsUpdated changes;
  private final dev.weft.controlplane.mesh.MeshConfig mesh;

  private PushContext(
      long version,
      ConfigSnapshot config,
      List<Workload> connected,
      PushContext previous,
      dev.weft.controlplane.mesh.MeshConfig mesh) {
    this.version = version;
    this.mesh = mesh;
    this.config = config;
    List<MeshService> svcs = new ArrayList<>();
    for (StoredResource r : config.list(ResourceKind.SERVICE)) {
      svcs.add(MeshService.of(r.resource()));
    }
    svcs.sort(Comparator.comparing(MeshService::hostname));
    this.services = List.copyOf(svcs);
    Map<String, MeshService> byHost = new LinkedHashMap<>();
    for (MeshService s : svcs) {
      byHost.put(s.hostname(), s);
    }
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

    // Istio: for one host, the oldest DestinationRule wins (later ones are merged only when they
    // do not conflict; Weft keeps the first).
    Map<String, Resource> drs = new TreeMap<>();
    for (Resource r : config.byAge(ResourceKind.DESTINATION_RULE)) {
      DestinationRule dr = r.spec(DestinationRule.class);
      String host = Hosts.resolve(dr.host(), r.metadata().namespace());
      drs.putIfAbsent(host, r);
    }
    this.destinationRulesByHost = drs;
    this.virtualServices = config.byAge(ResourceKind.VIRTUAL_SERVICE);
    this.gateways = config.byAge(ResourceKind.GATEWAY);
    Map<String, Resource> gws = new LinkedHashMap<>();
    for (Resource g : gateways) {
      gws.put(g.metadata().namespace() + "/" + g.metadata().name(), g);
    }
    this.gatewaysByName = gws;
    this.changes =
        previous == null
            ? ConfigsUpdated.FULL
            : ConfigsUpdated.between(
                previous.config,
                previous.workloads,
                config,
                workloads,
                !previous.serviceAccountsByHost().equals(serviceAccountsByHost()));
  }

  /**
   * Builds a push context from a store snapshot and the connected proxies' workloads; its {@link
   * #changes} are {@link ConfigsUpdated#FULL}.
   */
  public static PushContext build(long version, ConfigSnapshot config, List<Workload> connected) {
    return new PushContext(
        version, config, connected, null, dev.weft.controlplane.mesh.MeshConfig.DEFAULT);
  }

  /** A first push context with a mesh config. */
  public static PushContext build(
      long version,
      ConfigSnapshot config,
      List<Workload> connected,
      dev.weft.controlplane.mesh.MeshConfig mesh) {
    return new PushContext(version, config, connected, null, mesh);
  }

  /**
   * Builds the push context that follows {@code previous}; its {@link #changes} say what differs
   * from it.
   */
  public static PushContext build(
      long version, ConfigSnapshot config, List<Workload> connected, PushContext previous) {
    return new PushContext(version, config, connected, previous, previous.mesh);
  }

  /** The mesh config (Istio's MeshConfig; the same for every context of a control plane). */
  public dev.weft.controlplane.mesh.MeshConfig mesh() {
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

  /** The DestinationRule for a service host, or null. */
  public Resource destinationRule(String hostname) {
    return destinationRulesByHost.get(hostname);
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
   * clusters). {@code compute} may use other cached values; two threads may both compute, and one
   * result wins.
   */
  @SuppressWarnings("unchecked")
  public <T> T cached(String key, java.util.function.Supplier<T> compute) {
    Object value = cache.get(key);
    if (value == null) {
      value = compute.get();
      Object prev = cache.putIfAbsent(key, value);
      if (prev != null) {
        value = prev;
      }
    }
    return (T) value;
  }

  /** The Services that select {@code workload}, ordered by host. */
  public List<MeshService> servicesSelecting(Workload workload) {
    List<MeshService> out = new ArrayList<>();
    for (MeshService s : services) {
      if (s.selects(workload)) {
        out.add(s);
      }
    }
    return out;
  }

  /**
   * The endpoints of a service port, restricted to workloads carrying {@code subsetLabels} (all
   * when empty), ordered by address and port. Workloads whose port cannot be resolved (a named
   * targetPort they do not declare) are skipped.
   */
  public List<Endpoint> endpoints(
      MeshService service, MeshService.Port port, Map<String, String> subsetLabels) {
    List<Endpoint> out = new ArrayList<>();
    java.util.Set<String> seen = new java.util.HashSet<>();
    for (Workload w : selected(service)) {
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
        "service-accounts-by-host",
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

  /** The workloads {@code service} selects, in {@link #workloads} order; once per context. */
  private List<Workload> selected(MeshService service) {
    Map<String, List<Workload>> byHost =
        cached(
            "selected-workloads",
            () -> {
              Map<String, List<Workload>> m = new java.util.HashMap<>();
              for (MeshService s : services) {
                List<Workload> sel = new ArrayList<>();
                for (Workload w : workloads) {
                  if (s.selects(w)) {
                    sel.add(w);
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
