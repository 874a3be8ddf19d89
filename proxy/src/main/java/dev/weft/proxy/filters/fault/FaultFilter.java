package dev.weft.proxy.filters.fault;

import dev.weft.proxy.config.ClusterConfig;
import dev.weft.proxy.config.Route;
import dev.weft.proxy.config.RouteAction;
import dev.weft.proxy.http.filter.FilterStatus;
import dev.weft.proxy.http.filter.HttpFilter;
import dev.weft.proxy.http.filter.HttpFilterCallbacks;
import dev.weft.proxy.http.filter.ResponseFlags;
import dev.weft.proxy.http.filter.StreamInfo;
import dev.weft.proxy.router.Router;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.IntUnaryOperator;

/**
 * Envoy's fault filter for one stream: the route's {@code typed_per_filter_config} {@code
 * HTTPFault} (else the listener's) decides, with one draw per fault, whether this request is
 * delayed and whether it is aborted. A delay holds the request on a timer of the stream's event
 * loop (the connection manager queues what arrives meanwhile) and adds flag {@code DI}; an abort,
 * after the delay if both hit, is a local reply with the configured status, body {@code fault
 * filter abort}, flag {@code FI} and details {@code fault_filter_abort}, as in Envoy. A gRPC
 * request ({@code content-type: application/grpc...}) gets Envoy's gRPC local reply: 200 with
 * {@code grpc-status} (the configured one, or the HTTP status mapped as Envoy maps it) and {@code
 * grpc-message}.
 *
 * <p>Holds no buffers; called on the stream's event loop only.
 */
final class FaultFilter implements HttpFilter {
  static final String BODY = "fault filter abort";
  static final String DETAILS = "fault_filter_abort";

  private final HttpFilterCallbacks cb;
  private final FaultConfig listenerConfig;
  private final IntUnaryOperator random;
  private FaultConfig active;
  private HttpRequest request;
  private ScheduledFuture<?> delayTimer;

  FaultFilter(HttpFilterCallbacks cb, FaultConfig listenerConfig, IntUnaryOperator random) {
    this.cb = cb;
    this.listenerConfig = listenerConfig;
    this.random = random;
  }

  @Override
  public FilterStatus decodeHeaders(HttpRequest req) {
    FaultConfig c = listenerConfig;
    Route route = cb.route();
    if (route != null && route.perFilterConfig(FaultFilterFactory.NAME) instanceof FaultConfig r) {
      c = r; // Envoy: the most specific per-route config replaces the filter's
    }
    if (!c.hasDelay() && !c.hasAbort()) {
      return FilterStatus.CONTINUE;
    }
    active = c;
    request = req;
    if (c.hasDelay() && hit(c.delayPerMillion())) {
      cb.streamInfo().addResponseFlag(ResponseFlags.DELAY_INJECTED);
      delayTimer =
          cb.eventLoop().schedule(this::afterDelay, c.delayMillis(), TimeUnit.MILLISECONDS);
      return FilterStatus.STOP;
    }
    if (c.hasAbort() && hit(c.abortPerMillion())) {
      abort();
      return FilterStatus.STOP;
    }
    return FilterStatus.CONTINUE;
  }

  /** Envoy's {@code postDelayInjection}: abort if the abort fault hits, else carry on. */
  private void afterDelay() {
    delayTimer = null;
    if (active.hasAbort() && hit(active.abortPerMillion())) {
      abort();
    } else {
      cb.continueDecoding();
    }
  }

  /** One draw in millionths, as Envoy's {@code featureEnabled} with a fractional percent. */
  private boolean hit(int perMillion) {
    return perMillion >= 1_000_000 || random.applyAsInt(1_000_000) < perMillion;
  }

  private void abort() {
    StreamInfo info = cb.streamInfo();
    info.addResponseFlag(ResponseFlags.FAULT_INJECTED);
    noteCluster(info);
    FaultConfig c = active;
    String contentType = request.headers().get(HttpHeaderNames.CONTENT_TYPE);
    boolean grpc = contentType != null && contentType.startsWith("application/grpc");
    if (!grpc) {
      // Envoy answers a gRPC-status abort of a plain HTTP request with 200.
      int status = c.abortHttpStatus() > 0 ? c.abortHttpStatus() : 200;
      cb.sendLocalReply(status, BODY, ResponseFlags.FAULT_INJECTED, DETAILS);
      return;
    }
    int grpcStatus =
        c.abortHttpStatus() > 0 ? httpToGrpc(c.abortHttpStatus()) : c.abortGrpcStatus();
    FullHttpResponse resp =
        new DefaultFullHttpResponse(
            HttpVersion.HTTP_1_1, HttpResponseStatus.OK, Unpooled.EMPTY_BUFFER);
    HttpHeaders h = resp.headers();
    h.set(HttpHeaderNames.CONTENT_TYPE, "application/grpc");
    h.set("grpc-status", grpcStatus);
    h.set("grpc-message", BODY);
    h.set(HttpHeaderNames.CONTENT_LENGTH, 0);
    cb.connectionManager().applyServerHeader(h);
    info.responseCode(200);
    info.responseFlags(ResponseFlags.FAULT_INJECTED);
    info.responseCodeDetails(DETAILS);
    cb.encodeHeaders(resp);
  }

  /**
   * The route's cluster goes into the stream's info, so that the abort is counted for its
   * destination (Istio's {@code istio_requests_total} with {@code response_flags="FI"}), as Envoy's
   * cached route sets the upstream cluster before any filter runs.
   */
  private void noteCluster(StreamInfo info) {
    Route route = cb.route();
    if (route == null
        || !(route.action() instanceof RouteAction.ToCluster
            || route.action() instanceof RouteAction.Weighted)) {
      return;
    }
    String name = Router.cluster(route.action(), cb.random());
    ClusterConfig cluster = cb.config().clusters().get(name);
    if (cluster != null) {
      info.cluster(cluster);
    } else {
      info.missingCluster(name);
    }
  }

  /** Envoy's {@code Grpc::Utility::httpToGrpcStatus}. */
  static int httpToGrpc(int http) {
    return switch (http) {
      case 400 -> 13; // INTERNAL
      case 401 -> 16; // UNAUTHENTICATED
      case 403 -> 7; // PERMISSION_DENIED
      case 404 -> 12; // UNIMPLEMENTED
      case 429, 502, 503, 504 -> 14; // UNAVAILABLE
      default -> 2; // UNKNOWN
    };
  }

  @Override
  public void onDestroy() {
    if (delayTimer != null) {
      delayTimer.cancel(false);
      delayTimer = null;
    }
  }
}
