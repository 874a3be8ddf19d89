package dev.weft.proxy.filters.cors;

import dev.weft.proxy.config.Route;
import dev.weft.proxy.http.filter.FilterStatus;
import dev.weft.proxy.http.filter.HttpFilter;
import dev.weft.proxy.http.filter.HttpFilterCallbacks;
import dev.weft.proxy.http.filter.StreamInfo;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;

/**
 * Envoy's CORS filter for one stream, with the route's {@code CorsPolicy}. A request whose {@code
 * origin} the policy allows is a CORS request: if it is a preflight ({@code OPTIONS} with {@code
 * access-control-request-method}) the proxy answers it, 200 with {@code
 * access-control-allow-origin} (the request's origin), {@code -allow-credentials}, {@code
 * -allow-methods}, {@code -allow-headers}, {@code -max-age} as configured, and the upstream never
 * sees it; otherwise the request goes on and its response gets {@code access-control-allow-origin},
 * {@code -allow-credentials} and {@code -expose-headers}. A preflight from an origin the policy
 * does not allow is forwarded, unless {@code forward_not_matching_preflights} is false (Istio's
 * {@code unmatchedPreflights: IGNORE}): then it is answered 200 without CORS headers, so the
 * browser refuses. Requests without {@code origin}, and routes without a policy, pass untouched.
 *
 * <p>Holds no buffers; called on the stream's event loop only.
 */
final class CorsFilter implements HttpFilter {
  static final AsciiString ALLOW_ORIGIN = AsciiString.cached("access-control-allow-origin");
  static final AsciiString ALLOW_CREDENTIALS =
      AsciiString.cached("access-control-allow-credentials");
  static final AsciiString ALLOW_METHODS = AsciiString.cached("access-control-allow-methods");
  static final AsciiString ALLOW_HEADERS = AsciiString.cached("access-control-allow-headers");
  static final AsciiString EXPOSE_HEADERS = AsciiString.cached("access-control-expose-headers");
  static final AsciiString MAX_AGE = AsciiString.cached("access-control-max-age");
  static final AsciiString REQUEST_METHOD = AsciiString.cached("access-control-request-method");
  static final AsciiString REQUEST_PRIVATE_NETWORK =
      AsciiString.cached("access-control-request-private-network");
  static final AsciiString ALLOW_PRIVATE_NETWORK =
      AsciiString.cached("access-control-allow-private-network");

  private final HttpFilterCallbacks cb;
  private CorsConfig policy;
  private String origin;

  CorsFilter(HttpFilterCallbacks cb) {
    this.cb = cb;
  }

  @Override
  public FilterStatus decodeHeaders(HttpRequest req) {
    Route route = cb.route();
    if (route == null
        || !(route.perFilterConfig(CorsFilterFactory.NAME) instanceof CorsConfig p)
        || !p.enabled()) {
      return FilterStatus.CONTINUE;
    }
    HttpHeaders h = req.headers();
    String o = h.get(HttpHeaderNames.ORIGIN);
    if (o == null || o.isEmpty()) {
      return FilterStatus.CONTINUE;
    }
    boolean preflight = HttpMethod.OPTIONS.equals(req.method()) && !isEmpty(h.get(REQUEST_METHOD));
    if (!p.originAllowed(o)) {
      if (preflight && !p.forwardNotMatchingPreflights()) {
        respond(
            new DefaultFullHttpResponse(
                HttpVersion.HTTP_1_1, HttpResponseStatus.OK, Unpooled.EMPTY_BUFFER));
        return FilterStatus.STOP;
      }
      return FilterStatus.CONTINUE;
    }
    if (!preflight) {
      // An actual CORS request: its response gets the headers (encodeHeaders).
      policy = p;
      origin = o;
      return FilterStatus.CONTINUE;
    }
    FullHttpResponse resp =
        new DefaultFullHttpResponse(
            HttpVersion.HTTP_1_1, HttpResponseStatus.OK, Unpooled.EMPTY_BUFFER);
    HttpHeaders rh = resp.headers();
    rh.set(ALLOW_ORIGIN, o);
    if (p.allowCredentials()) {
      rh.set(ALLOW_CREDENTIALS, "true");
    }
    if (p.allowMethods() != null) {
      rh.set(ALLOW_METHODS, p.allowMethods());
    }
    if (p.allowHeaders() != null) {
      rh.set(ALLOW_HEADERS, p.allowHeaders());
    }
    if (p.maxAge() != null) {
      rh.set(MAX_AGE, p.maxAge());
    }
    if (p.allowPrivateNetworkAccess() && "true".equals(h.get(REQUEST_PRIVATE_NETWORK))) {
      rh.set(ALLOW_PRIVATE_NETWORK, "true");
    }
    respond(resp);
    return FilterStatus.STOP;
  }

  /**
   * Envoy's {@code encodeHeaders(..., end_stream=true, "cors_response")} from a decoder filter: the
   * answer goes through the encoder filters and downstream; the stream ends with it.
   */
  private void respond(FullHttpResponse resp) {
    HttpHeaders rh = resp.headers();
    rh.set(HttpHeaderNames.CONTENT_LENGTH, 0);
    cb.connectionManager().applyServerHeader(rh);
    StreamInfo info = cb.streamInfo();
    info.responseCode(200);
    info.responseCodeDetails("cors_response");
    cb.encodeHeaders(resp);
  }

  @Override
  public FilterStatus encodeHeaders(HttpResponse response) {
    CorsConfig p = policy;
    if (p == null) {
      return FilterStatus.CONTINUE;
    }
    HttpHeaders h = response.headers();
    h.set(ALLOW_ORIGIN, origin);
    if (p.allowCredentials()) {
      h.set(ALLOW_CREDENTIALS, "true");
    }
    if (p.exposeHeaders() != null) {
      h.set(EXPOSE_HEADERS, p.exposeHeaders());
    }
    return FilterStatus.CONTINUE;
  }

  private static boolean isEmpty(String s) {
    return s == null || s.isEmpty();
  }
}
