package dev.weft.controlplane.push;

import dev.weft.api.Resource;
import dev.weft.api.networking.Destination;
import dev.weft.api.networking.HttpMirrorPolicy;
import dev.weft.api.networking.HttpRoute;
import dev.weft.api.networking.HttpRouteDestination;
import dev.weft.api.networking.Sidecar;
import dev.weft.api.networking.VirtualService;
import dev.weft.controlplane.mesh.MeshConfig;
import dev.weft.controlplane.registry.Hosts;
import dev.weft.controlplane.registry.Labels;
import dev.weft.controlplane.registry.MeshService;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What one class of proxies sees in a push context: Istio's {@code SidecarScope} with the parts of
 * the push that depend on the proxy. Its services are those exported to the proxy's namespace
 * ({@code exportTo}) and, for a sidecar under a Sidecar resource, those its {@code egress.hosts}
 * import (plus the services that the imported hosts' VirtualServices route to, as Istio adds them);
 * its DestinationRules are chosen per host for the proxy's namespace and labels; its outbound
 * traffic policy is the Sidecar's or the mesh's.
 *
 * <p>Made by {@link PushContext#scope}, once per {@link #key} and push context; immutable (the
 * per-host rule lookups are memoised). Generators key the resources they share between proxies by
 * {@link #key}, so proxies in different scopes never share a generated resource.
 */
public final class ProxyScope {
  private final PushContext context;
  private final String key;
  private final String namespace;
  private final Map<String, String> labels;
  private final boolean router;
  private final Resource sidecar;
  private final boolean registryOnly;
  private final List<MeshService> routed;
  private final List<MeshService> services;
  private final Map<String, Object> rules = new ConcurrentHashMap<>();
  private volatile String clusterKey;
  private static final Object NONE = new Object();

  ProxyScope(
      PushContext context,
      String key,
      String namespace,
      Map<String, String> labels,
      boolean router,
      Resource sidecar) {
    this.context = context;
    this.key = key;
    this.namespace = namespace;
    this.labels = Map.copyOf(labels);
    this.router = router;
    this.sidecar = sidecar;
    Sidecar spec = sidecar == null ? null : sidecar.spec(Sidecar.class);
    String mode =
        spec != null && !spec.outboundTrafficPolicyMode().isEmpty()
            ? spec.outboundTrafficPolicyMode()
            : context.mesh().outboundTrafficPolicy();
    this.registryOnly = MeshConfig.REGISTRY_ONLY.equals(mode);
    List<String> egressHosts = new ArrayList<>();
    if (spec != null) {
      for (Sidecar.EgressListener e : spec.egress()) {
        egressHosts.addAll(e.hosts());
      }
    }
    List<MeshService> visible = new ArrayList<>();
    List<MeshService> imported = new ArrayList<>();
    for (MeshService s : context.services()) {
      if (!s.visibleTo(namespace)) {
        continue;
      }
      visible.add(s);
      // Istio: a Sidecar without egress listeners imports every visible service.
      if (spec == null || egressHosts.isEmpty() || imports(egressHosts, s)) {
        imported.add(s);
      }
    }
    this.routed = List.copyOf(imported);
    if (imported.size() == visible.size()) {
      this.services = this.routed;
    } else {
      // Istio adds the services the imported hosts' VirtualServices send to.
      Set<String> hosts = new LinkedHashSet<>();
      for (MeshService s : imported) {
        hosts.add(s.hostname());
        Resource vs = context.meshVirtualService(s.hostname(), namespace);
        if (vs != null) {
          destinations(vs, hosts);
        }
      }
      List<MeshService> all = new ArrayList<>();
      for (MeshService s : visible) {
        if (hosts.contains(s.hostname())) {
          all.add(s);
        }
      }
      this.services = List.copyOf(all);
    }
  }

  /**
   * Whether Sidecar {@code egress.hosts} import {@code service}: an entry {@code ns/host} whose
   * namespace is {@code *}, {@code .} (the proxy's namespace: a root-namespace default Sidecar's
   * {@code .} is the proxy's too, as Istio converts it per namespace) or the service's, never
   * {@code ~}; and whose host is {@code *}, a wildcard covering the service's host, or that host.
   */
  private boolean imports(List<String> egressHosts, MeshService service) {
    for (String entry : egressHosts) {
      int slash = entry.indexOf('/');
      String ns = slash < 0 ? "*" : entry.substring(0, slash);
      String host = slash < 0 ? entry : entry.substring(slash + 1);
      boolean nsMatches =
          switch (ns) {
            case "*" -> true;
            case "~" -> false;
            case "." -> service.namespace().equals(namespace);
            default -> service.namespace().equals(ns);
          };
      if (nsMatches
          && (host.equals("*")
              || Hosts.matches(host, service.hostname())
              || (service.wildcard() && Hosts.matches(service.hostname(), host)))) {
        return true;
      }
    }
    return false;
  }

  /** Adds the hosts of {@code vs}'s http (and delegated) and tcp destinations and mirrors. */
  private void destinations(Resource vs, Set<String> out) {
    VirtualService spec = vs.spec(VirtualService.class);
    String ns = vs.metadata().namespace();
    for (HttpRoute http : spec.http()) {
      httpDestinations(http, ns, out);
      if (http.delegate() != null) {
        String dns =
            http.delegate().namespace() == null || http.delegate().namespace().isEmpty()
                ? ns
                : http.delegate().namespace();
        Resource d = context.delegate(http.delegate().name(), dns, ns);
        if (d != null) {
          for (HttpRoute dh : d.spec(VirtualService.class).http()) {
            httpDestinations(dh, dns, out);
          }
        }
      }
    }
    for (Map<String, Object> tcp : spec.tcp()) {
      if (tcp.get("route") instanceof List<?> routes) {
        for (Object r : routes) {
          if (r instanceof Map<?, ?> m
              && m.get("destination") instanceof Map<?, ?> d
              && d.get("host") instanceof String h) {
            out.add(Hosts.resolve(h, ns));
          }
        }
      }
    }
  }

  private static void httpDestinations(HttpRoute http, String ns, Set<String> out) {
    for (HttpRouteDestination d : http.route()) {
      add(d.destination(), ns, out);
    }
    add(http.mirror(), ns, out);
    for (HttpMirrorPolicy m : http.mirrors()) {
      add(m.destination(), ns, out);
    }
  }

  private static void add(Destination d, String ns, Set<String> out) {
    if (d != null && d.host() != null) {
      out.add(Hosts.resolve(d.host(), ns));
    }
  }

  /**
   * The key of this scope: proxies with equal keys get equal configuration from one push context.
   */
  public String key() {
    return key;
  }

  /** The proxies' labels. */
  public Map<String, String> labels() {
    return labels;
  }

  /** The proxies' namespace. */
  public String namespace() {
    return namespace;
  }

  /** Whether these are gateways. */
  public boolean router() {
    return router;
  }

  /** The Sidecar resource that applies, or null. */
  public Resource sidecar() {
    return sidecar;
  }

  /**
   * Whether hosts outside the registry are refused ({@code REGISTRY_ONLY}, the Sidecar's {@code
   * outboundTrafficPolicy} over the mesh's), rather than passed through ({@code ALLOW_ANY}).
   */
  public boolean registryOnly() {
    return registryOnly;
  }

  /** The services the proxies get clusters for, ordered by host. */
  public List<MeshService> services() {
    return services;
  }

  /**
   * The services the proxies get outbound routes (virtual hosts) for, ordered by host: those
   * imported by the Sidecar's {@code egress.hosts} (all visible ones without a Sidecar).
   */
  public List<MeshService> routed() {
    return routed;
  }

  /**
   * A short key for what the proxies' outbound clusters depend on in this scope: its services and
   * the DestinationRule chosen for each (and whether these are gateways). Scopes that differ only
   * in what does not change clusters (the namespace's short names, {@code sourceLabels}, the routed
   * hosts) share it, so their clusters are generated and encoded once per push.
   */
  public String clusterKey() {
    String k = clusterKey;
    if (k == null) {
      StringBuilder content = new StringBuilder(router ? "r" : "s");
      for (MeshService s : services) {
        content.append('|').append(s.hostname());
        Resource dr = destinationRule(s);
        if (dr != null) {
          content.append('=').append(context.destinationRules().key(dr));
        }
      }
      String c = content.toString();
      k =
          context.cached(
              "cluster-key/" + c,
              () ->
                  "c"
                      + context
                          .cached("cluster-keys", java.util.concurrent.atomic.AtomicInteger::new)
                          .incrementAndGet());
      clusterKey = k;
    }
    return k;
  }

  /** The DestinationRule for {@code service} ({@link PushContext#destinationRule}), or null. */
  public Resource destinationRule(MeshService service) {
    Object r =
        rules.computeIfAbsent(
            service.hostname(),
            h -> {
              Resource dr = context.destinationRule(namespace, labels, service);
              return dr == null ? NONE : dr;
            });
    return r == NONE ? null : (Resource) r;
  }

  /** The mesh VirtualService for {@code hostname} as the proxies' namespace sees it, or null. */
  public Resource virtualService(String hostname) {
    return context.meshVirtualService(hostname, namespace);
  }

  /**
   * Whether a match's {@code sourceLabels} and {@code sourceNamespace} hold for these proxies
   * (Istio's {@code sourceMatchHTTP}): every label present, and the namespace equal when given.
   */
  public boolean sourceMatches(Map<String, String> sourceLabels, String sourceNamespace) {
    if (sourceNamespace != null
        && !sourceNamespace.isEmpty()
        && !sourceNamespace.equals(namespace)) {
      return false;
    }
    return sourceLabels == null || Labels.matches(sourceLabels, labels);
  }
}
