package dev.weft.controlplane.registry;

import dev.weft.api.Resource;
import dev.weft.api.core.Service;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A Service of the mesh: its host ({@code name.namespace.svc.cluster.local}), selector and ports.
 *
 * @param name the Service name
 * @param namespace its namespace
 * @param hostname its fully qualified host
 * @param selector the workload selector (empty selects none)
 * @param ports its ports, in declaration order
 */
public record MeshService(
    String name,
    String namespace,
    String hostname,
    Map<String, String> selector,
    List<Port> ports) {

  /**
   * A port of a Service.
   *
   * @param spec the port as declared
   * @param protocol the protocol (Istio's port-name/appProtocol rules)
   */
  public record Port(Service.ServicePort spec, Protocol protocol) {
    /** The service port number. */
    public int number() {
      return spec.port();
    }

    /** The port name, or empty. */
    public String name() {
      return spec.name() == null ? "" : spec.name();
    }
  }

  public MeshService {
    selector = Map.copyOf(selector);
    ports = List.copyOf(ports);
  }

  /** The mesh view of a stored core/v1 Service. */
  public static MeshService of(Resource resource) {
    Service spec = resource.spec(Service.class);
    String ns = resource.metadata().namespace();
    List<Port> ports = new ArrayList<>();
    if (spec.ports() != null) {
      for (Service.ServicePort p : spec.ports()) {
        ports.add(new Port(p, Protocol.of(p.name(), p.appProtocol(), p.protocol())));
      }
    }
    return new MeshService(
        resource.metadata().name(),
        ns,
        Hosts.serviceHost(resource.metadata().name(), ns),
        spec.selector() == null ? Map.of() : spec.selector(),
        ports);
  }

  /** The port numbered {@code number}, or null. */
  public Port port(int number) {
    for (Port p : ports) {
      if (p.number() == number) {
        return p;
      }
    }
    return null;
  }

  /** Whether this Service selects {@code workload} (same namespace, selector matches). */
  public boolean selects(Workload workload) {
    return workload.namespace().equals(namespace) && Labels.selects(selector, workload.labels());
  }
}
