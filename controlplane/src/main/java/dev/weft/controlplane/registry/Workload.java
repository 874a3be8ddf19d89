package dev.weft.controlplane.registry;

import dev.weft.api.core.Service;
import java.util.Map;

/**
 * A workload instance that Services may select: a connected proxy (auto-registered) or a stored
 * WorkloadEntry.
 *
 * @param name the instance name
 * @param namespace the namespace
 * @param labels the labels
 * @param address the workload's address (its first {@code INSTANCE_IPS}), where its proxy listens
 * @param ports named ports ({@code WEFT_PORTS} of a proxy; {@code ports} of a WorkloadEntry)
 * @param serviceAccount the service account, or empty
 * @param source whether it is a connected proxy or a WorkloadEntry
 */
public record Workload(
    String name,
    String namespace,
    Map<String, String> labels,
    String address,
    Map<String, Integer> ports,
    String serviceAccount,
    Source source) {

  /** Where a workload comes from. */
  public enum Source {
    PROXY,
    WORKLOAD_ENTRY
  }

  public Workload {
    labels = Map.copyOf(labels);
    ports = Map.copyOf(ports);
    serviceAccount = serviceAccount == null ? "" : serviceAccount;
  }

  /**
   * The port on this workload for a Service port, or 0 when it cannot be resolved: a numeric {@code
   * targetPort} is used as is; a named one is looked up in the workload's named ports. A
   * WorkloadEntry's {@code ports} map service port names to its ports, as in Istio.
   */
  public int targetPort(Service.ServicePort port) {
    Service.TargetPort target = port.targetPort();
    String targetName = target == null ? "" : target.name();
    int targetNumber = target == null ? 0 : target.number();
    if (source == Source.WORKLOAD_ENTRY && port.name() != null && ports.containsKey(port.name())) {
      return ports.get(port.name());
    }
    if (targetName != null && !targetName.isEmpty()) {
      Integer p = ports.get(targetName);
      return p == null ? 0 : p;
    }
    return targetNumber > 0 ? targetNumber : port.port();
  }
}
