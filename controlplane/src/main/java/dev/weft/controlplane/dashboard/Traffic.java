package dev.weft.controlplane.dashboard;

import java.util.List;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * Istio request metrics over a time window, per series: what {@link GraphBuilder} turns into a
 * graph, whichever source (the proxies' scrapes or a Prometheus) measured them.
 *
 * @param series one entry per series
 * @param windowSeconds the window the rates are over (0 when no rate could be computed yet)
 */
record Traffic(List<Series> series, double windowSeconds) {
  Traffic {
    series = List.copyOf(series);
  }

  /**
   * One series' numbers.
   *
   * @param key its labels
   * @param rate requests per second over the window
   * @param total requests counted since the proxy started (0 when unknown)
   * @param bucketRates {@code istio_request_duration_milliseconds_bucket} per second by {@code le}
   *     (cumulative, as Prometheus buckets are), over the window
   * @param bucketTotals the same buckets' counts since the proxy started
   */
  record Series(
      SeriesKey key,
      double rate,
      double total,
      NavigableMap<Double, Double> bucketRates,
      NavigableMap<Double, Double> bucketTotals) {
    Series {
      bucketRates = new TreeMap<>(bucketRates);
      bucketTotals = new TreeMap<>(bucketTotals);
    }
  }
}
