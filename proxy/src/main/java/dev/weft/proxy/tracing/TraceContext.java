package dev.weft.proxy.tracing;

/**
 * A trace context read from a request's headers ({@link TraceHeaders#extract}): the trace id (64 or
 * 128 bits), the sender's span id (the parent of this proxy's span), the sender's parent, and its
 * sampling decision. Immutable.
 *
 * @param traceIdHigh the high 64 bits of a 128-bit trace id, 0 for a 64-bit one
 * @param traceIdLow the low 64 bits
 * @param spanId the sender's span id (0 when the context is a decision only)
 * @param parentId the sender's parent span id, 0 when none
 * @param sampled {@link #SAMPLED}, {@link #NOT_SAMPLED} or {@link #UNDECIDED}
 */
public record TraceContext(
    long traceIdHigh, long traceIdLow, long spanId, long parentId, int sampled) {
  public static final int UNDECIDED = -1;
  public static final int NOT_SAMPLED = 0;
  public static final int SAMPLED = 1;

  /** A sampling decision without ids ({@code X-B3-Sampled: 0} alone, {@code b3: 1}). */
  static TraceContext decisionOnly(int sampled) {
    return new TraceContext(0, 0, 0, 0, sampled);
  }

  /** Whether it names a trace and a span (else it is a sampling decision only). */
  public boolean hasIds() {
    return spanId != 0;
  }
}
