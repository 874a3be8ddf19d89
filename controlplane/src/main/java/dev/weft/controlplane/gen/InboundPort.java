package dev.weft.controlplane.gen;

import dev.weft.controlplane.push.PushContext;
import dev.weft.controlplane.registry.MeshService;
import dev.weft.controlplane.registry.Protocol;
import dev.weft.controlplane.registry.Workload;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A port on which a sidecar accepts traffic for its own application: the target port of a Service
 * port that selects the sidecar's workload.
 *
 * @param port the target port
 * @param protocol the protocol of the (first) Service port that targets it
 */
record InboundPort(int port, Protocol protocol) {

  /** The sidecar's inbound ports, ascending; empty for routers. */
  static List<InboundPort> of(PushContext context, Proxy proxy) {
    if (proxy.isRouter()) {
      return List.of();
    }
    Workload self = proxy.workload();
    Map<Integer, Protocol> ports = new TreeMap<>();
    for (MeshService svc : context.servicesSelecting(self)) {
      for (MeshService.Port p : svc.ports()) {
        if (p.protocol() == Protocol.UDP) {
          continue;
        }
        int target = self.targetPort(p.spec());
        if (target > 0) {
          ports.putIfAbsent(target, p.protocol());
        }
      }
    }
    List<InboundPort> out = new ArrayList<>();
    ports.forEach((port, protocol) -> out.add(new InboundPort(port, protocol)));
    return out;
  }
}
