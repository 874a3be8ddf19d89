package dev.weft.proxy.router;

import dev.weft.proxy.config.HeaderMatch;
import dev.weft.proxy.config.PathMatch;
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
    // Envoy: a connect_matcher route matches CONNECT requests only, and a CONNECT request only
    // such a route.
    boolean connect = "CONNECT".equals(method);
    outer:
    for (Route r : routes) {
      if ((r.path().kind() == PathMatch.Kind.CONNECT) != connect
          || !r.path().matches(path, queryStart)) {
        continue;
      }
      for (HeaderMatch h : r.headers()) {
        String name = h.name();
        String value =
            name.charAt(0) == '?'
                ? queryParameter(path, queryStart, name)
                : switch (name) {
                  case ":method" -> method;
                  case ":path" -> path;
                  case ":authority", "host" -> authority;
                  case ":scheme" -> "http";
                  default -> headers.get(name);
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
   * The raw value of query parameter {@code "?" + name} in {@code path} ("" when it has no '='), or
   * null when absent.
   */
  static String queryParameter(String path, int queryStart, String questionName) {
    int keyLen = questionName.length() - 1;
    int i = queryStart + 1;
    int n = path.length();
    while (i < n) {
      int amp = path.indexOf('&', i);
      int end = amp < 0 ? n : amp;
      if (path.regionMatches(i, questionName, 1, keyLen)) {
        int after = i + keyLen;
        if (after == end) {
          return "";
        }
        if (path.charAt(after) == '=') {
          return path.substring(after + 1, end);
        }
      }
      i = end + 1;
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
      case RouteAction.Redirect r -> null;
    };
  }

  /**
   * Envoy's {@code require_tls}: the https Location to redirect a plain-text request to, or null
   * when the virtual host does not require TLS for it. {@code EXTERNAL_ONLY} spares requests marked
   * internal ({@code x-envoy-internal: true}).
   */
  public static String tlsRedirect(
      VirtualHost vh, String scheme, boolean internal, String authority, String path) {
    boolean required =
        switch (vh.requireTls()) {
          case "ALL" -> true;
          case "EXTERNAL_ONLY" -> !internal;
          default -> false;
        };
    if (!required || "https".equals(scheme)) {
      return null;
    }
    return "https://" + stripDefaultPort(authority, "http") + path;
  }

  /**
   * The Location of an Envoy redirect route: the request's scheme, host and path with the
   * configured parts swapped in; a port that is the scheme's default is left out.
   */
  public static String redirectLocation(
      Route route, RouteAction.Redirect r, String scheme, String authority, String path) {
    String finalScheme = r.scheme() != null ? r.scheme() : scheme;
    String host = r.host() != null ? r.host() : authority;
    if (r.port() > 0) {
      host = hostOnly(host);
      if (!isDefaultPort(finalScheme, r.port())) {
        host = host + ":" + r.port();
      }
    } else if (r.host() == null && !finalScheme.equals(scheme)) {
      host = stripDefaultPort(host, scheme);
    }
    int q = path.indexOf('?');
    String query = q < 0 ? "" : path.substring(q);
    String p = q < 0 ? path : path.substring(0, q);
    if (r.path() != null) {
      p = r.path();
      if (p.indexOf('?') >= 0) {
        query = "";
      }
    } else if (r.prefixRewrite() != null) {
      int matched = Math.min(route.path().value().length(), p.length());
      p = r.prefixRewrite() + p.substring(matched);
    }
    if (r.stripQuery()) {
      query = "";
    }
    return finalScheme + "://" + host + p + query;
  }

  private static boolean isDefaultPort(String scheme, int port) {
    return (scheme.equals("http") && port == 80) || (scheme.equals("https") && port == 443);
  }

  private static String hostOnly(String authority) {
    int colon = authority.lastIndexOf(':');
    if (colon > 0 && authority.indexOf(']') < colon) {
      return authority.substring(0, colon);
    }
    return authority;
  }

  private static String stripDefaultPort(String authority, String scheme) {
    String host = hostOnly(authority);
    if (host.length() == authority.length()) {
      return authority;
    }
    try {
      int port = Integer.parseInt(authority.substring(host.length() + 1));
      return isDefaultPort(scheme, port) ? host : authority;
    } catch (NumberFormatException e) {
      return authority;
    }
  }
}
