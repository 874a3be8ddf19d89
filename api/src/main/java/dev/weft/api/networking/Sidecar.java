package dev.weft.api.networking;

import dev.weft.api.Spec;
import java.util.List;
import java.util.Map;

/**
 * Istio's Sidecar: narrows what a sidecar proxy sees and listens on. Lists and maps are never null.
 *
 * @param workloadSelector labels of the workloads this applies to; empty means the whole namespace
 * @param ingress inbound listeners
 * @param egress outbound listeners (which hosts the workloads can reach)
 * @param outboundTrafficPolicyMode {@code REGISTRY_ONLY} or {@code ALLOW_ANY}, or empty
 * @param egressProxy where {@code ALLOW_ANY} traffic goes, or null
 * @param inboundConnectionPool inbound connection pool settings as a validated document, or null
 */
public record Sidecar(
    Map<String, String> workloadSelector,
    List<IngressListener> ingress,
    List<EgressListener> egress,
    String outboundTrafficPolicyMode,
    Destination egressProxy,
    Map<String, Object> inboundConnectionPool)
    implements Spec {

  /**
   * Istio's IstioIngressListener.
   *
   * @param port the port
   * @param bind the bind address, or empty
   * @param captureMode {@code DEFAULT}, {@code IPTABLES} or {@code NONE}, or empty
   * @param defaultEndpoint {@code 127.0.0.1:PORT}, {@code 0.0.0.0:PORT} or a unix socket, or empty
   * @param tls server TLS settings as a validated document, or null
   * @param connectionPool connection pool settings as a validated document, or null
   */
  public record IngressListener(
      Port port,
      String bind,
      String captureMode,
      String defaultEndpoint,
      Map<String, Object> tls,
      Map<String, Object> connectionPool) {}

  /**
   * Istio's IstioEgressListener.
   *
   * @param port the port, or null for all ports
   * @param bind the bind address, or empty
   * @param captureMode {@code DEFAULT}, {@code IPTABLES} or {@code NONE}, or empty
   * @param hosts {@code namespace/dnsName} entries
   */
  public record EgressListener(Port port, String bind, String captureMode, List<String> hosts) {}
}
