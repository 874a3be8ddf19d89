package dev.weft.proxy.stats;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Istio's metric customisation for one connection manager (the {@code istio.stats} filter's {@code
 * PluginConfig.metrics}, which the Telemetry API's metric overrides become): per standard HTTP
 * metric, dropped, or tags removed, or tags set to literal values. Immutable; compared by value so
 * that equal configurations share series.
 *
 * @param byMetric by Istio's metric name without the {@code istio_} prefix ({@code requests_total},
 *     {@code request_duration_milliseconds}, {@code request_bytes}, {@code response_bytes}, and the
 *     TCP metrics {@code tcp_connections_opened_total}, {@code tcp_connections_closed_total},
 *     {@code tcp_received_bytes_total}, {@code tcp_sent_bytes_total})
 */
public record MetricOverrides(Map<String, Override> byMetric) {
  /** The HTTP metrics, in the order {@link IstioSeries} keeps their label texts. */
  static final String[] HTTP_METRICS = {
    "requests_total", "request_duration_milliseconds", "request_bytes", "response_bytes"
  };

  /** The TCP metrics, in the order {@link IstioTcpSeries} keeps their label texts. */
  static final String[] TCP_METRICS = {
    "tcp_connections_opened_total",
    "tcp_connections_closed_total",
    "tcp_received_bytes_total",
    "tcp_sent_bytes_total"
  };

  public MetricOverrides {
    byMetric = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(byMetric));
  }

  /**
   * One metric's customisation.
   *
   * @param drop the metric is not reported
   * @param remove tags removed
   * @param upsert tags set (added at the end when new), literal values
   */
  public record Override(boolean drop, Set<String> remove, Map<String, String> upsert) {
    public Override {
      remove = Set.copyOf(remove);
      upsert = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(upsert));
    }
  }

  /** The customisation of {@code metric}, or null. */
  Override of(String metric) {
    return byMetric.get(metric);
  }
}
