package dev.weft.proxy.router;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;

/**
 * HTTP/1.1 upgrades (RFC 9110 7.8): a request asks for one with {@code Upgrade: <protocol>} and
 * {@code Connection: upgrade}; Envoy forwards such a request only when an {@code upgrade_configs}
 * entry of the connection manager enables that protocol ({@code websocket}, enabled by Istio on
 * every connection manager), and after the upstream's 101 relays bytes both ways.
 */
final class Upgrades {
  private Upgrades() {}

  /**
   * The protocol the request asks to upgrade to, or null when it asks for none. {@code h2c} is
   * none: Envoy does not upgrade HTTP/1.1 to cleartext HTTP/2 and serves such a request (Java's
   * HTTP client sends one by default) as plain HTTP/1.1, its upgrade headers stripped.
   */
  static String requested(HttpHeaders h) {
    String upgrade = h.get(HttpHeaderNames.UPGRADE);
    if (upgrade == null || upgrade.isBlank() || upgrade.trim().equalsIgnoreCase("h2c")) {
      return null;
    }
    for (String v : h.getAll(HttpHeaderNames.CONNECTION)) {
      for (String token : v.split(",")) {
        if (AsciiString.contentEqualsIgnoreCase(token.trim(), HttpHeaderValues.UPGRADE)) {
          return upgrade.trim();
        }
      }
    }
    return null;
  }

  /** Puts back the upgrade headers that hop-by-hop stripping removed. */
  static void restore(HttpHeaders h, String protocol) {
    h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE);
    h.set(HttpHeaderNames.UPGRADE, protocol);
  }
}
