package dev.weft.proxy.config;

import com.google.protobuf.Any;
import com.google.protobuf.Duration;
import com.google.protobuf.InvalidProtocolBufferException;
import io.envoyproxy.envoy.config.cluster.v3.CircuitBreakers;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.cluster.v3.OutlierDetection;
import io.envoyproxy.envoy.config.core.v3.RoutingPriority;
import io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions;

/**
 * Compiles the balancing and limits of an Envoy {@code Cluster} into a {@link ClusterPolicy},
 * rejecting (NACK) what the proxy cannot do rather than ignoring it: an unsupported {@code
 * lb_policy}, ring hash's MURMUR_HASH_2, a Maglev table size that is not a prime. Outlier detection
 * is consecutive-error detection only: success-rate and failure-percentage ejection (which Istio
 * always disables) are not implemented.
 */
public final class ClusterPolicies {
  private static final AnyType<HttpProtocolOptions> HTTP_PROTOCOL_OPTIONS_TYPE =
      AnyType.of(HttpProtocolOptions::getDescriptor, HttpProtocolOptions.parser());

  /** The key of the HTTP protocol options in {@code typed_extension_protocol_options}. */
  static final String HTTP_PROTOCOL_OPTIONS =
      "envoy.extensions.upstreams.http.v3.HttpProtocolOptions";

  private ClusterPolicies() {}

  public static ClusterPolicy compile(String where, Cluster c) throws InvalidResourceException {
    ClusterPolicy d = ClusterPolicy.DEFAULT;
    LbPolicy lb =
        switch (c.getLbPolicy()) {
          case ROUND_ROBIN -> LbPolicy.ROUND_ROBIN;
          case LEAST_REQUEST -> LbPolicy.LEAST_REQUEST;
          case RANDOM -> LbPolicy.RANDOM;
          case RING_HASH -> LbPolicy.RING_HASH;
          case MAGLEV -> LbPolicy.MAGLEV;
          // Envoy: the cluster picks its host (required of ORIGINAL_DST, refused elsewhere).
          case CLUSTER_PROVIDED -> {
            if (c.getType() != Cluster.DiscoveryType.ORIGINAL_DST) {
              throw new InvalidResourceException(
                  where + "lb_policy CLUSTER_PROVIDED needs an ORIGINAL_DST cluster");
            }
            yield LbPolicy.CLUSTER_PROVIDED;
          }
          default ->
              throw new InvalidResourceException(
                  where + "lb_policy " + c.getLbPolicy() + " is not supported");
        };
    if (c.getType() == Cluster.DiscoveryType.ORIGINAL_DST && lb != LbPolicy.CLUSTER_PROVIDED) {
      throw new InvalidResourceException(
          where + "an ORIGINAL_DST cluster needs lb_policy CLUSTER_PROVIDED");
    }
    int choiceCount = d.choiceCount();
    if (c.hasLeastRequestLbConfig() && c.getLeastRequestLbConfig().hasChoiceCount()) {
      long choices = u32(c.getLeastRequestLbConfig().getChoiceCount().getValue());
      if (choices < 2 || choices > 100) {
        throw new InvalidResourceException(where + "choice_count must be 2..100");
      }
      choiceCount = (int) choices;
    }
    long minRing = d.minimumRingSize();
    long maxRing = d.maximumRingSize();
    if (c.hasRingHashLbConfig()) {
      var r = c.getRingHashLbConfig();
      if (r.getHashFunction() != Cluster.RingHashLbConfig.HashFunction.XX_HASH) {
        throw new InvalidResourceException(
            where + "ring hash function " + r.getHashFunction() + " is not supported");
      }
      if (r.hasMinimumRingSize()) {
        minRing = r.getMinimumRingSize().getValue();
      }
      if (r.hasMaximumRingSize()) {
        maxRing = r.getMaximumRingSize().getValue();
      }
      // Envoy's bounds: 1 .. 8M, minimum <= maximum.
      if (minRing < 1 || maxRing > 8 * 1024 * 1024 || minRing > maxRing) {
        throw new InvalidResourceException(
            where + "ring sizes must satisfy 1 <= minimum_ring_size <= maximum_ring_size <= 8M");
      }
    }
    int tableSize = d.maglevTableSize();
    if (c.hasMaglevLbConfig() && c.getMaglevLbConfig().hasTableSize()) {
      long t = c.getMaglevLbConfig().getTableSize().getValue();
      if (t > 5_000_011 || !isPrime(t)) {
        throw new InvalidResourceException(
            where + "maglev table_size must be a prime number up to 5000011, not " + t);
      }
      tableSize = (int) t;
    }
    double panic = d.panicThresholdPercent();
    if (c.hasCommonLbConfig() && c.getCommonLbConfig().hasHealthyPanicThreshold()) {
      panic = c.getCommonLbConfig().getHealthyPanicThreshold().getValue();
      if (panic < 0 || panic > 100) {
        throw new InvalidResourceException(where + "healthy_panic_threshold must be 0..100");
      }
    }
    CircuitBreakerLimits limits = limits(c.getCircuitBreakers());
    OutlierConfig outlier =
        c.hasOutlierDetection() ? outlier(where, c.getOutlierDetection()) : null;
    long maxPerConnection = 0;
    long idle = d.idleTimeoutMillis();
    if (c.hasMaxRequestsPerConnection()) {
      maxPerConnection = u32(c.getMaxRequestsPerConnection().getValue());
    }
    if (c.hasCommonHttpProtocolOptions()) {
      var o = c.getCommonHttpProtocolOptions();
      if (o.hasMaxRequestsPerConnection()) {
        maxPerConnection = u32(o.getMaxRequestsPerConnection().getValue());
      }
      if (o.hasIdleTimeout()) {
        idle = millis(where + "idle_timeout", o.getIdleTimeout());
      }
    }
    Any options = c.getTypedExtensionProtocolOptionsMap().get(HTTP_PROTOCOL_OPTIONS);
    if (options != null) {
      HttpProtocolOptions hpo;
      try {
        hpo = HTTP_PROTOCOL_OPTIONS_TYPE.unpack(options);
      } catch (InvalidProtocolBufferException e) {
        throw new InvalidResourceException(
            where + HTTP_PROTOCOL_OPTIONS + " is not an HttpProtocolOptions: " + e.getMessage());
      }
      if (hpo.hasCommonHttpProtocolOptions()) {
        var o = hpo.getCommonHttpProtocolOptions();
        if (o.hasMaxRequestsPerConnection()) {
          maxPerConnection = u32(o.getMaxRequestsPerConnection().getValue());
        }
        if (o.hasIdleTimeout()) {
          idle = millis(where + "idle_timeout", o.getIdleTimeout());
        }
      }
    }
    TcpKeepalive keepalive = null;
    if (c.hasUpstreamConnectionOptions() && c.getUpstreamConnectionOptions().hasTcpKeepalive()) {
      var k = c.getUpstreamConnectionOptions().getTcpKeepalive();
      keepalive =
          new TcpKeepalive(
              k.hasKeepaliveProbes() ? count(k.getKeepaliveProbes().getValue()) : 0,
              k.hasKeepaliveTime() ? count(k.getKeepaliveTime().getValue()) : 0,
              k.hasKeepaliveInterval() ? count(k.getKeepaliveInterval().getValue()) : 0);
    }
    boolean localityWeighted =
        c.hasCommonLbConfig() && c.getCommonLbConfig().hasLocalityWeightedLbConfig();
    SlowStart slowStart = null;
    if (lb == LbPolicy.ROUND_ROBIN
        && c.hasRoundRobinLbConfig()
        && c.getRoundRobinLbConfig().hasSlowStartConfig()) {
      slowStart = slowStart(where, c.getRoundRobinLbConfig().getSlowStartConfig());
    } else if (lb == LbPolicy.LEAST_REQUEST
        && c.hasLeastRequestLbConfig()
        && c.getLeastRequestLbConfig().hasSlowStartConfig()) {
      slowStart = slowStart(where, c.getLeastRequestLbConfig().getSlowStartConfig());
    }
    return new ClusterPolicy(
        lb,
        choiceCount,
        minRing,
        maxRing,
        tableSize,
        panic,
        limits,
        outlier,
        maxPerConnection,
        idle,
        keepalive,
        localityWeighted,
        slowStart);
  }

  /** Envoy's {@code SlowStartConfig}: aggression above 0 (default 1), minimum weight 10%. */
  private static SlowStart slowStart(String where, Cluster.SlowStartConfig s)
      throws InvalidResourceException {
    if (!s.hasSlowStartWindow()) {
      return null; // no window: no slow start
    }
    long window = millis(where + "slow_start_window", s.getSlowStartWindow());
    double aggression = s.hasAggression() ? s.getAggression().getDefaultValue() : 1.0;
    if (!(aggression > 0) || Double.isInfinite(aggression)) {
      throw new InvalidResourceException(where + "slow start aggression must be greater than 0");
    }
    double min = s.hasMinWeightPercent() ? s.getMinWeightPercent().getValue() : 10;
    if (!(min >= 0 && min <= 100)) {
      throw new InvalidResourceException(where + "slow start min_weight_percent must be 0..100");
    }
    return window == 0 ? null : new SlowStart(window * 1_000_000, aggression, min);
  }

  /** The DEFAULT-priority thresholds; Envoy's defaults for what they leave out. */
  private static CircuitBreakerLimits limits(CircuitBreakers cb) {
    CircuitBreakerLimits d = CircuitBreakerLimits.ENVOY_DEFAULTS;
    for (CircuitBreakers.Thresholds t : cb.getThresholdsList()) {
      if (t.getPriority() != RoutingPriority.DEFAULT) {
        continue; // HIGH priority routes are not distinguished: their limits do not apply
      }
      return new CircuitBreakerLimits(
          t.hasMaxConnections() ? u32(t.getMaxConnections().getValue()) : d.maxConnections(),
          t.hasMaxPendingRequests()
              ? u32(t.getMaxPendingRequests().getValue())
              : d.maxPendingRequests(),
          t.hasMaxRequests() ? u32(t.getMaxRequests().getValue()) : d.maxRequests(),
          t.hasMaxRetries() ? u32(t.getMaxRetries().getValue()) : d.maxRetries());
    }
    return d;
  }

  /** Envoy's {@code DetectorConfig} with its defaults. */
  private static OutlierConfig outlier(String where, OutlierDetection o)
      throws InvalidResourceException {
    long base =
        o.hasBaseEjectionTime()
            ? millis(where + "base_ejection_time", o.getBaseEjectionTime())
            : 30_000;
    long max =
        o.hasMaxEjectionTime()
            ? millis(where + "max_ejection_time", o.getMaxEjectionTime())
            : Math.max(300_000, base);
    if (max < base) {
      throw new InvalidResourceException(
          where + "outlier detector's max_ejection_time cannot be smaller than base_ejection_time");
    }
    long interval = o.hasInterval() ? millis(where + "interval", o.getInterval()) : 10_000;
    if (interval <= 0) {
      throw new InvalidResourceException(where + "outlier_detection interval must be positive");
    }
    return new OutlierConfig(
        o.hasConsecutive5Xx() ? count(o.getConsecutive5Xx().getValue()) : 5,
        o.hasConsecutiveGatewayFailure() ? count(o.getConsecutiveGatewayFailure().getValue()) : 5,
        o.hasConsecutiveLocalOriginFailure()
            ? count(o.getConsecutiveLocalOriginFailure().getValue())
            : 5,
        o.hasEnforcingConsecutive5Xx() ? percent(o.getEnforcingConsecutive5Xx().getValue()) : 100,
        o.hasEnforcingConsecutiveGatewayFailure()
            ? percent(o.getEnforcingConsecutiveGatewayFailure().getValue())
            : 0,
        o.hasEnforcingConsecutiveLocalOriginFailure()
            ? percent(o.getEnforcingConsecutiveLocalOriginFailure().getValue())
            : 100,
        o.getSplitExternalLocalOriginErrors(),
        interval,
        base,
        max,
        o.hasMaxEjectionPercent() ? percent(o.getMaxEjectionPercent().getValue()) : 10);
  }

  private static long millis(String field, Duration d) throws InvalidResourceException {
    if (d.getSeconds() < 0 || d.getNanos() < 0) {
      throw new InvalidResourceException(field + " must not be negative");
    }
    if (d.getSeconds() > Long.MAX_VALUE / 1000 - 1) {
      throw new InvalidResourceException(field + " is too large");
    }
    return d.getSeconds() * 1000 + d.getNanos() / 1_000_000;
  }

  /** A protobuf uint32 (Java's int, read unsigned). */
  private static long u32(int v) {
    return Integer.toUnsignedLong(v);
  }

  /** A uint32 count as an int: values past Integer.MAX_VALUE saturate (never reached). */
  private static int count(int v) {
    return (int) Math.min(Integer.MAX_VALUE, Integer.toUnsignedLong(v));
  }

  /** A uint32 percentage, capped at 100 (Envoy's runtime caps it the same way). */
  private static int percent(int v) {
    return (int) Math.min(100, Integer.toUnsignedLong(v));
  }

  static boolean isPrime(long n) {
    if (n < 2) {
      return false;
    }
    for (long i = 2; i * i <= n; i++) {
      if (n % i == 0) {
        return false;
      }
    }
    return true;
  }
}
