package dev.weft.controlplane.gen;

import dev.weft.api.Resource;
import dev.weft.api.ResourceKind;
import dev.weft.api.networking.DestinationRule;
import dev.weft.api.networking.Subset;
import dev.weft.controlplane.push.ProxyScope;
import dev.weft.controlplane.push.PushContext;
import dev.weft.controlplane.registry.Hosts;
import dev.weft.controlplane.registry.MeshService;
import dev.weft.controlplane.registry.Protocol;
import dev.weft.xds.ClusterName;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One outbound cluster of the mesh: a service port, or a DestinationRule subset of it.
 *
 * @param name the cluster name ({@code outbound|80|v1|podinfo.demo.svc.cluster.local})
 * @param service the service
 * @param port the service port
 * @param subsetLabels the subset's labels; empty for the whole service
 * @param destinationRule the DestinationRule that applies to it for the proxy being generated for,
 *     or null (for {@link #all}, the rule that defined the subset)
 */
record OutboundCluster(
    ClusterName name,
    MeshService service,
    MeshService.Port port,
    Map<String, String> subsetLabels,
    Resource destinationRule) {

  /**
   * Every outbound cluster any proxy may have, for EDS: for each service port (UDP ports excepted),
   * {@code outbound|P||host} and one {@code outbound|P|subset|host} per subset of any
   * DestinationRule for the host (the first definition of a subset name wins).
   */
  static List<OutboundCluster> all(PushContext context) {
    return context.cached("outbound-clusters", () -> compute(context));
  }

  /**
   * The outbound clusters of one scope: for each of its services' ports (UDP excepted), {@code
   * outbound|P||host} and one cluster per subset of the DestinationRule that applies to the scope.
   */
  static List<OutboundCluster> of(PushContext context, ProxyScope scope) {
    return context.cached(
        "outbound-clusters/" + scope.clusterKey(),
        () -> {
          List<OutboundCluster> out = new ArrayList<>();
          for (MeshService svc : scope.services()) {
            Resource dr = scope.destinationRule(svc);
            List<Subset> subsets =
                dr == null ? List.of() : dr.spec(DestinationRule.class).subsets();
            for (MeshService.Port port : svc.ports()) {
              if (port.protocol() == Protocol.UDP) {
                continue;
              }
              out.add(
                  new OutboundCluster(
                      ClusterName.outbound(port.number(), "", svc.hostname()),
                      svc,
                      port,
                      Map.of(),
                      dr));
              for (Subset subset : subsets) {
                out.add(
                    new OutboundCluster(
                        ClusterName.outbound(port.number(), subset.name(), svc.hostname()),
                        svc,
                        port,
                        subset.labels() == null ? Map.of() : subset.labels(),
                        dr));
              }
            }
          }
          return List.copyOf(out);
        });
  }

  /** The subset of this cluster's DestinationRule it is named for, or null. */
  Subset subset() {
    if (destinationRule == null || name.subset().isEmpty()) {
      return null;
    }
    for (Subset s : destinationRule.spec(DestinationRule.class).subsets()) {
      if (s.name().equals(name.subset())) {
        return s;
      }
    }
    return null;
  }

  private static List<OutboundCluster> compute(PushContext context) {
    // Every DestinationRule's subsets by host, oldest rule first.
    Map<String, List<Resource>> rulesByHost = new java.util.HashMap<>();
    for (Resource r : context.config().byAge(ResourceKind.DESTINATION_RULE)) {
      String host = Hosts.resolve(r.spec(DestinationRule.class).host(), r.metadata().namespace());
      rulesByHost.computeIfAbsent(host, k -> new ArrayList<>()).add(r);
    }
    List<OutboundCluster> out = new ArrayList<>();
    for (MeshService svc : context.services()) {
      List<Resource> rules = new ArrayList<>(rulesByHost.getOrDefault(svc.hostname(), List.of()));
      for (Map.Entry<String, List<Resource>> e : rulesByHost.entrySet()) {
        if (e.getKey().startsWith("*") && Hosts.matches(e.getKey(), svc.hostname())) {
          rules.addAll(e.getValue());
        }
      }
      for (MeshService.Port port : svc.ports()) {
        if (port.protocol() == Protocol.UDP) {
          continue;
        }
        out.add(
            new OutboundCluster(
                ClusterName.outbound(port.number(), "", svc.hostname()),
                svc,
                port,
                Map.of(),
                context.destinationRule(svc.hostname())));
        Set<String> seen = new HashSet<>();
        for (Resource dr : rules) {
          for (Subset subset : dr.spec(DestinationRule.class).subsets()) {
            if (!seen.add(subset.name())) {
              continue;
            }
            out.add(
                new OutboundCluster(
                    ClusterName.outbound(port.number(), subset.name(), svc.hostname()),
                    svc,
                    port,
                    subset.labels() == null ? Map.of() : subset.labels(),
                    dr));
          }
        }
      }
    }
    return List.copyOf(out);
  }
}
