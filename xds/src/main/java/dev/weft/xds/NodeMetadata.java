package dev.weft.xds;

/**
 * Keys of the {@code node.metadata} struct that a proxy sends on its xDS stream. Istio's keys keep
 * their names; the {@code WEFT_} keys carry what a local workload would otherwise get from its pod
 * spec.
 */
public final class NodeMetadata {
  /** The workload's namespace (string). */
  public static final String NAMESPACE = "NAMESPACE";

  /** The workload instance's name (string). */
  public static final String NAME = "NAME";

  /** The workload's labels (struct of strings). */
  public static final String LABELS = "LABELS";

  /** The workload's service account (string); its SPIFFE identity derives from it. */
  public static final String SERVICE_ACCOUNT = "SERVICE_ACCOUNT";

  /** The workload's addresses, comma separated (string); the first is its "pod IP". */
  public static final String INSTANCE_IPS = "INSTANCE_IPS";

  /** The workload's name as a deployment would have it (string). */
  public static final String WORKLOAD_NAME = "WORKLOAD_NAME";

  /** The proxy's version (string). */
  public static final String ISTIO_VERSION = "ISTIO_VERSION";

  /**
   * The port of the proxy's Prometheus endpoint ({@code /stats/prometheus}) on its workload address
   * (number; Istio's {@code EnvoyPrometheusPort}, 15090 for its sidecars and gateways). A proxy
   * that serves no metrics there sends none, and the control plane's dashboard scrapes only the
   * proxies that send it. Istio's agent sends a number; a string of digits is read too.
   */
  public static final String ENVOY_PROMETHEUS_PORT = "ENVOY_PROMETHEUS_PORT";

  /**
   * The workload's named container ports, {@code name:port} comma separated (string), for instance
   * {@code http:9898}. Services resolve a named targetPort through them.
   */
  public static final String WEFT_PORTS = "WEFT_PORTS";

  /**
   * The address the application itself listens on (string). The sidecar owns the workload address
   * and forwards inbound traffic for each port to this address; on Kubernetes it is 127.0.0.1.
   */
  public static final String WEFT_APP_ADDRESS = "WEFT_APP_ADDRESS";

  private NodeMetadata() {}
}
