package dev.weft.proxy.tracing;

import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;

/**
 * The trace context headers a proxy reads and writes: B3 multi ({@code X-B3-TraceId}, {@code
 * X-B3-SpanId}, {@code X-B3-ParentSpanId}, {@code X-B3-Sampled}, {@code X-B3-Flags};
 * openzipkin/b3-propagation), B3 single ({@code b3: {trace}-{span}[-{sampling}[-{parent}]]} or just
 * {@code b3: {sampling}}) and W3C Trace Context ({@code traceparent: 00-{trace}-{parent}-{flags}};
 * {@code tracestate} passes through untouched, as W3C asks of a participant that does not add its
 * own entry). Parsing reads the header values in place: no substring per id.
 */
public final class TraceHeaders {
  public static final AsciiString X_B3_TRACE_ID = AsciiString.cached("x-b3-traceid");
  public static final AsciiString X_B3_SPAN_ID = AsciiString.cached("x-b3-spanid");
  public static final AsciiString X_B3_PARENT_SPAN_ID = AsciiString.cached("x-b3-parentspanid");
  public static final AsciiString X_B3_SAMPLED = AsciiString.cached("x-b3-sampled");
  public static final AsciiString X_B3_FLAGS = AsciiString.cached("x-b3-flags");
  public static final AsciiString B3 = AsciiString.cached("b3");
  public static final AsciiString TRACEPARENT = AsciiString.cached("traceparent");
  public static final AsciiString TRACESTATE = AsciiString.cached("tracestate");

  private static final AsciiString ONE = AsciiString.cached("1");
  private static final AsciiString ZERO = AsciiString.cached("0");
  private static final char[] HEX = "0123456789abcdef".toCharArray();

  private TraceHeaders() {}

  /**
   * The incoming context of a request, or null when it carries none that parses. With {@code
   * w3cFirst} (the OpenTelemetry tracer) {@code traceparent} is read before B3, else (Zipkin) B3
   * multi, then B3 single, then {@code traceparent}, as Envoy's Zipkin tracer falls back to W3C. A
   * sampling decision without ids ({@code X-B3-Sampled: 0} alone, {@code b3: 0}) comes back as a
   * context whose {@link TraceContext#hasIds()} is false.
   */
  public static TraceContext extract(HttpHeaders h, boolean w3cFirst) {
    if (w3cFirst) {
      TraceContext c = traceparent(h.get(TRACEPARENT));
      return c != null ? c : b3(h);
    }
    TraceContext c = b3(h);
    if (c != null && c.hasIds()) {
      return c;
    }
    TraceContext w = traceparent(h.get(TRACEPARENT));
    return w != null ? w : c;
  }

  private static TraceContext b3(HttpHeaders h) {
    String traceId = h.get(X_B3_TRACE_ID);
    if (traceId != null) {
      TraceContext c = b3Multi(h, traceId);
      if (c != null) {
        return c;
      }
    }
    String single = h.get(B3);
    if (single != null) {
      TraceContext c = b3Single(single);
      if (c != null) {
        return c;
      }
    }
    // A decision alone: X-B3-Sampled / X-B3-Flags without ids.
    int sampled = sampledFlag(h.get(X_B3_SAMPLED), h.get(X_B3_FLAGS));
    return sampled == TraceContext.UNDECIDED ? null : TraceContext.decisionOnly(sampled);
  }

  private static TraceContext b3Multi(HttpHeaders h, String traceId) {
    String spanId = h.get(X_B3_SPAN_ID);
    if (spanId == null || !isHex(spanId, 0, spanId.length()) || spanId.length() != 16) {
      return null;
    }
    int tl = traceId.length();
    if ((tl != 16 && tl != 32) || !isHex(traceId, 0, tl)) {
      return null;
    }
    long high = tl == 32 ? hex(traceId, 0, 16) : 0;
    long low = hex(traceId, tl - 16, tl);
    long span = hex(spanId, 0, 16);
    long parent = 0;
    String p = h.get(X_B3_PARENT_SPAN_ID);
    if (p != null && p.length() == 16 && isHex(p, 0, 16)) {
      parent = hex(p, 0, 16);
    }
    if ((high == 0 && low == 0) || span == 0) {
      return null;
    }
    return new TraceContext(
        high, low, span, parent, sampledFlag(h.get(X_B3_SAMPLED), h.get(X_B3_FLAGS)));
  }

  /** {@code X-B3-Flags: 1} is debug (sampled); else {@code X-B3-Sampled} 1/true or 0/false. */
  private static int sampledFlag(String sampled, String flags) {
    if ("1".equals(flags)) {
      return TraceContext.SAMPLED;
    }
    if (sampled == null) {
      return TraceContext.UNDECIDED;
    }
    if (sampled.equals("1") || sampled.equalsIgnoreCase("true")) {
      return TraceContext.SAMPLED;
    }
    if (sampled.equals("0") || sampled.equalsIgnoreCase("false")) {
      return TraceContext.NOT_SAMPLED;
    }
    return TraceContext.UNDECIDED;
  }

  /** B3 single: {@code {trace}-{span}[-{sampling}[-{parent}]]}, or {@code {sampling}} alone. */
  static TraceContext b3Single(String v) {
    int n = v.length();
    if (n == 1) {
      int s = singleSampling(v.charAt(0));
      return s == -2 ? null : TraceContext.decisionOnly(s);
    }
    int d1 = v.indexOf('-');
    if (d1 != 16 && d1 != 32) {
      return null;
    }
    int d2 = v.indexOf('-', d1 + 1);
    int spanEnd = d2 < 0 ? n : d2;
    if (spanEnd - d1 - 1 != 16 || !isHex(v, 0, d1) || !isHex(v, d1 + 1, spanEnd)) {
      return null;
    }
    long high = d1 == 32 ? hex(v, 0, 16) : 0;
    long low = hex(v, d1 - 16, d1);
    long span = hex(v, d1 + 1, spanEnd);
    int sampled = TraceContext.UNDECIDED;
    long parent = 0;
    if (d2 >= 0) {
      if (d2 + 2 != n && (d2 + 2 > n || v.charAt(d2 + 2) != '-')) {
        return null;
      }
      sampled = singleSampling(v.charAt(d2 + 1));
      if (sampled == -2) {
        return null;
      }
      if (d2 + 2 < n) {
        int ps = d2 + 3;
        if (n - ps != 16 || !isHex(v, ps, n)) {
          return null;
        }
        parent = hex(v, ps, n);
      }
    }
    if ((high == 0 && low == 0) || span == 0) {
      return null;
    }
    return new TraceContext(high, low, span, parent, sampled);
  }

  /** {@code 1}, {@code d} (debug): sampled; {@code 0}: not; anything else -2 (malformed). */
  private static int singleSampling(char c) {
    return switch (c) {
      case '1', 'd' -> TraceContext.SAMPLED;
      case '0' -> TraceContext.NOT_SAMPLED;
      default -> -2;
    };
  }

  /**
   * W3C {@code traceparent}: {@code version-traceid-parentid-flags}, lower-case hex, version {@code
   * ff} invalid, all-zero ids invalid; a future version may carry more fields after the flags.
   */
  static TraceContext traceparent(String v) {
    if (v == null || v.length() < 55) {
      return null;
    }
    if (v.charAt(2) != '-' || v.charAt(35) != '-' || v.charAt(52) != '-') {
      return null;
    }
    if (!isLowerHex(v, 0, 2) || v.startsWith("ff")) {
      return null;
    }
    boolean v00 = v.startsWith("00");
    if ((v00 && v.length() != 55) || (!v00 && v.length() > 55 && v.charAt(55) != '-')) {
      return null;
    }
    if (!isLowerHex(v, 3, 35) || !isLowerHex(v, 36, 52) || !isLowerHex(v, 53, 55)) {
      return null;
    }
    long high = hex(v, 3, 19);
    long low = hex(v, 19, 35);
    long parent = hex(v, 36, 52);
    if ((high == 0 && low == 0) || parent == 0) {
      return null;
    }
    int flags = (int) hex(v, 53, 55);
    return new TraceContext(
        high, low, parent, 0, (flags & 1) != 0 ? TraceContext.SAMPLED : TraceContext.NOT_SAMPLED);
  }

  /**
   * Writes {@code span}'s context for the next hop: B3 multi always (Envoy's Zipkin tracer), {@code
   * b3} single when the request came with one, and {@code traceparent}; the parent is the span the
   * next hop's span will be a child of, so {@code X-B3-SpanId} is this proxy's span.
   */
  public static void inject(HttpHeaders h, ActiveSpan span) {
    String trace = traceIdHex(span.traceIdHigh(), span.traceIdLow());
    String spanId = hex16(span.spanId());
    boolean sampled = span.sampled();
    h.set(X_B3_TRACE_ID, trace);
    h.set(X_B3_SPAN_ID, spanId);
    if (span.parentId() != 0) {
      h.set(X_B3_PARENT_SPAN_ID, hex16(span.parentId()));
    } else {
      h.remove(X_B3_PARENT_SPAN_ID);
    }
    h.set(X_B3_SAMPLED, sampled ? ONE : ZERO);
    h.remove(X_B3_FLAGS);
    if (h.contains(B3)) {
      StringBuilder sb = new StringBuilder(70);
      sb.append(trace).append('-').append(spanId).append('-').append(sampled ? '1' : '0');
      if (span.parentId() != 0) {
        sb.append('-').append(hex16(span.parentId()));
      }
      h.set(B3, sb.toString());
    }
    char[] tp = new char[55];
    tp[0] = '0';
    tp[1] = '0';
    tp[2] = '-';
    writeHex(tp, 3, span.traceIdHigh());
    writeHex(tp, 19, span.traceIdLow());
    tp[35] = '-';
    writeHex(tp, 36, span.spanId());
    tp[52] = '-';
    tp[53] = '0';
    tp[54] = sampled ? '1' : '0';
    h.set(TRACEPARENT, new String(tp));
  }

  /** The trace id in lower-case hex: 32 digits for a 128-bit id, else 16. */
  public static String traceIdHex(long high, long low) {
    if (high == 0) {
      return hex16(low);
    }
    char[] c = new char[32];
    writeHex(c, 0, high);
    writeHex(c, 16, low);
    return new String(c);
  }

  /** 16 lower-case hex digits. */
  public static String hex16(long v) {
    char[] c = new char[16];
    writeHex(c, 0, v);
    return new String(c);
  }

  private static void writeHex(char[] c, int at, long v) {
    for (int i = 15; i >= 0; i--) {
      c[at + i] = HEX[(int) (v & 0xF)];
      v >>>= 4;
    }
  }

  private static boolean isHex(CharSequence s, int from, int to) {
    for (int i = from; i < to; i++) {
      char c = s.charAt(i);
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
        return false;
      }
    }
    return from < to;
  }

  private static boolean isLowerHex(CharSequence s, int from, int to) {
    for (int i = from; i < to; i++) {
      char c = s.charAt(i);
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
        return false;
      }
    }
    return true;
  }

  /** Hex digits {@code [from, to)} (at most 16) as a long; the caller checked them. */
  private static long hex(CharSequence s, int from, int to) {
    long v = 0;
    for (int i = from; i < to; i++) {
      v = (v << 4) | Character.digit(s.charAt(i), 16);
    }
    return v;
  }
}
