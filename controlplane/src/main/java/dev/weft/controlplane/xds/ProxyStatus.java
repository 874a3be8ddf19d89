package dev.weft.controlplane.xds;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A proxy's sync state as {@code GET /api/v1/proxies} and {@code weft proxy-status} show it.
 *
 * @param id the node id
 * @param name the proxy's short name ({@code podinfo-v1.demo})
 * @param type {@code sidecar} or {@code router}
 * @param connected whether its stream is open
 * @param types per short type name ({@code CDS}, {@code EDS}, ...), what was sent and acknowledged
 * @param workload what the proxy's node says about it and its workload
 */
public record ProxyStatus(
    String id,
    String name,
    String type,
    boolean connected,
    Map<String, TypeStatus> types,
    Workload workload) {
  public ProxyStatus {
    types = Collections.unmodifiableMap(new LinkedHashMap<>(types));
  }

  /**
   * What a proxy's node tells about it, for {@code weft version} (data plane versions) and {@code
   * weft x describe} (the workload's labels and ports).
   *
   * @param version the proxy's version ({@code ISTIO_VERSION}), or empty
   * @param namespace the workload's namespace
   * @param labels the workload's labels
   * @param serviceAccount its service account
   * @param ip its address (the pod IP)
   * @param ports its named container ports
   * @param mtls whether its node announces TLS support (Istio mTLS is generated for it)
   */
  public record Workload(
      String version,
      String namespace,
      Map<String, String> labels,
      String serviceAccount,
      String ip,
      Map<String, Integer> ports,
      boolean mtls) {
    public Workload {
      labels = Map.copyOf(labels);
      ports = Map.copyOf(ports);
    }
  }

  /**
   * One xDS type's sync state.
   *
   * @param sent the version last sent, or empty
   * @param generation the config generation (store resourceVersion) of the push that sent {@code
   *     sent}, 0 if nothing was sent
   * @param acked the version last acknowledged, or empty
   * @param nack the last rejection not yet followed by an ACK, or null
   */
  public record TypeStatus(String sent, long generation, String acked, Nack nack) {
    /** Whether the proxy has acknowledged what was last sent. */
    public boolean synced() {
      return !sent.isEmpty() && sent.equals(acked);
    }

    /** Whether the proxy rejected what was last sent (it keeps its previous version). */
    public boolean nacked() {
      return nack != null && nack.version().equals(sent);
    }
  }

  /**
   * A NACK: a DiscoveryRequest with {@code error_detail} answering one of our responses (Envoy's
   * xDS protocol, "ACK/NACK and resource type instance version").
   *
   * @param version the version the proxy rejected
   * @param nonce the nonce of the rejected response
   * @param code {@code error_detail.code}, a gRPC status code (3 is INVALID_ARGUMENT)
   * @param message {@code error_detail.message}, the proxy's reason
   */
  public record Nack(String version, String nonce, int code, String message) {}
}
