package dev.weft.proxy.tracing;

import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counters of one tracer type ({@code tracing.<zipkin|opentelemetry>.*}), Envoy's names where it
 * has them: spans sent, reports sent, failed and skipped for lack of a collector cluster, and
 * Weft's {@code spans_dropped}: spans lost because the queue was full or their report failed.
 */
public final class TracingStats {
  private final String name;
  public final LongAdder spansSent = new LongAdder();
  public final LongAdder spansDropped = new LongAdder();
  public final LongAdder reportsSent = new LongAdder();
  public final LongAdder reportsFailed = new LongAdder();
  public final LongAdder reportsSkippedNoCluster = new LongAdder();

  public TracingStats(String name) {
    this.name = name;
  }

  public String name() {
    return name;
  }

  /** Appends {@code tracing.<name>.<counter>} entries. */
  public void appendTo(Map<String, Long> out) {
    String p = "tracing." + name + ".";
    out.put(p + "spans_sent", spansSent.sum());
    out.put(p + "spans_dropped", spansDropped.sum());
    out.put(p + "reports_sent", reportsSent.sum());
    out.put(p + "reports_failed", reportsFailed.sum());
    out.put(p + "reports_skipped_no_cluster", reportsSkippedNoCluster.sum());
  }

  /** Appends Prometheus lines {@code envoy_tracing_<name>_<counter>}. */
  public void appendPrometheus(StringBuilder sb) {
    counter(sb, "spans_sent", spansSent);
    counter(sb, "spans_dropped", spansDropped);
    counter(sb, "reports_sent", reportsSent);
    counter(sb, "reports_failed", reportsFailed);
    counter(sb, "reports_skipped_no_cluster", reportsSkippedNoCluster);
  }

  private void counter(StringBuilder sb, String c, LongAdder v) {
    String m = "envoy_tracing_" + name + "_" + c;
    sb.append("# TYPE ").append(m).append(" counter\n").append(m).append(' ');
    sb.append(v.sum()).append('\n');
  }
}
