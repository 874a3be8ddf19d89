package dev.weft.proxy.http.filter;

import dev.weft.proxy.filters.alpn.AlpnFilterFactory;
import dev.weft.proxy.filters.cors.CorsFilterFactory;
import dev.weft.proxy.filters.fault.FaultFilterFactory;
import dev.weft.proxy.filters.jwt.JwtAuthnFilterFactory;
import dev.weft.proxy.filters.rbac.RbacFilterFactory;
import dev.weft.proxy.router.RouterFilterFactory;
import dev.weft.xds.TypeUrls;
import java.util.HashMap;
import java.util.Map;

/**
 * The HTTP filters Weft knows, keyed by the type URL of their {@code typed_config} (and, for
 * configurations without one, by Envoy's well-known filter name). Immutable; {@link #defaults()} is
 * what the proxy uses, tests build their own with extra filters.
 */
public final class HttpFilterRegistry {
  private static final HttpFilterRegistry DEFAULTS =
      builder()
          .add(TypeUrls.ROUTER, "envoy.filters.http.router", RouterFilterFactory.PROVIDER)
          .add(RbacFilterFactory.TYPE_URL, RbacFilterFactory.NAME, RbacFilterFactory.PROVIDER)
          .add(
              JwtAuthnFilterFactory.TYPE_URL,
              JwtAuthnFilterFactory.NAME,
              JwtAuthnFilterFactory.provider())
          .add(FaultFilterFactory.TYPE_URL, FaultFilterFactory.NAME, FaultFilterFactory.PROVIDER)
          .addPerRoute(FaultFilterFactory.TYPE_URL, FaultFilterFactory.PER_ROUTE)
          .add(CorsFilterFactory.TYPE_URL, CorsFilterFactory.NAME, CorsFilterFactory.PROVIDER)
          .addPerRoute(CorsFilterFactory.POLICY_TYPE_URL, CorsFilterFactory.PER_ROUTE)
          .add(AlpnFilterFactory.TYPE_URL, AlpnFilterFactory.NAME, AlpnFilterFactory.PROVIDER)
          .build();

  private final Map<String, HttpFilterFactory.Provider> byTypeUrl;
  private final Map<String, HttpFilterFactory.Provider> byName;
  private final Map<String, HttpFilterFactory.PerRouteProvider> perRoute;

  private HttpFilterRegistry(Builder b) {
    this.byTypeUrl = Map.copyOf(b.byTypeUrl);
    this.byName = Map.copyOf(b.byName);
    this.perRoute = Map.copyOf(b.perRoute);
  }

  /**
   * The built-in filters: {@code envoy.extensions.filters.http.router.v3.Router}, {@code
   * envoy.extensions.filters.http.rbac.v3.RBAC}, {@code
   * envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication}, {@code fault.v3.HTTPFault} (and
   * its per-route config), {@code cors.v3.Cors} (with the per-route {@code cors.v3.CorsPolicy}),
   * Istio's {@code istio.alpn}.
   */
  public static HttpFilterRegistry defaults() {
    return DEFAULTS;
  }

  public static Builder builder() {
    return new Builder().addAll(DEFAULTS == null ? null : DEFAULTS);
  }

  /**
   * The provider for an {@code http_filters} entry: by its typed config's type URL, else by its
   * name; null when unknown.
   */
  public HttpFilterFactory.Provider provider(String typeUrl, String name) {
    HttpFilterFactory.Provider p = byTypeUrl.get(typeUrl);
    return p != null ? p : byName.get(name);
  }

  /**
   * The compiler of a route's {@code typed_per_filter_config} entry whose config has {@code
   * typeUrl}, or null when no filter knows it.
   */
  public HttpFilterFactory.PerRouteProvider perRouteProvider(String typeUrl) {
    return perRoute.get(typeUrl);
  }

  /** Builds a registry. */
  public static final class Builder {
    private final Map<String, HttpFilterFactory.Provider> byTypeUrl = new HashMap<>();
    private final Map<String, HttpFilterFactory.Provider> byName = new HashMap<>();
    private final Map<String, HttpFilterFactory.PerRouteProvider> perRoute = new HashMap<>();

    private Builder() {}

    private Builder addAll(HttpFilterRegistry r) {
      if (r != null) {
        byTypeUrl.putAll(r.byTypeUrl);
        byName.putAll(r.byName);
        perRoute.putAll(r.perRoute);
      }
      return this;
    }

    /**
     * Registers a filter.
     *
     * @param typeUrl e.g. {@code
     *     type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
     * @param name Envoy's filter name, e.g. {@code envoy.filters.http.router}
     */
    public Builder add(String typeUrl, String name, HttpFilterFactory.Provider provider) {
      byTypeUrl.put(typeUrl, provider);
      byName.put(name, provider);
      return this;
    }

    /**
     * Registers the compiler of a filter's per-route configuration ({@code typed_per_filter_config}
     * values of type {@code typeUrl}).
     */
    public Builder addPerRoute(String typeUrl, HttpFilterFactory.PerRouteProvider provider) {
      perRoute.put(typeUrl, provider);
      return this;
    }

    public HttpFilterRegistry build() {
      return new HttpFilterRegistry(this);
    }
  }
}
