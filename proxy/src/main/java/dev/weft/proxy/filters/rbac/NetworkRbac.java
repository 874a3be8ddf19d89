package dev.weft.proxy.filters.rbac;

import dev.weft.proxy.http.filter.StreamInfo;
import dev.weft.proxy.stats.NetworkRbacStats;
import dev.weft.proxy.tls.PeerIdentity;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import java.net.SocketAddress;

/**
 * A compiled {@code envoy.filters.network.rbac} filter ({@code
 * envoy.extensions.filters.network.rbac.v3.RBAC}): evaluated once per downstream connection, when
 * it is established (after the TLS handshake, so the peer principal is known), over a
 * connection-level view without HTTP attributes (header matchers see no headers). As Envoy's
 * network RBAC filter, a connection that {@code rules} deny is closed before anything reaches the
 * upstream and counted as {@code <stat_prefix>rbac.denied}, an allowed one as {@code
 * <stat_prefix>rbac.allowed}; {@code shadow_rules} are only counted ({@code shadow_allowed} /
 * {@code shadow_denied}). Immutable; shared by every event loop.
 */
public final class NetworkRbac {
  private final String statPrefix;
  private final RbacEngine rules;
  private final RbacEngine shadow;
  private final NetworkRbacStats stats;

  /**
   * @param statPrefix Envoy's {@code stat_prefix} (may be empty)
   * @param rules the enforced engine, or null (Envoy: no {@code rules}, no enforcement)
   * @param shadow the shadow engine, or null
   * @param stats the prefix's counters
   */
  public NetworkRbac(
      String statPrefix, RbacEngine rules, RbacEngine shadow, NetworkRbacStats stats) {
    this.statPrefix = statPrefix;
    this.rules = rules;
    this.shadow = shadow;
    this.stats = stats;
  }

  public String statPrefix() {
    return statPrefix;
  }

  /**
   * Evaluates a connection and counts the outcome.
   *
   * @param remote the downstream peer's address
   * @param local the downstream connection's local address
   * @param peer the TLS peer, or null on a plaintext connection
   * @param sni the SNI the client sent, or null
   * @return whether the connection may proceed
   */
  public boolean allows(SocketAddress remote, SocketAddress local, PeerIdentity peer, String sni) {
    StreamInfo info = new StreamInfo();
    info.downstream(remote, local);
    if (peer != null) {
      info.downstreamTls(peer, sni);
    }
    RbacRequest r = new RbacRequest(EmptyHttpHeaders.INSTANCE, info, true);
    if (shadow != null) {
      if (decide(shadow, r)) {
        stats.shadowAllowed();
      } else {
        stats.shadowDenied();
      }
    }
    if (rules == null) {
      return true;
    }
    boolean ok = decide(rules, r);
    if (ok) {
      stats.allowed();
    } else {
      stats.denied();
    }
    return ok;
  }

  /** Envoy's engine decision: ALLOW allows on a match, DENY denies on a match, LOG allows. */
  private static boolean decide(RbacEngine engine, RbacRequest r) {
    String match = engine.firstMatch(r);
    return switch (engine.action()) {
      case ALLOW -> match != null;
      case DENY -> match == null;
      case LOG -> true;
    };
  }

  /** The prefix's counters. */
  public NetworkRbacStats stats() {
    return stats;
  }
}
