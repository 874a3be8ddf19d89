package dev.weft.proxy.stats;

import java.util.concurrent.atomic.LongAdder;

/**
 * One label set of Istio's standard HTTP metrics ({@code istio_requests_total} and the three
 * histograms): the label text is built once when the series is first seen, the request path only
 * adds to its counters. Lock free.
 */
final class IstioSeries {
  /**
   * Envoy's default histogram buckets (Envoy {@code HistogramSettingsImpl::defaultBuckets}), which
   * Istio's {@code istio_request_duration_milliseconds}, {@code istio_request_bytes} and {@code
   * istio_response_bytes} use unless the pod annotation {@code
   * sidecar.istio.io/statsHistogramBuckets} changes them.
   */
  static final double[] BUCKETS = {
    0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000,
    1800000, 3600000
  };

  /** The Prometheus {@code le} text of each bucket. */
  static final String[] BUCKET_TEXT = new String[BUCKETS.length];

  static {
    for (int i = 0; i < BUCKETS.length; i++) {
      double b = BUCKETS[i];
      BUCKET_TEXT[i] = b == Math.rint(b) ? Long.toString((long) b) : Double.toString(b);
    }
  }

  /**
   * What tells two series of one cluster apart. Small and short-lived: the strings are the stream's
   * own (no building), the peer an interned {@link PeerMetadata}, the service the cluster's current
   * one.
   *
   * @param principal the mTLS peer's URI SAN (the downstream's on the destination side, the
   *     upstream's on the source side), or null
   * @param authority the request's authority (destination side), or null
   * @param service the cluster's {@code istio.services} service, or null
   */
  record Key(
      PeerMetadata peer,
      String principal,
      boolean mutualTls,
      String authority,
      int code,
      String flags,
      boolean grpc,
      int grpcStatus,
      MetricOverrides overrides,
      IstioService service) {
    Key(
        PeerMetadata peer,
        String principal,
        boolean mutualTls,
        String authority,
        int code,
        String flags) {
      this(peer, principal, mutualTls, authority, code, flags, false, -1, null, null);
    }

    /**
     * Equal keys are one series: the comparison is {@link #matches}, the one list of what tells
     * series apart (the cluster's last-series hint and the map agree by construction). {@code
     * IstioSeriesKeyTest} fails when a component is added to the record and not to {@code matches}.
     * The hash is the record's own, over every component.
     */
    @Override
    public boolean equals(Object o) {
      return o == this
          || o instanceof Key k
              && matches(
                  k.peer,
                  k.principal,
                  k.mutualTls,
                  k.authority,
                  k.code,
                  k.flags,
                  k.grpc,
                  k.grpcStatus,
                  k.overrides,
                  k.service);
    }

    /**
     * Whether a stream with these labels belongs to this key's series, without a key object: what
     * {@link #equals} answers for a key of these components (its parameters are the record's
     * components, in order; equal strings are usually the same instance, which {@code
     * String.equals} answers first).
     */
    boolean matches(
        PeerMetadata peer,
        String principal,
        boolean mutualTls,
        String authority,
        int code,
        String flags,
        boolean grpc,
        int grpcStatus,
        MetricOverrides overrides,
        IstioService service) {
      return this.code == code
          && this.mutualTls == mutualTls
          && this.grpc == grpc
          && this.grpcStatus == grpcStatus
          && (this.peer == peer || this.peer.equals(peer))
          && java.util.Objects.equals(this.principal, principal)
          && java.util.Objects.equals(this.flags, flags)
          && java.util.Objects.equals(this.authority, authority)
          && (this.overrides == overrides || java.util.Objects.equals(this.overrides, overrides))
          && (this.service == service || java.util.Objects.equals(this.service, service));
    }
  }

  /** The key this series is interned under in its cluster. */
  final Key key;

  /** Every label, {@code name="value"} comma separated, without braces. */
  final String labels;

  /**
   * The label text of each of {@link MetricOverrides#HTTP_METRICS} after the overrides, null for a
   * dropped metric.
   */
  final String[] metricLabels;

  final LongAdder requests = new LongAdder();
  final Histogram duration = new Histogram();
  final Histogram requestBytes = new Histogram();
  final Histogram responseBytes = new Histogram();

  IstioSeries(Key key, String labels) {
    this(key, labels, new String[] {labels, labels, labels, labels});
  }

  IstioSeries(Key key, String labels, String[] metricLabels) {
    this.key = key;
    this.labels = labels;
    this.metricLabels = metricLabels;
  }

  void record(long durationMillis, long requestBytes, long responseBytes) {
    requests.increment();
    duration.add(durationMillis);
    this.requestBytes.add(requestBytes);
    this.responseBytes.add(responseBytes);
  }

  /** A Prometheus histogram over {@link #BUCKETS}: per-bucket counts, made cumulative on render. */
  static final class Histogram {
    /**
     * {@link #BUCKETS} rounded down: for a whole value {@code v}, {@code v > BUCKETS[i]} exactly
     * when {@code v > LIMITS[i]} (the 0.5 bucket holds 0 only), compared without a conversion.
     */
    static final long[] LIMITS = new long[BUCKETS.length];

    static {
      for (int i = 0; i < BUCKETS.length; i++) {
        LIMITS[i] = (long) Math.floor(BUCKETS[i]);
      }
    }

    final LongAdder[] counts = new LongAdder[BUCKETS.length + 1];
    final LongAdder sum = new LongAdder();

    Histogram() {
      for (int i = 0; i < counts.length; i++) {
        counts[i] = new LongAdder();
      }
    }

    /** Counts {@code value} in the first bucket whose bound is at least it (Prometheus's le). */
    void add(long value) {
      long[] limits = LIMITS;
      int i = 0;
      while (i < limits.length && value > limits[i]) {
        i++;
      }
      counts[i].increment();
      if (value != 0) {
        sum.add(value);
      }
    }

    /** Appends the lines of several series reported under one label text, summed. */
    static void appendMerged(
        StringBuilder sb, String metric, String labels, java.util.List<Histogram> hs) {
      if (hs.size() == 1) {
        hs.get(0).appendTo(sb, metric, labels);
        return;
      }
      Histogram sum = new Histogram();
      for (Histogram h : hs) {
        for (int i = 0; i < h.counts.length; i++) {
          sum.counts[i].add(h.counts[i].sum());
        }
        sum.sum.add(h.sum.sum());
      }
      sum.appendTo(sb, metric, labels);
    }

    /** Appends the {@code _bucket}, {@code _sum} and {@code _count} lines of this series. */
    void appendTo(StringBuilder sb, String metric, String labels) {
      long cumulative = 0;
      for (int i = 0; i <= BUCKETS.length; i++) {
        cumulative += counts[i].sum();
        sb.append(metric)
            .append("_bucket{")
            .append(labels)
            .append(",le=\"")
            .append(i < BUCKETS.length ? BUCKET_TEXT[i] : "+Inf")
            .append("\"} ")
            .append(cumulative)
            .append('\n');
      }
      sb.append(metric).append("_sum{").append(labels).append("} ").append(sum.sum()).append('\n');
      sb.append(metric)
          .append("_count{")
          .append(labels)
          .append("} ")
          .append(cumulative)
          .append('\n');
    }
  }
}
