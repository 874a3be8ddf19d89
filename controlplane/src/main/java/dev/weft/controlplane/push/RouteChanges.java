package dev.weft.controlplane.push;

import dev.weft.api.Resource;
import dev.weft.api.networking.HttpRoute;
import dev.weft.api.networking.VirtualService;
import dev.weft.controlplane.registry.Hosts;
import dev.weft.controlplane.registry.MeshService;
import dev.weft.controlplane.store.StoredResource;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Which hosts' routes a VirtualService change may alter: the affected-names half of Istio's {@code
 * ConfigsUpdated} for VirtualServices (Istio keys its XdsCache entries by the hosts they were built
 * from and clears those of the changed VirtualService's hosts). A VirtualService added, removed or
 * changed affects every host it names before and after the change (so a VirtualService that moves
 * its host affects the old host and the new one; exportTo and gateways changes affect its hosts for
 * every scope); a delegate (a VirtualService without hosts) affects the hosts of every
 * VirtualService that delegates to it, before or after. The answer may be wider than what changes,
 * never narrower; {@code null} means every host ({@code *}).
 *
 * <p>Immutable and thread-safe.
 */
public final class RouteChanges {
  private final Set<String> exact;
  private final List<String> wildcards;
  private final boolean gateways;

  private RouteChanges(Set<String> exact, List<String> wildcards, boolean gateways) {
    this.exact = Set.copyOf(exact);
    this.wildcards = List.copyOf(wildcards);
    this.gateways = gateways;
  }

  /**
   * What differs between the VirtualServices {@code before} and {@code after} (each a store table),
   * or null when any host may be affected (a changed VirtualService names {@code *}).
   */
  public static RouteChanges between(List<StoredResource> before, List<StoredResource> after) {
    Map<Object, StoredResource> old = new HashMap<>();
    for (StoredResource r : before) {
      old.put(r.key(), r);
    }
    Map<Object, StoredResource> now = new HashMap<>();
    for (StoredResource r : after) {
      now.put(r.key(), r);
    }
    List<Resource> changed = new ArrayList<>();
    for (StoredResource r : after) {
      StoredResource o = old.get(r.key());
      if (o == null || o.resourceVersion() != r.resourceVersion()) {
        changed.add(r.resource());
        if (o != null) {
          changed.add(o.resource());
        }
      }
    }
    for (StoredResource o : before) {
      if (!now.containsKey(o.key())) {
        changed.add(o.resource());
      }
    }
    Set<String> hosts = new HashSet<>();
    boolean gateways = false;
    for (Resource vs : changed) {
      VirtualService spec = vs.spec(VirtualService.class);
      gateways |= routesGateways(spec);
      if (spec.hosts().isEmpty()) {
        // A delegate: the roots that delegate to it, in either table, get its routes.
        String name = vs.metadata().name();
        String ns = vs.metadata().namespace();
        for (List<StoredResource> table : List.of(before, after)) {
          for (StoredResource r : table) {
            if (delegatesTo(r.resource(), name, ns)) {
              VirtualService root = r.resource().spec(VirtualService.class);
              gateways |= routesGateways(root);
              addHosts(r.resource(), hosts);
            }
          }
        }
      } else {
        addHosts(vs, hosts);
      }
    }
    if (hosts.contains("*")) {
      return null;
    }
    Set<String> exact = new HashSet<>();
    List<String> wildcards = new ArrayList<>();
    for (String h : hosts) {
      if (h.startsWith("*")) {
        wildcards.add(h);
      } else {
        exact.add(h);
      }
    }
    return new RouteChanges(exact, wildcards, gateways);
  }

  private static boolean routesGateways(VirtualService vs) {
    for (String g : vs.gateways()) {
      if (!g.equals("mesh")) {
        return true;
      }
    }
    return false;
  }

  private static void addHosts(Resource vs, Set<String> out) {
    for (String h : vs.spec(VirtualService.class).hosts()) {
      out.add(Hosts.resolve(h, vs.metadata().namespace()));
    }
  }

  /** Whether {@code root} has an http route delegating to {@code namespace/name}. */
  private static boolean delegatesTo(Resource root, String name, String namespace) {
    for (HttpRoute http : root.spec(VirtualService.class).http()) {
      if (http.delegate() == null) {
        continue;
      }
      String ns =
          http.delegate().namespace() == null || http.delegate().namespace().isEmpty()
              ? root.metadata().namespace()
              : http.delegate().namespace();
      if (Objects.equals(http.delegate().name(), name) && ns.equals(namespace)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Whether the routes of service host {@code hostname} may differ: a changed VirtualService names
   * it, or a wildcard covering it (or, for a wildcard service host, covered by it).
   */
  public boolean affects(String hostname) {
    if (exact.contains(hostname)) {
      return true;
    }
    for (String w : wildcards) {
      if (Hosts.matches(w, hostname)) {
        return true;
      }
    }
    if (hostname.startsWith("*")) {
      for (String h : exact) {
        if (Hosts.matches(hostname, h)) {
          return true;
        }
      }
      for (String w : wildcards) {
        if (Hosts.matches(hostname, w) || Hosts.matches(w, hostname)) {
          return true;
        }
      }
    }
    return false;
  }

  /** Whether nothing changed. */
  public boolean isEmpty() {
    return exact.isEmpty() && wildcards.isEmpty() && !gateways;
  }

  /** Whether a changed VirtualService applies to a Gateway (its routes and listeners). */
  public boolean gateways() {
    return gateways;
  }

  /**
   * Whether a sidecar's listeners may differ: an affected service has a port whose listener reads
   * VirtualServices (TCP and TLS routes, and a sniffed port's inline HTTP routes); only the ports
   * served by the outbound HTTP proxy alone ({@code http_proxy}: HTTP, HTTP/2, gRPC, gRPC-Web) do
   * not. A change that reaches a Gateway's VirtualServices changes its listeners too.
   */
  public boolean affectsListeners(List<MeshService> services) {
    if (gateways) {
      return true;
    }
    for (MeshService s : services) {
      if (!affects(s.hostname())) {
        continue;
      }
      for (MeshService.Port p : s.ports()) {
        switch (p.protocol()) {
          case HTTP, HTTP2, GRPC, GRPC_WEB -> {}
          default -> {
            return true;
          }
        }
      }
    }
    return false;
  }

  /** The exact hosts (for tests and logs). */
  Set<String> exactHosts() {
    return exact;
  }

  @Override
  public String toString() {
    return "RouteChanges" + exact + wildcards + (gateways ? " +gateways" : "");
  }
}
