package dev.weft.proxy.filters.fault;

import dev.weft.proxy.config.InvalidResourceException;
import dev.weft.proxy.config.Percentages;
import io.envoyproxy.envoy.extensions.filters.common.fault.v3.FaultDelay;
import io.envoyproxy.envoy.extensions.filters.http.fault.v3.FaultAbort;
import io.envoyproxy.envoy.extensions.filters.http.fault.v3.HTTPFault;

/**
 * A compiled {@code envoy.extensions.filters.http.fault.v3.HTTPFault}: the filter's own config or a
 * route's {@code typed_per_filter_config} (which replaces it for that route, as in Envoy).
 * Immutable.
 *
 * @param delayMillis {@code delay.fixed_delay}, or -1 for no delay fault
 * @param delayPerMillion {@code delay.percentage} in millionths of requests
 * @param abortHttpStatus {@code abort.http_status}, or 0
 * @param abortGrpcStatus {@code abort.grpc_status}, or -1
 * @param abortPerMillion {@code abort.percentage} in millionths of requests
 */
public record FaultConfig(
    long delayMillis,
    int delayPerMillion,
    int abortHttpStatus,
    int abortGrpcStatus,
    int abortPerMillion) {

  /** No fault (Istio's listener-level {@code HTTPFault {}}). */
  public static final FaultConfig NONE = new FaultConfig(-1, 0, 0, -1, 0);

  /** Whether a delay fault is configured. */
  public boolean hasDelay() {
    return delayMillis >= 0 && delayPerMillion > 0;
  }

  /** Whether an abort fault is configured. */
  public boolean hasAbort() {
    return (abortHttpStatus > 0 || abortGrpcStatus >= 0) && abortPerMillion > 0;
  }

  /**
   * Compiles Envoy's {@code HTTPFault}: {@code delay.fixed_delay} and {@code abort.http_status} /
   * {@code abort.grpc_status}, each with its {@code percentage}; the runtime keys are ignored (no
   * runtime: the configured values hold). What Weft cannot honour is rejected: header-controlled
   * faults, {@code headers}, {@code downstream_nodes}, {@code upstream_cluster}, {@code
   * max_active_faults}, {@code response_rate_limit}.
   */
  public static FaultConfig compile(HTTPFault f) throws InvalidResourceException {
    if (f.getHeadersCount() > 0) {
      throw new InvalidResourceException("fault: headers is not supported");
    }
    if (f.getDownstreamNodesCount() > 0) {
      throw new InvalidResourceException("fault: downstream_nodes is not supported");
    }
    if (!f.getUpstreamCluster().isEmpty()) {
      throw new InvalidResourceException("fault: upstream_cluster is not supported");
    }
    if (f.hasMaxActiveFaults()) {
      throw new InvalidResourceException("fault: max_active_faults is not supported");
    }
    if (f.hasResponseRateLimit()) {
      throw new InvalidResourceException("fault: response_rate_limit is not supported");
    }
    long delayMillis = -1;
    int delayPerMillion = 0;
    if (f.hasDelay()) {
      FaultDelay d = f.getDelay();
      if (!d.hasFixedDelay()) {
        throw new InvalidResourceException(
            "fault: delay needs fixed_delay (header_delay is not supported)");
      }
      var fd = d.getFixedDelay();
      if (fd.getSeconds() < 0 || fd.getNanos() < 0) {
        throw new InvalidResourceException("fault: delay.fixed_delay must not be negative");
      }
      delayMillis = fd.getSeconds() * 1000 + fd.getNanos() / 1_000_000;
      delayPerMillion = Percentages.perMillion("fault: delay.percentage: ", d.getPercentage());
    }
    int httpStatus = 0;
    int grpcStatus = -1;
    int abortPerMillion = 0;
    if (f.hasAbort()) {
      FaultAbort a = f.getAbort();
      switch (a.getErrorTypeCase()) {
        case HTTP_STATUS -> {
          httpStatus = a.getHttpStatus();
          if (httpStatus < 200 || httpStatus >= 600) {
            throw new InvalidResourceException(
                "fault: abort.http_status must be in [200, 600), got " + httpStatus);
          }
        }
        case GRPC_STATUS -> grpcStatus = a.getGrpcStatus();
        default ->
            throw new InvalidResourceException(
                "fault: abort needs http_status or grpc_status (header_abort is not supported)");
      }
      abortPerMillion = Percentages.perMillion("fault: abort.percentage: ", a.getPercentage());
    }
    return new FaultConfig(delayMillis, delayPerMillion, httpStatus, grpcStatus, abortPerMillion);
  }
}
