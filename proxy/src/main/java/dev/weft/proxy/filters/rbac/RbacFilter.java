package dev.weft.proxy.filters.rbac;

import dev.weft.proxy.http.filter.FilterStatus;
import dev.weft.proxy.http.filter.HttpFilter;
import dev.weft.proxy.http.filter.HttpFilterCallbacks;
import io.netty.handler.codec.http.HttpRequest;

/**
 * One request through Envoy's RBAC filter: an ALLOW engine lets the request through when a policy
 * matches, a DENY engine when none does, a LOG engine always (marking the request for the access
 * log, Envoy's {@code access_log_hint}). A denied request gets Envoy's local reply {@code 403 RBAC:
 * access denied} with the response flag {@code RBAC} and the details {@code
 * rbac_access_denied_matched_policy[<policy>|none]}.
 */
final class RbacFilter implements HttpFilter {
  /** Envoy's body for a denied request. */
  static final String DENIED_BODY = "RBAC: access denied";

  /** Envoy's response flag for a request the RBAC filter denied. */
  static final String RBAC_FLAG = "RBAC";

  /** The dynamic metadata namespace Envoy's RBAC filter writes. */
  static final String METADATA_NAMESPACE = "envoy.filters.http.rbac";

  private final RbacEngine engine;
  private final HttpFilterCallbacks callbacks;

  RbacFilter(RbacEngine engine, HttpFilterCallbacks callbacks) {
    this.engine = engine;
    this.callbacks = callbacks;
  }

  @Override
  public FilterStatus decodeHeaders(HttpRequest request) {
    String matched = engine.firstMatch(new RbacRequest(request.headers(), callbacks.streamInfo()));
    boolean allowed =
        switch (engine.action()) {
          case ALLOW -> matched != null;
          case DENY -> matched == null;
          case LOG -> {
            if (matched != null) {
              callbacks
                  .streamInfo()
                  .setDynamicMetadata(METADATA_NAMESPACE, "access_log_hint", Boolean.TRUE);
            }
            yield true;
          }
        };
    if (allowed) {
      return FilterStatus.CONTINUE;
    }
    callbacks.sendLocalReply(
        403,
        DENIED_BODY,
        RBAC_FLAG,
        "rbac_access_denied_matched_policy[" + (matched == null ? "none" : matched) + "]");
    return FilterStatus.STOP;
  }
}
