package dev.weft.proxy.config;

/**
 * Envoy's {@code slow_start_config} of a ROUND_ROBIN or LEAST_REQUEST cluster (Istio's {@code
 * warmupDurationSecs} and {@code warmup}): a host that joined the cluster less than {@code window}
 * ago has its weight scaled by {@code max(minWeightPercent / 100, (age / window)^(1 /
 * aggression))}, so traffic to it ramps up over the window ({@code
 * EdfLoadBalancerBase::applySlowStartFactor}).
 *
 * @param windowNanos the slow start window
 * @param aggression how fast the weight ramps (1 is linear; larger is faster at first)
 * @param minWeightPercent the smallest share of its weight a new host gets, in percent
 */
public record SlowStart(long windowNanos, double aggression, double minWeightPercent) {
  /** The weight factor of a host {@code ageNanos} old: 1 once it is out of the window. */
  public double factor(long ageNanos) {
    if (ageNanos >= windowNanos) {
      return 1;
    }
    double time = Math.max(1_000_000, ageNanos) / (double) windowNanos;
    double ramp = aggression == 1.0 ? time : Math.pow(time, 1.0 / aggression);
    return Math.max(ramp, minWeightPercent / 100.0);
  }
}
