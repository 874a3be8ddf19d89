package dev.weft.cli.run;

import dev.weft.cli.common.HostPort;
import dev.weft.cli.common.KeyValues;
import dev.weft.xds.WellKnownPorts;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The ports a local sidecar binds on its pod IP (docs/architecture.md, "The local runtime"): the
 * one list that {@link WorkloadAllocator} probes before it hands out an address and that {@code
 * weft run} binds the sidecar with.
 *
 * <ul>
 *   <li>{@link WellKnownPorts#PROXY_ADMIN} 15000, the admin interface, bound at start ({@link
 *       #admin});
 *   <li>{@link WellKnownPorts#PROMETHEUS} 15090, Istio's metrics port, bound at start ({@link
 *       #metrics});
 *   <li>{@link WellKnownPorts#OUTBOUND} 15001, the outbound listener the app's {@code http_proxy}
 *       points at ({@link #outbound}), bound later, once the control plane's listeners arrive
 *       ({@code ListenerGenerator}: {@code <pod IP>_15001});
 *   <li>the workload's own ports: an inbound listener each, bound with the listeners too.
 * </ul>
 *
 * <p>Istio's 15006 (inbound capture) and 15021 (health) are not bound by Weft's sidecars: there is
 * no iptables capture locally, and readiness is the admin's {@code /ready}; the control plane only
 * keeps services' outbound listeners off them. The outbound listeners of TCP services' ports (also
 * on the pod IP) depend on the mesh's services and cannot be probed in advance; a late bind failure
 * of any of these names its address and port ({@code ListenerManager}), and {@code weft run} then
 * takes the next address ({@link RunCommand#startSidecar}).
 */
final class SidecarPorts {
  /** The ports every sidecar binds on its pod IP, whatever its workload's ports. */
  static final List<Integer> FIXED =
      List.of(WellKnownPorts.PROXY_ADMIN, WellKnownPorts.OUTBOUND, WellKnownPorts.PROMETHEUS);

  private SidecarPorts() {}

  /** Every port the sidecar of a workload with {@code ports} binds on its pod IP. */
  static Set<Integer> all(List<KeyValues.NamedPort> ports) {
    Set<Integer> all = new LinkedHashSet<>(FIXED);
    for (KeyValues.NamedPort p : ports) {
      all.add(p.port());
    }
    return all;
  }

  /** The sidecar's admin address on {@code podIp}. */
  static HostPort admin(String podIp) {
    return new HostPort(podIp, WellKnownPorts.PROXY_ADMIN);
  }

  /** The sidecar's metrics address on {@code podIp} (Istio's 15090). */
  static HostPort metrics(String podIp) {
    return new HostPort(podIp, WellKnownPorts.PROMETHEUS);
  }

  /** The sidecar's outbound listener on {@code podIp}, the app's {@code http_proxy}. */
  static HostPort outbound(String podIp) {
    return new HostPort(podIp, WellKnownPorts.OUTBOUND);
  }
}
