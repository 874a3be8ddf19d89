package dev.weft.xds.identity;

/**
 * Istio's SDS secret names (pilot/pkg/model: {@code SDSDefaultResourceName}, {@code
 * SDSRootResourceName}): what a proxy's TLS transport sockets ask for.
 */
public final class SecretNames {
  /** The workload's certificate chain and private key (an Envoy {@code TlsCertificate}). */
  public static final String DEFAULT = "default";

  /** The trusted roots (an Envoy {@code CertificateValidationContext}). */
  public static final String ROOTCA = "ROOTCA";

  /**
   * The control plane's DNS name, the SAN of its serving certificate; proxies verify it (Istio's
   * {@code istiod.istio-system.svc}).
   */
  public static final String CONTROL_PLANE_SAN = "istiod.istio-system.svc";

  private SecretNames() {}
}
