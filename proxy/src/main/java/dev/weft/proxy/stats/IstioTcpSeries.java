package dev.weft.proxy.stats;

import java.util.concurrent.atomic.LongAdder;

/**
 * One label set of Istio's TCP metrics (istio.stats for TCP): connections opened and closed, bytes
 * received from the downstream and sent to it, with each metric's label text after the Telemetry
 * API's overrides.
 */
final class IstioTcpSeries {
  final String labels;

  /**
   * The label text of each of {@link MetricOverrides#TCP_METRICS} after the overrides, null for a
   * dropped metric.
   */
  final String[] metricLabels;

  final LongAdder opened = new LongAdder();
  final LongAdder closed = new LongAdder();
  final LongAdder received = new LongAdder();
  final LongAdder sent = new LongAdder();

  IstioTcpSeries(String labels) {
    this(labels, new String[] {labels, labels, labels, labels});
  }

  IstioTcpSeries(String labels, String[] metricLabels) {
    this.labels = labels;
    this.metricLabels = metricLabels;
  }
}
