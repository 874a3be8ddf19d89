package dev.weft.xds;

import io.envoyproxy.envoy.config.core.v3.Extension;
import io.envoyproxy.envoy.config.core.v3.Node;
import java.util.List;

/**
 * Istio's mutual-TLS conventions that the control plane and the proxy share: SDS secret names, the
 * endpoint metadata auto mTLS matches on, ALPN values, SPIFFE identities, and the extensions a
 * proxy announces in its xDS {@code Node} to get TLS configuration at all.
 *
 * <p>A proxy gets mTLS configuration (inbound TLS filter chains, upstream {@code
 * transport_socket(_matches)}) only when its {@code node.extensions} list {@link #TLS_TRANSPORT}
 * and {@link #TLS_INSPECTOR}, as Envoy lists every extension it was built with: a proxy that cannot
 * terminate or originate TLS keeps plaintext listeners and clusters instead of rejecting its whole
 * LDS/CDS update.
 */
public final class IstioMtls {
  /** SDS name of the workload's own certificate and key (Istio's {@code default}). */
  public static final String SDS_DEFAULT = "default";

  /** SDS name of the mesh's root certificate, used to validate peers (Istio's {@code ROOTCA}). */
  public static final String SDS_ROOTCA = "ROOTCA";

  /** The workload label that says whether it has a sidecar speaking Istio mTLS. */
  public static final String TLS_MODE_LABEL = "security.istio.io/tlsMode";

  /** {@link #TLS_MODE_LABEL}'s value for workloads with a sidecar. */
  public static final String TLS_MODE_ISTIO = "istio";

  /** {@link #TLS_MODE_LABEL}'s value for workloads without one. */
  public static final String TLS_MODE_DISABLED = "disabled";

  /**
   * The endpoint metadata filter that Envoy's {@code transport_socket_matches} read: an endpoint
   * carries {@code envoy.transport_socket_match: {tlsMode: istio}}.
   */
  public static final String TRANSPORT_SOCKET_MATCH = "envoy.transport_socket_match";

  /** The key inside {@link #TRANSPORT_SOCKET_MATCH} (Istio's {@code TLSModeLabelShortname}). */
  public static final String TLS_MODE_KEY = "tlsMode";

  /** Envoy's TLS transport socket. */
  public static final String TLS_TRANSPORT = "envoy.transport_sockets.tls";

  /** Envoy's plaintext transport socket. */
  public static final String RAW_BUFFER_TRANSPORT = "envoy.transport_sockets.raw_buffer";

  /**
   * Envoy's TLS inspector listener filter (sets the transport protocol and the ClientHello ALPN).
   */
  public static final String TLS_INSPECTOR = "envoy.filters.listener.tls_inspector";

  /** {@code FilterChainMatch.transport_protocol} of a TLS connection. */
  public static final String TRANSPORT_TLS = "tls";

  /** {@code FilterChainMatch.transport_protocol} of a plaintext connection. */
  public static final String TRANSPORT_RAW_BUFFER = "raw_buffer";

  /**
   * ALPN a sidecar offers on mTLS to an HTTP/1.1 or TCP in-mesh cluster (Istio's {@code
   * ALPNInMeshWithMxc}).
   */
  public static final List<String> ALPN_IN_MESH = List.of("istio-peer-exchange", "istio");

  /** The ALPN value every Istio mesh-mTLS client offers (last, as the fallback). */
  public static final String ALPN_ISTIO = "istio";

  /**
   * Istio's {@code istio.alpn} HTTP filter (istio/proxy {@code alpn.v2alpha1.FilterConfig}): on a
   * sidecar's outbound connection manager it makes an mTLS upstream connection offer {@code
   * istio-http/1.0}, {@code istio-http/1.1} or {@code istio-h2} by the upstream HTTP protocol.
   */
  public static final String ALPN_FILTER = "istio.alpn";

  /** The type URL of {@link #ALPN_FILTER}'s config. */
  public static final String ALPN_FILTER_TYPE =
      "type.googleapis.com/istio.envoy.config.filter.http.alpn.v2alpha1.FilterConfig";

  /** Istio's {@code mtlsHTTP10ALPN}. */
  public static final List<String> ALPN_MTLS_HTTP10 = List.of("istio-http/1.0", "istio");

  /** Istio's {@code mtlsHTTP11ALPN}. */
  public static final List<String> ALPN_MTLS_HTTP11 = List.of("istio-http/1.1", "istio");

  /** Istio's {@code mtlsHTTP2ALPN}. */
  public static final List<String> ALPN_MTLS_HTTP2 = List.of("istio-h2", "istio");

  /**
   * The ClientHello ALPN values that mark mesh mTLS on a PERMISSIVE inbound port (Istio's {@code
   * allIstioMtlsALPNs}); the plaintext chain takes everything else.
   */
  public static final List<String> ALPN_ISTIO_MTLS =
      List.of("istio", "istio-peer-exchange", "istio-http/1.0", "istio-http/1.1", "istio-h2");

  /** ALPN a sidecar's inbound HTTP port negotiates (Istio's {@code ALPNHttp}). */
  public static final List<String> ALPN_HTTP = List.of("h2", "http/1.1");

  /**
   * The ALPN of Istio's TCP metadata exchange (istio/proxy {@code metadata_exchange}): a connection
   * that negotiated it starts with each side's peer metadata frame.
   */
  public static final String ALPN_PEER_EXCHANGE = "istio-peer-exchange";

  /**
   * ALPN a sidecar's inbound TCP port negotiates under mTLS (Istio's {@code
   * ALPNDownstreamWithMxc}): {@code istio-peer-exchange} first, so that a sidecar client offering
   * it gets the metadata exchange.
   */
  public static final List<String> ALPN_DOWNSTREAM_WITH_MX =
      List.of(ALPN_PEER_EXCHANGE, "h2", "http/1.1");

  /** The mesh's trust domain. */
  public static final String TRUST_DOMAIN = "cluster.local";

  private IstioMtls() {}

  /** A workload's SPIFFE identity: {@code spiffe://cluster.local/ns/<ns>/sa/<sa>}. */
  public static String spiffeId(String namespace, String serviceAccount) {
    return "spiffe://" + TRUST_DOMAIN + "/ns/" + namespace + "/sa/" + serviceAccount;
  }

  /**
   * Whether a node announces what mesh mTLS needs: the TLS transport socket and the TLS inspector
   * in {@code node.extensions} (not disabled).
   */
  public static boolean supportedBy(Node node) {
    boolean tls = false;
    boolean inspector = false;
    for (Extension e : node.getExtensionsList()) {
      if (e.getDisabled()) {
        continue;
      }
      tls |= e.getName().equals(TLS_TRANSPORT);
      inspector |= e.getName().equals(TLS_INSPECTOR);
    }
    return tls && inspector;
  }
}
