package dev.weft.controlplane.xds;

import java.util.Map;

/**
 * A proxy's sync state as {@code GET /api/v1/proxies} and {@code weft proxy-status} show it.
 *
 * @param id the node id
 * @param name the proxy's short name ({@code podinfo-v1.demo})
 * @param type {@code sidecar} or {@code router}
 * @param connected whether its stream is open
 * @param types per short type name ({@code CDS}, {@code EDS}, ...), what was sent and acknowledged
 */
public record ProxyStatus(
    String id, String name, String type, boolean connected, Map<String, TypeStatus> types) {
  public ProxyStatus {
    types = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(types));
  }

  /**
   * One xDS type's sync state.
   *
   * @param sent the version last sent, or empty
   * @param acked the version last acknowledged, or empty
   * @param nacked the version last rejected, or empty
   * @param error the proxy's reason for the last rejection, or empty
   */
  public record TypeStatus(String sent, String acked, String nacked, String error) {
    /** Whether the proxy has acknowledged what was last sent. */
    public boolean synced() {
      return !sent.isEmpty() && sent.equals(acked);
    }
  }
}
