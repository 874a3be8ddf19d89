package dev.weft.proxy.tracing;

/**
 * The span of one request through this proxy, from its request head to the end of its stream: ids,
 * the sampling decision and the start time. Made by {@link Tracer#start} on the stream's event
 * loop, read there by the router (to propagate it) and at the end of the stream (to report it).
 */
public final class ActiveSpan {
  final TracingConfig config;
  private final long traceIdHigh;
  private final long traceIdLow;
  private final long spanId;
  private final long parentId;
  private final boolean sampled;
  final long startMicros;
  final long startNanos;
  final String[] headerTags;

  ActiveSpan(
      TracingConfig config,
      long traceIdHigh,
      long traceIdLow,
      long spanId,
      long parentId,
      boolean sampled,
      long startMicros,
      long startNanos,
      String[] headerTags) {
    this.config = config;
    this.traceIdHigh = traceIdHigh;
    this.traceIdLow = traceIdLow;
    this.spanId = spanId;
    this.parentId = parentId;
    this.sampled = sampled;
    this.startMicros = startMicros;
    this.startNanos = startNanos;
    this.headerTags = headerTags;
  }

  public long traceIdHigh() {
    return traceIdHigh;
  }

  public long traceIdLow() {
    return traceIdLow;
  }

  public long spanId() {
    return spanId;
  }

  public long parentId() {
    return parentId;
  }

  public boolean sampled() {
    return sampled;
  }

  public TracingConfig config() {
    return config;
  }
}
