package dev.weft.proxy.tracing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.proxy.http.filter.StreamInfo;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpVersion;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Sampling decisions, span ids and the reported span's tags. */
class TracerTest {
  private static final TraceProvider ZIPKIN =
      new TraceProvider.Zipkin("zipkin", "/api/v2/spans", true, false);

  private static TracingConfig config(double sampling, boolean client, List<CustomTag> tags) {
    return new TracingConfig(ZIPKIN, sampling, 100, tags, client, 256);
  }

  @Test
  void incomingDecisionWinsOverSamplingPercentage() {
    Tracer t = Tracer.NONE;
    HttpHeaders yes =
        headers(
            "x-b3-traceid",
            "64fe8b2a57d3eff7",
            "x-b3-spanid",
            "e457b5a2e4d86bd1",
            "x-b3-sampled",
            "1");
    HttpHeaders no =
        headers(
            "x-b3-traceid",
            "64fe8b2a57d3eff7",
            "x-b3-spanid",
            "e457b5a2e4d86bd1",
            "x-b3-sampled",
            "0");
    for (int i = 0; i < 100; i++) {
      assertThat(t.start(config(0, false, List.of()), yes).sampled()).isTrue();
      assertThat(t.start(config(100, false, List.of()), no).sampled()).isFalse();
      assertThat(t.start(config(100, false, List.of()), headers("b3", "0")).sampled()).isFalse();
    }
  }

  @Test
  void samplingPercentageWithoutIncomingDecision() {
    Tracer t = Tracer.NONE;
    int sampled = 0;
    int n = 4000;
    for (int i = 0; i < n; i++) {
      assertThat(t.start(config(0, false, List.of()), headers()).sampled()).isFalse();
      assertThat(t.start(config(100, false, List.of()), headers()).sampled()).isTrue();
      if (t.start(config(25, false, List.of()), headers()).sampled()) {
        sampled++;
      }
    }
    // 25 % of 4000: 1000, standard deviation ~27; 8 sigma either side cannot fail by chance.
    assertThat(sampled).isBetween(780, 1220);
  }

  @Test
  void joinsAnIncomingTraceAsAChildAndStartsNew128BitTraces() {
    Tracer t = Tracer.NONE;
    ActiveSpan child =
        t.start(
            config(100, false, List.of()),
            headers("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
    assertThat(child.traceIdHigh()).isEqualTo(0x4bf92f3577b34da6L);
    assertThat(child.traceIdLow()).isEqualTo(0xa3ce929d0e0e4736L);
    assertThat(child.parentId()).isEqualTo(0x00f067aa0ba902b7L);
    assertThat(child.spanId()).isNotIn(0L, 0x00f067aa0ba902b7L);
    ActiveSpan fresh = t.start(config(100, true, List.of()), headers());
    assertThat(fresh.traceIdHigh()).isNotZero();
    assertThat(fresh.parentId()).isZero();
    ActiveSpan other = t.start(config(100, true, List.of()), headers());
    assertThat(other.traceIdLow()).isNotEqualTo(fresh.traceIdLow());
    assertThat(other.spanId()).isNotEqualTo(fresh.spanId());
  }

  @Test
  void sharedSpanContextReusesTheClientSpanOnTheServerSide() {
    TracingConfig shared =
        new TracingConfig(
            new TraceProvider.Zipkin("zipkin", "/api/v2/spans", true, true),
            100,
            100,
            List.of(),
            false,
            256);
    ActiveSpan s =
        Tracer.NONE.start(
            shared,
            headers(
                "x-b3-traceid", "64fe8b2a57d3eff7",
                "x-b3-spanid", "e457b5a2e4d86bd1",
                "x-b3-parentspanid", "05e3ac9a4f6e3b90"));
    assertThat(s.spanId()).isEqualTo(0xe457b5a2e4d86bd1L);
    assertThat(s.parentId()).isEqualTo(0x05e3ac9a4f6e3b90L);
  }

  @Test
  void finishedSpanCarriesEnvoyAndIstioTags() {
    Tracer t = Tracer.NONE;
    TracingConfig cfg =
        config(
            100,
            true,
            List.of(
                CustomTag.literal("istio.canonical_service", "a"),
                CustomTag.header("tenant", "x-tenant", "none")));
    ActiveSpan span = t.start(cfg, headers("x-tenant", "blue"));
    assertThat(span.headerTags).containsExactly(null, "blue");
    StreamInfo info = new StreamInfo();
    info.request("GET", "/v1/items?x=1", HttpVersion.HTTP_1_1, false);
    info.authority("b.ns:80");
    info.requestId("rid-1");
    info.downstream(
        new InetSocketAddress("10.0.0.9", 5555), new InetSocketAddress("10.0.0.1", 15001));
    info.responseCode(503);
    FinishedSpan f = Tracer.finished(span, info, "n", "z", "svc", "1.2.3.4");
    Map<String, String> tags = tags(f);
    assertThat(tags)
        .containsEntry("component", "proxy")
        .containsEntry("node_id", "n")
        .containsEntry("zone", "z")
        .containsEntry("guid:x-request-id", "rid-1")
        .containsEntry("http.url", "http://b.ns:80/v1/items?x=1")
        .containsEntry("http.method", "GET")
        .containsEntry("http.protocol", "HTTP/1.1")
        .containsEntry("http.status_code", "503")
        .containsEntry("peer.address", "10.0.0.9")
        .containsEntry("upstream_cluster", "-")
        .containsEntry("response_flags", "-")
        .containsEntry("error", "true")
        .containsEntry("istio.canonical_service", "a")
        .containsEntry("tenant", "blue");
    assertThat(f.client()).isTrue();
    assertThat(f.name()).isEqualTo("b.ns:80/*");
    assertThat(f.durationMicros()).isPositive();
  }

  private static Map<String, String> tags(FinishedSpan f) {
    Map<String, String> m = new java.util.LinkedHashMap<>();
    for (int i = 0; i < f.tags().length; i += 2) {
      m.put(f.tags()[i], f.tags()[i + 1]);
    }
    return m;
  }

  private static HttpHeaders headers(String... kv) {
    HttpHeaders h = new DefaultHttpHeaders();
    for (int i = 0; i < kv.length; i += 2) {
      h.add(kv[i], kv[i + 1]);
    }
    return h;
  }
}
