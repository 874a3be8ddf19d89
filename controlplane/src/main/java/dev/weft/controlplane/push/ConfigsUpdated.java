package dev.weft.controlplane.push;

import dev.weft.api.ResourceKind;
import dev.weft.controlplane.registry.Workload;
import dev.weft.controlplane.store.ConfigSnapshot;
import dev.weft.controlplane.store.StoredResource;
import dev.weft.xds.TypeUrls;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * What changed between two push contexts, and so which xDS types a push must regenerate: Istio's
 * {@code PushRequest.ConfigsUpdated} and {@code ProxyNeedsPush}/{@code DefaultProxyNeedsPush} at
 * the level of kinds and types.
 *
 * <p>The table is deliberately narrow, since it lets a push skip generators entirely: the connected
 * workloads and WorkloadEntries feed only EDS; VirtualServices and Gateways feed only RDS and LDS;
 * Secrets feed only SDS, and SDS nothing else; any other kind (Services, DestinationRules, and the
 * security kinds whose generators read them) regenerates every type; a ProxyConfig, none. A
 * generator that starts reading a kind outside its row must widen {@link #affects}; {@code
 * ConfigsUpdatedTest} checks the table against the generators' output.
 *
 * @param full every type (the first context, or nothing to compare with)
 * @param kinds the resource kinds with an added, removed or changed resource
 * @param workloads whether the workloads (connected proxies and WorkloadEntries) changed
 * @param serviceAccounts whether the service accounts of the workloads some Service selects changed
 * @param routes for a change of VirtualServices, the hosts whose routes may differ ({@link
 *     RouteChanges}); null when unknown or any host (then every route is regenerated)
 * @param listeners whether listeners may differ when only VirtualServices and Gateways changed
 *     (false when the changed VirtualServices' hosts are served by the HTTP proxy alone: Istio's
 *     {@code ProxyNeedsPush} skips LDS the same way)
 */
public record ConfigsUpdated(
    boolean full,
    Set<ResourceKind> kinds,
    boolean workloads,
    boolean serviceAccounts,
    RouteChanges routes,
    boolean listeners) {
  /** Everything: every type of every proxy is regenerated. */
  public static final ConfigsUpdated FULL = new ConfigsUpdated(true, Set.of(), false, false);

  private static final Set<ResourceKind> EDS_ONLY = EnumSet.of(ResourceKind.WORKLOAD_ENTRY);
  private static final Set<ResourceKind> SECRETS_ONLY = EnumSet.of(ResourceKind.SECRET);

  /**
   * Kinds no generator reads: a ProxyConfig is read when a proxy starts ({@link
   * dev.weft.controlplane.mesh.ProxyConfigs}), as Istio's, and a change of one pushes nothing.
   */
  private static final Set<ResourceKind> NOT_PUSHED = EnumSet.of(ResourceKind.PROXY_CONFIG);

  private static final Set<ResourceKind> ROUTING =
      EnumSet.of(ResourceKind.VIRTUAL_SERVICE, ResourceKind.GATEWAY);

  public ConfigsUpdated {
    kinds = kinds.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(kinds));
  }

  /** A change with no knowledge of which routes changed: every route, and listeners may change. */
  public ConfigsUpdated(
      boolean full, Set<ResourceKind> kinds, boolean workloads, boolean serviceAccounts) {
    this(full, kinds, workloads, serviceAccounts, null, true);
  }

  /**
   * This change, knowing that its VirtualService changes affect {@code routes} only, and listeners
   * only if {@code listeners}.
   */
  ConfigsUpdated withRoutes(RouteChanges routes, boolean listeners) {
    return new ConfigsUpdated(full, kinds, workloads, serviceAccounts, routes, listeners);
  }

  /**
   * The difference between {@code before} and {@code after} (each a snapshot and workloads); {@code
   * serviceAccounts}: whether the service accounts by Service differ.
   */
  public static ConfigsUpdated between(
      ConfigSnapshot before,
      List<Workload> workloadsBefore,
      ConfigSnapshot after,
      List<Workload> workloadsAfter,
      boolean serviceAccounts) {
    Set<ResourceKind> kinds = EnumSet.noneOf(ResourceKind.class);
    for (ResourceKind kind : ResourceKind.values()) {
      if (NOT_PUSHED.contains(kind)) {
        continue;
      }
      if (!same(before.list(kind), after.list(kind))) {
        kinds.add(kind);
      }
    }
    return new ConfigsUpdated(
        false, kinds, !workloadsBefore.equals(workloadsAfter), serviceAccounts);
  }

  private static boolean same(List<StoredResource> a, List<StoredResource> b) {
    if (a == b) {
      return true; // the store shares an unchanged kind's table between snapshots
    }
    if (a.size() != b.size()) {
      return false;
    }
    for (int i = 0; i < a.size(); i++) {
      StoredResource x = a.get(i);
      StoredResource y = b.get(i);
      if (x.resourceVersion() != y.resourceVersion() || !x.key().equals(y.key())) {
        return false;
      }
    }
    return true;
  }

  /** Whether nothing changed: a push has nothing to regenerate. */
  public boolean isEmpty() {
    return !full && kinds.isEmpty() && !workloads && !serviceAccounts;
  }

  /** Whether resources of {@code typeUrl} may differ after this change, for any proxy. */
  public boolean affects(String typeUrl) {
    if (full) {
      return true;
    }
    if (typeUrl.equals(TypeUrls.SECRET)) {
      return kinds.contains(ResourceKind.SECRET); // SDS reads the Secrets only
    }
    if (SECRETS_ONLY.containsAll(kinds) && !kinds.isEmpty() && !workloads && !serviceAccounts) {
      return false; // Secrets only: SDS above
    }
    boolean endpointsOnly = EDS_ONLY.containsAll(kinds);
    boolean routingOnly = ROUTING.containsAll(kinds) && !workloads;
    if (!endpointsOnly && !routingOnly) {
      return true; // some other kind: everything
    }
    return switch (typeUrl) {
      case TypeUrls.ENDPOINT -> endpointsOnly && (workloads || !kinds.isEmpty());
      case TypeUrls.ROUTE -> routingOnly && !kinds.isEmpty();
      case TypeUrls.LISTENER -> routingOnly && !kinds.isEmpty() && listeners;
      case TypeUrls.CLUSTER -> endpointsOnly && serviceAccounts;
      default -> true;
    };
  }

  /** The union of two changes (pushes coalesced for a connection that was not ready). */
  public ConfigsUpdated merge(ConfigsUpdated other) {
    if (full || other.full) {
      return FULL;
    }
    Set<ResourceKind> k = EnumSet.noneOf(ResourceKind.class);
    k.addAll(kinds);
    k.addAll(other.kinds);
    return new ConfigsUpdated(
        false,
        k,
        workloads || other.workloads,
        serviceAccounts || other.serviceAccounts,
        null,
        listeners || other.listeners);
  }
}
