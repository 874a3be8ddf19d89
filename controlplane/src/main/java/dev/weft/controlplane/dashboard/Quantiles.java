package dev.weft.controlplane.dashboard;

import java.util.Map;
import java.util.NavigableMap;

/** Quantiles of Prometheus histograms. */
final class Quantiles {
  private Quantiles() {}

  /**
   * The {@code q} quantile of a histogram whose cumulative bucket counts (or rates) are {@code
   * buckets} by upper bound {@code le}, as PromQL's {@code histogram_quantile} computes it: the
   * rank {@code q × count} is found in the first bucket whose cumulative count reaches it, and the
   * value interpolated linearly inside that bucket (from 0 for the first bucket when its bound is
   * positive); a rank in the {@code +Inf} bucket answers the largest finite bound. NaN when the
   * histogram is empty or has no {@code +Inf} bucket.
   */
  static double quantile(double q, NavigableMap<Double, Double> buckets) {
    if (buckets.isEmpty() || !buckets.lastKey().isInfinite()) {
      return Double.NaN;
    }
    double total = buckets.lastEntry().getValue();
    if (!(total > 0)) {
      return Double.NaN;
    }
    double rank = q * total;
    double prevBound = 0;
    double prevCount = 0;
    boolean first = true;
    for (Map.Entry<Double, Double> e : buckets.entrySet()) {
      double bound = e.getKey();
      double count = e.getValue();
      if (count >= rank) {
        if (Double.isInfinite(bound)) {
          return prevBound;
        }
        if (first && bound <= 0) {
          return bound;
        }
        double inBucket = count - prevCount;
        if (inBucket <= 0) {
          return bound;
        }
        return prevBound + (bound - prevBound) * ((rank - prevCount) / inBucket);
      }
      prevBound = bound;
      prevCount = count;
      first = false;
    }
    return prevBound;
  }
}
