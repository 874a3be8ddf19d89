package dev.weft.api.core;

import dev.weft.api.Spec;
import java.util.List;
import java.util.Map;

/**
 * A core/v1 Service: the name, ports and label selector of a set of workloads. Its host is {@code
 * name.namespace.svc.cluster.local}.
 *
 * @param selector labels that select the workloads; never null (empty selects none)
 * @param ports the ports; never null
 * @param type ClusterIP (default), NodePort, LoadBalancer or ExternalName
 * @param clusterIP the cluster IP, or empty
 */
public record Service(
    Map<String, String> selector, List<ServicePort> ports, String type, String clusterIP)
    implements Spec {
  /**
   * A Service port.
   *
   * @param name the port name; its prefix ({@code http}, {@code http2}, {@code grpc}, {@code tcp},
   *     ...) selects the protocol, as in Istio
   * @param port the service port
   * @param targetPort the workload port: a number, or a named container port
   * @param protocol TCP, UDP or SCTP
   * @param appProtocol the application protocol, or empty
   */
  public record ServicePort(
      String name, int port, TargetPort targetPort, String protocol, String appProtocol) {}

  /**
   * A Service's targetPort: a number or a name (one of the two).
   *
   * @param number the port number, or 0 when named
   * @param name the container port name, or empty when numbered
   */
  public record TargetPort(int number, String name) {}
}
