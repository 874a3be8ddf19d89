package dev.weft.proxy.tracing;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The propagation formats: B3 multi and single (openzipkin/b3-propagation) and W3C traceparent. */
class TraceHeadersTest {
  private static HttpHeaders headers(String... kv) {
    HttpHeaders h = new DefaultHttpHeaders();
    for (int i = 0; i < kv.length; i += 2) {
      h.add(kv[i], kv[i + 1]);
    }
    return h;
  }

  @Test
  void b3MultiWith128BitTraceIdParentAndSampled() {
    TraceContext c =
        TraceHeaders.extract(
            headers(
                "X-B3-TraceId", "80f198ee56343ba864fe8b2a57d3eff7",
                "X-B3-SpanId", "e457b5a2e4d86bd1",
                "X-B3-ParentSpanId", "05e3ac9a4f6e3b90",
                "X-B3-Sampled", "1"),
            false);
    assertThat(c.traceIdHigh()).isEqualTo(0x80f198ee56343ba8L);
    assertThat(c.traceIdLow()).isEqualTo(0x64fe8b2a57d3eff7L);
    assertThat(c.spanId()).isEqualTo(0xe457b5a2e4d86bd1L);
    assertThat(c.parentId()).isEqualTo(0x05e3ac9a4f6e3b90L);
    assertThat(c.sampled()).isEqualTo(TraceContext.SAMPLED);
  }

  @Test
  void b3MultiDebugFlagSamplesAndFalseDoesNot() {
    TraceContext debug =
        TraceHeaders.extract(
            headers(
                "x-b3-traceid", "64fe8b2a57d3eff7",
                "x-b3-spanid", "e457b5a2e4d86bd1",
                "x-b3-flags", "1"),
            false);
    assertThat(debug.traceIdHigh()).isZero();
    assertThat(debug.sampled()).isEqualTo(TraceContext.SAMPLED);
    TraceContext off =
        TraceHeaders.extract(
            headers(
                "x-b3-traceid", "64fe8b2a57d3eff7",
                "x-b3-spanid", "e457b5a2e4d86bd1",
                "x-b3-sampled", "false"),
            false);
    assertThat(off.sampled()).isEqualTo(TraceContext.NOT_SAMPLED);
  }

  @Test
  void b3SingleForms() {
    TraceContext full =
        TraceHeaders.b3Single(
            "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b90");
    assertThat(full.traceIdLow()).isEqualTo(0x64fe8b2a57d3eff7L);
    assertThat(full.spanId()).isEqualTo(0xe457b5a2e4d86bd1L);
    assertThat(full.parentId()).isEqualTo(0x05e3ac9a4f6e3b90L);
    assertThat(full.sampled()).isEqualTo(TraceContext.SAMPLED);
    TraceContext noSampling = TraceHeaders.b3Single("64fe8b2a57d3eff7-e457b5a2e4d86bd1");
    assertThat(noSampling.sampled()).isEqualTo(TraceContext.UNDECIDED);
    assertThat(TraceHeaders.b3Single("a3ce929d0e0e4736-00f067aa0ba902b7-d").sampled())
        .isEqualTo(TraceContext.SAMPLED);
    TraceContext deny = TraceHeaders.b3Single("0");
    assertThat(deny.hasIds()).isFalse();
    assertThat(deny.sampled()).isEqualTo(TraceContext.NOT_SAMPLED);
    for (String bad :
        List.of(
            "x",
            "64fe8b2a57d3eff7",
            "64fe8b2a57d3eff7-",
            "64fe8b2a57d3eff7-e457b5a2e4d86bd1-2",
            "64fe8b2a57d3eff7-e457b5a2e4d86bd1-1-05e3",
            "zzfe8b2a57d3eff7-e457b5a2e4d86bd1",
            "0000000000000000-e457b5a2e4d86bd1")) {
      assertThat(TraceHeaders.b3Single(bad)).as(bad).isNull();
    }
  }

  @Test
  void w3cTraceparent() {
    TraceContext c =
        TraceHeaders.traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    assertThat(c.traceIdHigh()).isEqualTo(0x4bf92f3577b34da6L);
    assertThat(c.traceIdLow()).isEqualTo(0xa3ce929d0e0e4736L);
    assertThat(c.spanId()).isEqualTo(0x00f067aa0ba902b7L);
    assertThat(c.sampled()).isEqualTo(TraceContext.SAMPLED);
    assertThat(
            TraceHeaders.traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00")
                .sampled())
        .isEqualTo(TraceContext.NOT_SAMPLED);
    // A future version may append fields.
    assertThat(
            TraceHeaders.traceparent(
                "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-the-future-holds"))
        .isNotNull();
    for (String bad :
        List.of(
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7")) {
      assertThat(TraceHeaders.traceparent(bad)).as(bad).isNull();
    }
  }

  @Test
  void zipkinReadsB3BeforeW3cAndOpenTelemetryTheOtherWay() {
    HttpHeaders both =
        headers(
            "x-b3-traceid", "1111111111111111",
            "x-b3-spanid", "2222222222222222",
            "traceparent", "00-33333333333333333333333333333333-4444444444444444-01");
    assertThat(TraceHeaders.extract(both, false).traceIdLow()).isEqualTo(0x1111111111111111L);
    assertThat(TraceHeaders.extract(both, true).traceIdLow()).isEqualTo(0x3333333333333333L);
    // Zipkin falls back to W3C when B3 has no ids.
    HttpHeaders w3c =
        headers("traceparent", "00-33333333333333333333333333333333-4444444444444444-01");
    assertThat(TraceHeaders.extract(w3c, false).spanId()).isEqualTo(0x4444444444444444L);
    assertThat(TraceHeaders.extract(headers(), false)).isNull();
    assertThat(TraceHeaders.extract(headers("x-b3-sampled", "0"), false).hasIds()).isFalse();
  }

  @Test
  void injectWritesB3MultiSingleWhenPresentAndTraceparentAndKeepsTracestate() {
    HttpHeaders h = headers("b3", "1", "x-b3-flags", "1", "tracestate", "vendor=opaque");
    ActiveSpan span =
        new ActiveSpan(
            null,
            0x4bf92f3577b34da6L,
            0xa3ce929d0e0e4736L,
            0x00f067aa0ba902b7L,
            0x1L,
            true,
            0,
            0,
            null);
    TraceHeaders.inject(h, span);
    assertThat(h.get("x-b3-traceid")).isEqualTo("4bf92f3577b34da6a3ce929d0e0e4736");
    assertThat(h.get("x-b3-spanid")).isEqualTo("00f067aa0ba902b7");
    assertThat(h.get("x-b3-parentspanid")).isEqualTo("0000000000000001");
    assertThat(h.get("x-b3-sampled")).isEqualTo("1");
    assertThat(h.contains("x-b3-flags")).isFalse();
    assertThat(h.get("b3"))
        .isEqualTo("4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1-0000000000000001");
    assertThat(h.get("traceparent"))
        .isEqualTo("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    assertThat(h.get("tracestate")).isEqualTo("vendor=opaque");

    HttpHeaders plain = headers();
    TraceHeaders.inject(plain, new ActiveSpan(null, 0, 0x10L, 0x20L, 0, false, 0, 0, null));
    assertThat(plain.get("x-b3-traceid")).isEqualTo("0000000000000010");
    assertThat(plain.contains("x-b3-parentspanid")).isFalse();
    assertThat(plain.get("x-b3-sampled")).isEqualTo("0");
    assertThat(plain.contains("b3")).isFalse();
    assertThat(plain.get("traceparent"))
        .isEqualTo("00-00000000000000000000000000000010-0000000000000020-00");
    // What was injected reads back as the same context.
    TraceContext back = TraceHeaders.extract(h, false);
    assertThat(back.spanId()).isEqualTo(0x00f067aa0ba902b7L);
    assertThat(TraceHeaders.extract(h, true).traceIdHigh()).isEqualTo(0x4bf92f3577b34da6L);
  }
}
