package dev.weft.proxy.router;

import dev.weft.proxy.config.HeaderMatch;
import dev.weft.proxy.config.Route;
import dev.weft.proxy.config.RouteAction;
import dev.weft.proxy.config.VirtualHost;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.function.IntUnaryOperator;

/**
 * Envoy's route matching over compiled tables: the first route of the virtual host whose path
 * matcher and all header matchers match. Pseudo-headers ({@code :method}, {@code :path}, {@code
 * :authority}, {@code :scheme}) come from the request line.
 */
public final class Router {
  private Router() {}

  /**
   * The first matching route of {@code vh}, or null.
   *
   * @param path the origin-form path with its query
   * @param method the request method
   * @param authority the request authority
   * @param headers the request headers
   */
  public static Route match(
      VirtualHost vh, String path, String method, String authority, HttpHeaders headers) {
    int q = path.indexOf('?');
    int queryStart = q < 0 ? path.length() : q;
    Route[] routes = vh.routes();
    outer:
    for (Route r : routes) {
      if (!r.path().matches(path, queryStart)) {
        continue;
      }
      for (HeaderMatch h : r.headers()) {
        String value =
            switch (h.name()) {
              case ":method" -> method;
              case ":path" -> path;
              case ":authority", "host" -> authority;
              case ":scheme" -> "http";
              default -> headers.get(h.name());
            };
        if (!h.matches(value)) {
          continue outer;
        }
      }
      return r;
    }
    return null;
  }

  /**
   * The cluster a route action sends to ({@link RouteAction.ToCluster} or a weighted pick), or null
   * for a direct response. {@code random} draws a number in {@code [0, bound)}.
   */
  public static String cluster(RouteAction action, IntUnaryOperator random) {
    return switch (action) {
      case RouteAction.ToCluster c -> c.cluster();
      case RouteAction.Weighted w -> w.pick(random.applyAsInt(w.totalWeight()));
      case RouteAction.DirectResponse d -> null;
    };
  }
}
