package dev.weft.proxy.router;

import dev.weft.proxy.config.Route;
import dev.weft.proxy.http.filter.HttpConnectionManagerConfig;
import dev.weft.proxy.http.filter.StreamInfo;
import dev.weft.proxy.net.HeaderNames;
import dev.weft.proxy.stats.ClusterStats;
import dev.weft.proxy.stats.PeerMetadata;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;

/**
 * The router's header work on both sides of the upstream: the request head as the upstream sees it
 * (rewrites, Envoy's {@code x-envoy-*} headers, the route's header mutations) and the response head
 * as the downstream sees it.
 */
final class UpstreamHeaders {
  static final AsciiString X_FORWARDED_PROTO = HeaderNames.X_FORWARDED_PROTO;
  private static final AsciiString X_ENVOY_ORIGINAL_PATH = HeaderNames.X_ENVOY_ORIGINAL_PATH;
  private static final AsciiString X_ENVOY_EXPECTED_RQ_TIMEOUT_MS =
      HeaderNames.X_ENVOY_EXPECTED_RQ_TIMEOUT_MS;
  private static final AsciiString X_ENVOY_UPSTREAM_SERVICE_TIME =
      HeaderNames.X_ENVOY_UPSTREAM_SERVICE_TIME;
  private static final AsciiString HTTP = AsciiString.cached("http");
  private static final AsciiString HTTPS = AsciiString.cached("https");

  /** The usual {@code x-envoy-upstream-service-time} values, so that they need no conversion. */
  private static final AsciiString[] SMALL_MILLIS = new AsciiString[1000];

  static {
    for (int i = 0; i < SMALL_MILLIS.length; i++) {
      SMALL_MILLIS[i] = AsciiString.cached(Integer.toString(i));
    }
  }

  private UpstreamHeaders() {}

  /** Upstream request head: origin-form, HTTP/1.1, hop-by-hop headers removed, Envoy's headers. */
  static void prepareRequest(HttpRequest req, Route route, StreamInfo info) {
    HttpHeaders h = req.headers();
    String path = info.path();
    String upstreamPath = route.upstreamPath(path);
    if (upstreamPath != path) {
      // Envoy keeps the path it rewrote for the upstream to see.
      h.set(X_ENVOY_ORIGINAL_PATH, path);
    }
    req.setUri(upstreamPath);
    req.setProtocolVersion(HttpVersion.HTTP_1_1);
    HopByHopHeaders.strip(h);
    h.set(HeaderNames.HOST, route.hostRewrite() != null ? route.hostRewrite() : info.authority());
    if (route.timeoutMillis() > 0) {
      // Envoy tells the upstream how long the proxy will wait (unless suppress_envoy_headers).
      h.set(X_ENVOY_EXPECTED_RQ_TIMEOUT_MS, route.timeoutMillis());
    }
    route.requestHeaders().apply(h);
    if (!h.contains(X_FORWARDED_PROTO)) {
      // Envoy: the downstream connection's scheme when no hop set one.
      h.set(X_FORWARDED_PROTO, info.peer() != null ? HTTPS : HTTP);
    }
    if (info.span() != null) {
      // Envoy injects the span's context into every upstream request of a traced stream.
      dev.weft.proxy.tracing.TraceHeaders.inject(h, info.span());
    }
    // Istio's metadata exchange (see IstioTelemetry): the route's cluster tells the side.
    ClusterStats cs = info.cluster().stats();
    PeerMetadata downstreamPeer = cs.telemetry().onUpstreamRequest(h, cs.inbound());
    if (downstreamPeer != null) {
      info.peerMetadata(downstreamPeer);
    }
    if (info.protocol() == HttpVersion.HTTP_1_0
        && !HttpUtil.isContentLengthSet(req)
        && !HttpUtil.isTransferEncodingChunked(req)) {
      h.set(HeaderNames.CONTENT_LENGTH, 0);
    }
  }

  /**
   * Downstream response head: Istio's metadata exchange, hop-by-hop headers removed, {@code
   * x-envoy-upstream-service-time}, the connection manager's {@code server} header, then the
   * route's response header mutations (Weft has always set {@code server} first, so a route may
   * override it).
   */
  static void prepareResponse(
      HttpResponse r,
      long serviceTimeMillis,
      HttpConnectionManagerConfig hcm,
      Route route,
      StreamInfo info) {
    HttpHeaders h = r.headers();
    ClusterStats cs = info.cluster().stats();
    PeerMetadata upstreamPeer =
        cs.telemetry().onUpstreamResponse(h, cs.inbound(), info.peerMetadata());
    if (upstreamPeer != null) {
      info.peerMetadata(upstreamPeer);
    }
    HopByHopHeaders.strip(h);
    h.set(
        X_ENVOY_UPSTREAM_SERVICE_TIME,
        serviceTimeMillis >= 0 && serviceTimeMillis < SMALL_MILLIS.length
            ? SMALL_MILLIS[(int) serviceTimeMillis]
            : Long.toString(serviceTimeMillis));
    hcm.applyServerHeader(h);
    route.responseHeaders().apply(h);
  }

  /**
   * The request's scheme: {@code x-forwarded-proto} when a hop set it, else the downstream
   * connection's ({@code https} over TLS), as Envoy's connection manager fills it in.
   */
  static String scheme(HttpHeaders h, StreamInfo info) {
    String xfp = h.get(X_FORWARDED_PROTO);
    if (xfp == null) {
      return info.peer() != null ? "https" : "http";
    }
    return "https".equalsIgnoreCase(xfp) ? "https" : "http";
  }

  /** Sets {@code x-envoy-expected-rq-timeout-ms} to {@code millis} (removed when 0: none). */
  static void expectedTimeout(HttpHeaders h, long millis) {
    if (millis > 0) {
      h.set(X_ENVOY_EXPECTED_RQ_TIMEOUT_MS, millis);
    } else {
      h.remove(X_ENVOY_EXPECTED_RQ_TIMEOUT_MS);
    }
  }
}
