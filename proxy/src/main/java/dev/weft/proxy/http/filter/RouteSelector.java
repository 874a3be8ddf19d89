package dev.weft.proxy.http.filter;

import dev.weft.proxy.config.Route;
import dev.weft.proxy.config.VirtualHost;
import io.netty.handler.codec.http.HttpHeaders;

/**
 * Route selection as the HTTP layer asks for it (Envoy's {@code Router::Config::route}, which the
 * connection manager calls to fill its cached route): the route of a virtual host that a request
 * matches. The HTTP layer owns this seam; the router implements it ({@code router.Router#match})
 * and hands it over through its filter factory ({@link HttpFilterFactory#routeSelector()}), so the
 * HTTP layer never depends on the router.
 */
@FunctionalInterface
public interface RouteSelector {
  /** Selects no route: for a terminal filter that is not a router. */
  RouteSelector NONE = (vh, path, method, authority, headers) -> null;

  /**
   * The first route of {@code vh} the request matches, or null.
   *
   * @param path the origin-form path with its query
   * @param method the request method
   * @param authority the request authority
   * @param headers the request headers (not retained)
   */
  Route select(VirtualHost vh, String path, String method, String authority, HttpHeaders headers);
}
