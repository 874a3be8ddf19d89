package dev.weft.controlplane.registry;

import dev.weft.api.Resource;
import dev.weft.api.core.Service;
import dev.weft.api.networking.ServiceEntry;
import dev.weft.api.networking.WorkloadEntry;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * A service of the mesh: a core/v1 Service ({@code name.namespace.svc.cluster.local}) or one host
 * of a ServiceEntry (Istio's {@code model.Service} either way): its host, selector, ports, where
 * its endpoints come from and who may see it.
 *
 * @param name the Service name; for a ServiceEntry, the host
 * @param namespace its namespace
 * @param hostname its fully qualified host (a ServiceEntry host may be a wildcard {@code
 *     *.example.com})
 * @param selector the workload selector (empty selects none)
 * @param ports its ports, in declaration order
 * @param origin a Service or a ServiceEntry
 * @param exportTo the namespaces that may see it ({@code *}, {@code .}, {@code ~} or names), as
 *     given; empty for Istio's mesh default ({@code *})
 * @param external whether it is outside the mesh (ServiceEntry {@code MESH_EXTERNAL}, the default):
 *     no mTLS to it
 * @param resolution how its proxies find endpoints
 * @param endpoints a ServiceEntry's own {@code endpoints}; empty for Services
 * @param addresses a ServiceEntry's {@code addresses}; empty for Services
 */
public record MeshService(
    String name,
    String namespace,
    String hostname,
    Map<String, String> selector,
    List<Port> ports,
    Origin origin,
    List<String> exportTo,
    boolean external,
    Resolution resolution,
    List<WorkloadEntry> endpoints,
    List<String> addresses) {

  /** Where a service is declared. */
  public enum Origin {
    SERVICE,
    SERVICE_ENTRY
  }

  /**
   * Istio's {@code model.Resolution}, which picks the cluster type (its {@code convertResolution}).
   */
  public enum Resolution {
    /** EDS from the registry or the ServiceEntry's endpoints (Services; ServiceEntry STATIC). */
    CLIENT_SIDE_LB,
    /** ServiceEntry DNS: a STRICT_DNS cluster. */
    DNS,
    /** ServiceEntry DNS_ROUND_ROBIN: a LOGICAL_DNS cluster. */
    DNS_ROUND_ROBIN,
    /** ServiceEntry NONE: an ORIGINAL_DST cluster for sidecars (EDS for gateways). */
    PASSTHROUGH
  }

  /**
   * A port of a service.
   *
   * @param spec the port as declared (a ServiceEntry port as a Service port: its {@code targetPort}
   *     as a numeric target port)
   * @param protocol the protocol (Istio's port-name/appProtocol rules; a ServiceEntry's {@code
   *     protocol})
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

  /** Istio's annotation that sets a Service's {@code exportTo}. */
  public static final String EXPORT_TO_ANNOTATION = "networking.istio.io/exportTo";

  public MeshService {
    selector = Map.copyOf(selector);
    ports = List.copyOf(ports);
    exportTo = List.copyOf(exportTo);
    endpoints = List.copyOf(endpoints);
    addresses = List.copyOf(addresses);
  }

  /**
   * The mesh view of a stored core/v1 Service; its {@code exportTo} from the annotation {@code
   * networking.istio.io/exportTo} (comma separated, as Istio reads it).
   */
  public static MeshService of(Resource resource) {
    Service spec = resource.spec(Service.class);
    String ns = resource.metadata().namespace();
    List<Port> ports = new ArrayList<>();
    if (spec.ports() != null) {
      for (Service.ServicePort p : spec.ports()) {
        ports.add(new Port(p, Protocol.of(p.name(), p.appProtocol(), p.protocol())));
      }
    }
    List<String> exportTo = new ArrayList<>();
    String annotation = resource.metadata().annotations().get(EXPORT_TO_ANNOTATION);
    if (annotation != null) {
      Arrays.stream(annotation.split(","))
          .map(String::trim)
          .filter(s -> !s.isEmpty())
          .forEach(exportTo::add);
    }
    return new MeshService(
        resource.metadata().name(),
        ns,
        Hosts.serviceHost(resource.metadata().name(), ns),
        spec.selector() == null ? Map.of() : spec.selector(),
        ports,
        Origin.SERVICE,
        exportTo,
        false,
        Resolution.CLIENT_SIDE_LB,
        List.of(),
        List.of());
  }

  /**
   * The services of a stored ServiceEntry: one per host (Istio's {@code convertServices}). A port
   * without {@code protocol} takes it from its name, as a Service port.
   */
  public static List<MeshService> ofServiceEntry(Resource resource) {
    ServiceEntry se = resource.spec(ServiceEntry.class);
    String ns = resource.metadata().namespace();
    List<Port> ports = new ArrayList<>();
    for (dev.weft.api.networking.Port p : se.ports()) {
      Service.ServicePort sp =
          new Service.ServicePort(
              p.name(),
              p.number(),
              p.targetPort() > 0 ? new Service.TargetPort(p.targetPort(), "") : null,
              "TCP",
              "");
      Protocol protocol =
          p.protocol() == null || p.protocol().isEmpty()
              ? Protocol.of(p.name(), "", "TCP")
              : Protocol.parse(p.protocol());
      ports.add(new Port(sp, protocol));
    }
    Resolution resolution =
        switch (se.resolution() == null ? "" : se.resolution()) {
          case "STATIC" -> Resolution.CLIENT_SIDE_LB;
          case "DNS" -> Resolution.DNS;
          case "DNS_ROUND_ROBIN" -> Resolution.DNS_ROUND_ROBIN;
          default -> Resolution.PASSTHROUGH;
        };
    boolean external = !"MESH_INTERNAL".equals(se.location());
    List<MeshService> out = new ArrayList<>();
    for (String host : se.hosts()) {
      out.add(
          new MeshService(
              host,
              ns,
              host,
              se.workloadSelector(),
              ports,
              Origin.SERVICE_ENTRY,
              se.exportTo(),
              external,
              resolution,
              se.endpoints(),
              se.addresses()));
    }
    return out;
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

  /**
   * Whether this service selects {@code workload} (same namespace, selector matches): a Service's
   * {@code selector}, a ServiceEntry's {@code workloadSelector} (WorkloadEntries and registry
   * workloads alike, as Istio's ServiceEntry controller).
   */
  public boolean selects(Workload workload) {
    return workload.namespace().equals(namespace) && Labels.selects(selector, workload.labels());
  }

  /** Whether this is a ServiceEntry host. */
  public boolean isServiceEntry() {
    return origin == Origin.SERVICE_ENTRY;
  }

  /** Whether its host is a wildcard ({@code *.example.com}). */
  public boolean wildcard() {
    return hostname.startsWith("*");
  }

  /**
   * Whether a proxy in {@code namespace} may see it: Istio's exportTo ({@code *} every namespace,
   * {@code .} its own, {@code ~} none, else the names listed), the mesh default ({@code *}) when
   * empty.
   */
  public boolean visibleTo(String proxyNamespace) {
    return Visibility.visible(exportTo, namespace, proxyNamespace);
  }
}
