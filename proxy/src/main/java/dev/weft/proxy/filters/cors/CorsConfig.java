package dev.weft.proxy.filters.cors;

import dev.weft.proxy.config.InvalidResourceException;
import dev.weft.proxy.config.Matchers;
import dev.weft.proxy.config.Percentages;
import dev.weft.proxy.config.StringMatch;
import io.envoyproxy.envoy.extensions.filters.http.cors.v3.CorsPolicy;

/**
 * A compiled route {@code typed_per_filter_config} {@code
 * envoy.extensions.filters.http.cors.v3.CorsPolicy}. Immutable.
 *
 * @param allowOrigins {@code allow_origin_string_match}
 * @param allowMethods {@code allow_methods} as sent ({@code access-control-allow-methods}), or null
 * @param allowHeaders {@code allow_headers}, or null
 * @param exposeHeaders {@code expose_headers}, or null
 * @param maxAge {@code max_age}, or null
 * @param allowCredentials {@code allow_credentials}
 * @param enabled {@code filter_enabled} (absent: on; Weft has no runtime, so 0 % is off and
 *     anything above is on)
 * @param forwardNotMatchingPreflights {@code forward_not_matching_preflights} (absent: true)
 * @param allowPrivateNetworkAccess {@code allow_private_network_access}
 */
public record CorsConfig(
    StringMatch[] allowOrigins,
    String allowMethods,
    String allowHeaders,
    String exposeHeaders,
    String maxAge,
    boolean allowCredentials,
    boolean enabled,
    boolean forwardNotMatchingPreflights,
    boolean allowPrivateNetworkAccess) {

  /**
   * Compiles Envoy's per-route {@code CorsPolicy}. {@code shadow_enabled} is rejected (Weft has no
   * shadow mode for CORS); a {@code filter_enabled} fraction strictly between 0 and 100 % is
   * rejected (it would need a random draw per request, which Istio never asks for).
   */
  public static CorsConfig compile(CorsPolicy p) throws InvalidResourceException {
    if (p.hasShadowEnabled()) {
      throw new InvalidResourceException("cors: shadow_enabled is not supported");
    }
    boolean enabled = true;
    if (p.hasFilterEnabled()) {
      int perMillion =
          Percentages.perMillion("cors: filter_enabled: ", p.getFilterEnabled().getDefaultValue());
      if (perMillion != 0 && perMillion != 1_000_000) {
        throw new InvalidResourceException("cors: filter_enabled must be 0 or 100 percent");
      }
      enabled = perMillion != 0;
    }
    StringMatch[] origins = new StringMatch[p.getAllowOriginStringMatchCount()];
    for (int i = 0; i < origins.length; i++) {
      try {
        origins[i] = Matchers.string(p.getAllowOriginStringMatch(i));
      } catch (InvalidResourceException e) {
        throw new InvalidResourceException(
            "cors: allow_origin_string_match " + i + ": " + e.getMessage());
      }
    }
    return new CorsConfig(
        origins,
        emptyToNull(p.getAllowMethods()),
        emptyToNull(p.getAllowHeaders()),
        emptyToNull(p.getExposeHeaders()),
        emptyToNull(p.getMaxAge()),
        p.hasAllowCredentials() && p.getAllowCredentials().getValue(),
        enabled,
        !p.hasForwardNotMatchingPreflights() || p.getForwardNotMatchingPreflights().getValue(),
        p.hasAllowPrivateNetworkAccess() && p.getAllowPrivateNetworkAccess().getValue());
  }

  private static String emptyToNull(String s) {
    return s.isEmpty() ? null : s;
  }

  /**
   * Envoy's {@code isOriginAllowed}: a matcher that matches {@code *} itself allows every origin;
   * otherwise one must match the origin.
   */
  public boolean originAllowed(String origin) {
    for (StringMatch m : allowOrigins) {
      if (m.matches("*") || m.matches(origin)) {
        return true;
      }
    }
    return false;
  }
}
