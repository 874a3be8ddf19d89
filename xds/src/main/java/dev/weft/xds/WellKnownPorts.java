package dev.weft.xds;

/** Istio's well-known ports, which Weft keeps so that users' habits carry over. */
public final class WellKnownPorts {
  /** Proxy admin ({@code /ready}, {@code /config_dump}, {@code /clusters}, {@code /stats}). */
  public static final int PROXY_ADMIN = 15000;

  /** A sidecar's outbound listener (locally: the app's {@code http_proxy}). */
  public static final int OUTBOUND = 15001;

  /** A sidecar's inbound capture port (transparent capture on Kubernetes). */
  public static final int INBOUND = 15006;

  /** Proxy health ({@code /healthz/ready}). */
  public static final int HEALTH = 15021;

  /** Proxy Prometheus scrape port. */
  public static final int PROMETHEUS = 15090;

  /**
   * The name Istio's injected pod spec gives the proxy's Prometheus port ({@code http-envoy-prom:
   * 15090}); a workload's named port of this name is where its proxy's metrics are.
   */
  public static final String PROMETHEUS_PORT_NAME = "http-envoy-prom";

  /**
   * Control plane xDS, plaintext (Istio's debug port; Weft does not serve it, see
   * docs/architecture.md).
   */
  public static final int XDS = 15010;

  /** Control plane xDS and CA over TLS, each call authenticated by a workload token. */
  public static final int XDS_TLS = 15012;

  /** Control plane monitoring. */
  public static final int MONITORING = 15014;

  /** Control plane API (Weft local mode: apply, get, delete, debug). */
  public static final int API = 15080;

  private WellKnownPorts() {}
}
