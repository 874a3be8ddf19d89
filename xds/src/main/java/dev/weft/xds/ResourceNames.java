package dev.weft.xds;

/** Istio's names for listeners and route configurations. */
public final class ResourceNames {
  /**
   * The route configuration of a sidecar's HTTP-proxy outbound listener (Istio's {@code
   * RDSHttpProxy}): the app reaches every mesh service through it as its {@code http_proxy}.
   */
  public static final String HTTP_PROXY_ROUTE = "http_proxy";

  /** Listener name for a socket address: {@code 127.0.1.2_9898}, {@code 0.0.0.0_8080}. */
  public static String listener(String address, int port) {
    return address + "_" + port;
  }

  /** A gateway's route configuration for a listener port: {@code http.8080}. */
  public static String gatewayHttpRoute(int port) {
    return "http." + port;
  }

  /** A sidecar's route configuration for outbound traffic to a service port: {@code 80}. */
  public static String outboundHttpRoute(int port) {
    return Integer.toString(port);
  }

  /** The virtual host of a service port: {@code podinfo.demo.svc.cluster.local:80}. */
  public static String virtualHost(String host, int port) {
    return host + ":" + port;
  }

  /**
   * The VHDS resource name of virtual host {@code virtualHost} of route configuration {@code
   * routeConfiguration}: {@code http_proxy/podinfo.demo.svc.cluster.local:80}. Envoy names VHDS
   * resources {@code <route configuration name>/<host entry>}; Weft's virtual host names ({@code
   * host:port}) are one of their own domains, so the name is both.
   */
  public static String vhdsVirtualHost(String routeConfiguration, String virtualHost) {
    return routeConfiguration + "/" + virtualHost;
  }

  /**
   * The route configuration a VHDS resource name belongs to (before its first {@code /}), or null
   * when the name has none.
   */
  public static String vhdsRouteConfiguration(String vhdsName) {
    int slash = vhdsName.indexOf('/');
    return slash <= 0 ? null : vhdsName.substring(0, slash);
  }

  /**
   * Istio's cluster for traffic to hosts outside the registry under {@code ALLOW_ANY}: type {@code
   * ORIGINAL_DST}, to the address the client asked for.
   */
  public static final String PASSTHROUGH_CLUSTER = "PassthroughCluster";

  /** Istio's cluster with no endpoints, for traffic refused under {@code REGISTRY_ONLY}. */
  public static final String BLACK_HOLE_CLUSTER = "BlackHoleCluster";

  /** Istio's catch-all virtual host (and route) of {@code http_proxy} under {@code ALLOW_ANY}. */
  public static final String PASSTHROUGH_ROUTE = "allow_any";

  /**
   * Istio's catch-all virtual host (and route) of {@code http_proxy} under {@code REGISTRY_ONLY}.
   */
  public static final String BLACK_HOLE_ROUTE = "block_all";

  private ResourceNames() {}
}
