package dev.weft.controlplane.gen;

import com.google.protobuf.Any;
import com.google.protobuf.BoolValue;
import dev.weft.api.Durations;
import dev.weft.api.networking.Destination;
import dev.weft.api.networking.HttpFaultInjection;
import dev.weft.api.networking.HttpMirrorPolicy;
import dev.weft.api.networking.HttpRoute;
import dev.weft.controlplane.push.PushContext;
import io.envoyproxy.envoy.config.core.v3.RuntimeFractionalPercent;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteAction.RequestMirrorPolicy;
import io.envoyproxy.envoy.extensions.filters.common.fault.v3.FaultDelay;
import io.envoyproxy.envoy.extensions.filters.http.cors.v3.Cors;
import io.envoyproxy.envoy.extensions.filters.http.cors.v3.CorsPolicy;
import io.envoyproxy.envoy.extensions.filters.http.fault.v3.FaultAbort;
import io.envoyproxy.envoy.extensions.filters.http.fault.v3.HTTPFault;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import io.envoyproxy.envoy.type.v3.FractionalPercent;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Istio's traffic-management extras of an HTTP route ({@code pilot/pkg/networking/core/route}
 * {@code TranslateFault}, {@code TranslateCORSPolicy}, {@code MirrorPercent}/{@code
 * TranslateRequestMirrorPolicy}): {@code fault} and {@code corsPolicy} become the route's {@code
 * typed_per_filter_config} for {@code envoy.filters.http.fault} and {@code
 * envoy.filters.http.cors}, {@code mirror}/{@code mirrors} its {@code request_mirror_policies}; and
 * the two filters, with empty configs, that every HTTP connection manager carries before the router
 * (Istio's order).
 */
final class TrafficFeatures {
  /** Envoy's (and Istio's wellknown) name of the fault filter. */
  static final String FAULT = "envoy.filters.http.fault";

  /** Envoy's (and Istio's wellknown) name of the CORS filter. */
  static final String CORS = "envoy.filters.http.cors";

  /** gRPC status codes by name (Istio's {@code grpc.SupportedGRPCStatus}). */
  private static final List<String> GRPC_CODES =
      List.of(
          "OK",
          "CANCELLED",
          "UNKNOWN",
          "INVALID_ARGUMENT",
          "DEADLINE_EXCEEDED",
          "NOT_FOUND",
          "ALREADY_EXISTS",
          "PERMISSION_DENIED",
          "RESOURCE_EXHAUSTED",
          "FAILED_PRECONDITION",
          "ABORTED",
          "OUT_OF_RANGE",
          "UNIMPLEMENTED",
          "INTERNAL",
          "UNAVAILABLE",
          "DATA_LOSS",
          "UNAUTHENTICATED");

  private TrafficFeatures() {}

  /** The fault and CORS filters with empty configs, as Istio puts them before the router. */
  static List<HttpFilter> httpFilters() {
    return List.of(
        HttpFilter.newBuilder()
            .setName(FAULT)
            .setTypedConfig(Any.pack(HTTPFault.getDefaultInstance()))
            .build(),
        HttpFilter.newBuilder()
            .setName(CORS)
            .setTypedConfig(Any.pack(Cors.getDefaultInstance()))
            .build());
  }

  /** Istio's translateRoute: the route's fault and CORS policy as per-filter configs. */
  static void perFilterConfig(Route.Builder route, HttpRoute http) {
    HTTPFault fault = fault(http.fault());
    if (fault != null) {
      route.putTypedPerFilterConfig(FAULT, Any.pack(fault));
    }
    if (http.corsPolicy() != null) {
      route.putTypedPerFilterConfig(CORS, Any.pack(cors(http.corsPolicy())));
    }
  }

  /**
   * Istio's TranslateFault: a {@code fixedDelay} with its percentage (an {@code exponentialDelay}
   * is dropped, as Istio does), an abort with {@code httpStatus} or {@code grpcStatus} (an {@code
   * http2Error} abort is dropped); null when nothing is left.
   */
  static HTTPFault fault(HttpFaultInjection in) {
    if (in == null) {
      return null;
    }
    HTTPFault.Builder out = HTTPFault.newBuilder();
    boolean any = false;
    if (in.delay() != null && in.delay().fixedDelay() != null) {
      out.setDelay(
          FaultDelay.newBuilder()
              .setFixedDelay(duration(in.delay().fixedDelay()))
              .setPercentage(percent(in.delay().percentage())));
      any = true;
    }
    if (in.abort() != null) {
      FaultAbort.Builder a =
          FaultAbort.newBuilder().setPercentage(percent(in.abort().percentage()));
      if (in.abort().httpStatus() > 0) {
        out.setAbort(a.setHttpStatus(in.abort().httpStatus()));
        any = true;
      } else if (GRPC_CODES.contains(in.abort().grpcStatus())) {
        out.setAbort(a.setGrpcStatus(GRPC_CODES.indexOf(in.abort().grpcStatus())));
        any = true;
      }
    }
    return any ? out.build() : null;
  }

  /** Whether Istio keeps this fault's delay (a {@code fixedDelay}, not an exponential one). */
  static boolean delayTranslated(HttpFaultInjection.Delay d) {
    return d != null && d.fixedDelay() != null;
  }

  /**
   * Istio's TranslateCORSPolicy, from the validated {@code corsPolicy} document: {@code
   * allowOrigins} string matches (else the deprecated {@code allowOrigin} as exact matches), the
   * lists joined with {@code ,}, {@code maxAge} in seconds, {@code allowCredentials} when set,
   * {@code filter_enabled} 100 %, and {@code forward_not_matching_preflights} false only for {@code
   * unmatchedPreflights: IGNORE}.
   */
  static CorsPolicy cors(Map<String, Object> in) {
    CorsPolicy.Builder out = CorsPolicy.newBuilder();
    out.setForwardNotMatchingPreflights(
        BoolValue.of(!"IGNORE".equals(in.get("unmatchedPreflights"))));
    if (in.get("allowOrigins") instanceof List<?> origins) {
      for (Object o : origins) {
        if (o instanceof Map<?, ?> m) {
          StringMatcher sm = originMatch(m);
          if (sm != null) {
            out.addAllowOriginStringMatch(sm);
          }
        }
      }
    } else if (in.get("allowOrigin") instanceof List<?> origins) {
      for (Object o : origins) {
        out.addAllowOriginStringMatch(StringMatcher.newBuilder().setExact(String.valueOf(o)));
      }
    }
    out.setFilterEnabled(
        RuntimeFractionalPercent.newBuilder()
            .setDefaultValue(
                FractionalPercent.newBuilder()
                    .setNumerator(100)
                    .setDenominator(FractionalPercent.DenominatorType.HUNDRED)));
    if (in.get("allowCredentials") instanceof Boolean b) {
      out.setAllowCredentials(BoolValue.of(b));
    }
    out.setAllowHeaders(joined(in.get("allowHeaders")));
    out.setAllowMethods(joined(in.get("allowMethods")));
    out.setExposeHeaders(joined(in.get("exposeHeaders")));
    if (in.get("maxAge") != null) {
      Duration d = Durations.parse(String.valueOf(in.get("maxAge")));
      if (d != null) {
        out.setMaxAge(Long.toString(d.getSeconds()));
      }
    }
    return out.build();
  }

  private static StringMatcher originMatch(Map<?, ?> m) {
    if (m.get("exact") != null) {
      return StringMatcher.newBuilder().setExact(String.valueOf(m.get("exact"))).build();
    }
    if (m.get("prefix") != null) {
      return StringMatcher.newBuilder().setPrefix(String.valueOf(m.get("prefix"))).build();
    }
    if (m.get("regex") != null) {
      return StringMatcher.newBuilder()
          .setSafeRegex(RouteTranslator.regex(String.valueOf(m.get("regex"))))
          .build();
    }
    return null;
  }

  private static String joined(Object list) {
    if (!(list instanceof List<?> l) || l.isEmpty()) {
      return "";
    }
    StringBuilder sb = new StringBuilder();
    for (Object o : l) {
      if (!sb.isEmpty()) {
        sb.append(',');
      }
      sb.append(o);
    }
    return sb.toString();
  }

  /**
   * Istio's mirror policies (applyHTTPRouteDestination): {@code mirror} with {@code
   * mirrorPercentage} (100 % when absent, none at 0), then each of {@code mirrors} with its {@code
   * percentage}; {@code trace_sampled: false}.
   */
  static void mirrors(
      RouteAction.Builder b,
      PushContext context,
      HttpRoute http,
      String namespace,
      RouteTranslator.Scope scope) {
    if (http.mirror() != null) {
      FractionalPercent p = mirrorPercent(http.mirrorPercentage());
      if (p != null) {
        b.addRequestMirrorPolicies(mirror(context, http.mirror(), namespace, scope, p));
      }
    }
    for (HttpMirrorPolicy m : http.mirrors()) {
      FractionalPercent p = mirrorPercent(m.percentage());
      if (p != null && m.destination() != null) {
        b.addRequestMirrorPolicies(mirror(context, m.destination(), namespace, scope, p));
      }
    }
  }

  private static RequestMirrorPolicy mirror(
      PushContext context,
      Destination d,
      String namespace,
      RouteTranslator.Scope scope,
      FractionalPercent p) {
    return RequestMirrorPolicy.newBuilder()
        .setCluster(RouteTranslator.cluster(context, d, namespace, scope))
        .setRuntimeFraction(RuntimeFractionalPercent.newBuilder().setDefaultValue(p))
        .setTraceSampled(BoolValue.of(false))
        .build();
  }

  /** Istio's MirrorPercent: 100 % (of a hundred) when unset, none at 0, else per million. */
  private static FractionalPercent mirrorPercent(Double value) {
    if (value == null) {
      return FractionalPercent.newBuilder()
          .setNumerator(100)
          .setDenominator(FractionalPercent.DenominatorType.HUNDRED)
          .build();
    }
    return value > 0 ? percent(value) : null;
  }

  /** Istio's translatePercentToFractionalPercent: {@code value * 10000} per million. */
  static FractionalPercent percent(double value) {
    return FractionalPercent.newBuilder()
        .setNumerator((int) (value * 10_000))
        .setDenominator(FractionalPercent.DenominatorType.MILLION)
        .build();
  }

  private static com.google.protobuf.Duration duration(Duration d) {
    return com.google.protobuf.Duration.newBuilder()
        .setSeconds(d.getSeconds())
        .setNanos(d.getNano())
        .build();
  }
}
