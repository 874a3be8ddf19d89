package dev.weft.proxy.config;

/**
 * One of a route's {@code request_mirror_policies} (Envoy's {@code
 * RouteAction.RequestMirrorPolicy}): a copy of the request goes to {@code cluster} for {@code
 * perMillion} requests in a million, its response discarded.
 *
 * @param cluster the cluster the copy goes to
 * @param perMillion the share of requests mirrored, in millionths ({@code runtime_fraction}'s
 *     {@code default_value}; 1,000,000 when absent, as in Envoy)
 * @param appendShadowSuffix whether the copy's Host gets {@code -shadow} (Envoy's default; off with
 *     {@code disable_shadow_host_suffix_append})
 */
public record RouteMirror(String cluster, int perMillion, boolean appendShadowSuffix) {
  /** All requests. */
  public static final int ALL = 1_000_000;
}
