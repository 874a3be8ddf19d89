package dev.weft.controlplane.gen;

import dev.weft.api.networking.Subset;
import dev.weft.controlplane.push.PushContext;
import dev.weft.controlplane.registry.MeshService;
import dev.weft.controlplane.registry.Protocol;
import dev.weft.xds.ClusterName;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * One outbound cluster of the mesh: a service port, or a DestinationRule subset of it.
 *
 * @param name the cluster name ({@code outbound|80|v1|podinfo.demo.svc.cluster.local})
 * @param service the service
 * @param port the service port
 * @param subsetLabels the subset's labels; empty for the whole service
 */
record OutboundCluster(
    ClusterName name,
    MeshService service,
    MeshService.Port port,
    Map<String, String> subsetLabels) {

  /**
   * Every outbound cluster: for each Service port (UDP ports excepted), {@code outbound|P||host}
   * and one {@code outbound|P|subset|host} per DestinationRule subset.
   */
  static List<OutboundCluster> all(PushContext context) {
    return context.cached("outbound-clusters", () -> compute(context));
  }

  private static List<OutboundCluster> compute(PushContext context) {
    List<OutboundCluster> out = new ArrayList<>();
    for (MeshService svc : context.services()) {
      for (MeshService.Port port : svc.ports()) {
        if (port.protocol() == Protocol.UDP) {
          continue;
        }
        out.add(
            new OutboundCluster(
                ClusterName.outbound(port.number(), "", svc.hostname()), svc, port, Map.of()));
        for (Subset subset : context.subsets(svc.hostname())) {
          out.add(
              new OutboundCluster(
                  ClusterName.outbound(port.number(), subset.name(), svc.hostname()),
                  svc,
                  port,
                  subset.labels() == null ? Map.of() : subset.labels()));
        }
      }
    }
    return List.copyOf(out);
  }
}
