package dev.weft.proxy.stats;

import java.util.concurrent.atomic.LongAdder;

/**
 * One label set of Istio's TCP metrics (istio.stats for TCP): connections opened and closed, bytes
 * received from the downstream and sent to it.
 */
final class IstioTcpSeries {
  final String labels;
  final LongAdder opened = new LongAdder();
  final LongAdder closed = new LongAdder();
  final LongAdder received = new LongAdder();
  final LongAdder sent = new LongAdder();

  IstioTcpSeries(String labels) {
    this.labels = labels;
  }
}
