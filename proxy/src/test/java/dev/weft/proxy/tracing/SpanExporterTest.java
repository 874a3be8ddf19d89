package dev.weft.proxy.tracing;

import static dev.weft.proxy.testing.Conditions.await;
import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.Span;
import io.opentelemetry.proto.trace.v1.Status;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The exporter against real HTTP collectors on loopback: OTLP/HTTP protobuf decoded with
 * OpenTelemetry's own classes, Zipkin JSON, and the drops when the collector is down, missing or
 * slower than the spans come.
 */
class SpanExporterTest {
  private static final TraceProvider.OpenTelemetry OTEL =
      new TraceProvider.OpenTelemetry("otel", "/v1/traces", null);
  private static final TraceProvider.Zipkin ZIPKIN =
      new TraceProvider.Zipkin("zipkin", "/api/v2/spans", true, false);

  private final Map<String, TracingStats> stats =
      Map.of(
          "zipkin", new TracingStats("zipkin"), "opentelemetry", new TracingStats("opentelemetry"));
  private HttpServer server;
  private SpanExporter exporter;
  private final List<byte[]> bodies = new CopyOnWriteArrayList<>();
  private final List<String> contentTypes = new CopyOnWriteArrayList<>();

  @AfterEach
  void stop() {
    if (exporter != null) {
      exporter.close();
    }
    if (server != null) {
      server.stop(0);
    }
  }

  private InetSocketAddress collector(String path, CountDownLatch hold, CountDownLatch arrived)
      throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext(
        path,
        ex -> {
          bodies.add(ex.getRequestBody().readAllBytes());
          contentTypes.add(ex.getRequestHeaders().getFirst("content-type"));
          if (arrived != null) {
            arrived.countDown();
          }
          if (hold != null) {
            try {
              hold.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
          }
          ex.sendResponseHeaders(200, -1);
          ex.close();
        });
    server.start();
    return server.getAddress();
  }

  private static FinishedSpan span(TraceProvider p, long id, boolean error) {
    return new FinishedSpan(
        p,
        "podinfo.demo",
        "127.0.1.2",
        0x4bf92f3577b34da6L,
        0xa3ce929d0e0e4736L,
        id,
        0x00f067aa0ba902b7L,
        "podinfo.demo.svc.cluster.local:80/*",
        true,
        1_700_000_000_000_000L,
        1500,
        new String[] {"http.status_code", error ? "503" : "200", "component", "proxy"},
        error);
  }

  private static SpanExporter.Options fast(int capacity, int maxBatch) {
    return new SpanExporter.Options(
        capacity, maxBatch, Duration.ofMillis(50), Duration.ofSeconds(5));
  }

  @Test
  void otlpHttpProtobufDecodesWithOpenTelemetrysClasses() throws Exception {
    InetSocketAddress addr = collector("/v1/traces", null, null);
    exporter = new SpanExporter(fast(100, 10), c -> c.equals("otel") ? addr : null, stats);
    exporter.offer(span(OTEL, 1, false));
    exporter.offer(span(OTEL, 2, true));
    await(() -> stats.get("opentelemetry").spansSent.sum() == 2);
    ExportTraceServiceRequest req = ExportTraceServiceRequest.parseFrom(concat(bodies));
    assertThat(contentTypes).containsOnly("application/x-protobuf");
    ResourceSpans rs = req.getResourceSpans(0);
    assertThat(rs.getResource().getAttributesList())
        .extracting(KeyValue::getKey, kv -> kv.getValue().getStringValue())
        .contains(org.assertj.core.groups.Tuple.tuple("service.name", "podinfo.demo"));
    List<Span> spans =
        req.getResourceSpansList().stream()
            .flatMap(r -> r.getScopeSpansList().stream())
            .flatMap(s -> s.getSpansList().stream())
            .toList();
    assertThat(spans).hasSize(2);
    Span s = spans.get(0);
    assertThat(s.getTraceId().toByteArray())
        .isEqualTo(
            ByteBuffer.allocate(16)
                .putLong(0x4bf92f3577b34da6L)
                .putLong(0xa3ce929d0e0e4736L)
                .array());
    assertThat(s.getParentSpanId().toByteArray())
        .isEqualTo(ByteBuffer.allocate(8).putLong(0x00f067aa0ba902b7L).array());
    assertThat(s.getKind()).isEqualTo(Span.SpanKind.SPAN_KIND_CLIENT);
    assertThat(s.getName()).isEqualTo("podinfo.demo.svc.cluster.local:80/*");
    assertThat(s.getStartTimeUnixNano()).isEqualTo(1_700_000_000_000_000_000L);
    assertThat(s.getEndTimeUnixNano() - s.getStartTimeUnixNano()).isEqualTo(1_500_000L);
    assertThat(s.getAttributesList())
        .extracting(KeyValue::getKey, kv -> kv.getValue().getStringValue())
        .contains(org.assertj.core.groups.Tuple.tuple("component", "proxy"));
    assertThat(spans.get(1).getStatus().getCode()).isEqualTo(Status.StatusCode.STATUS_CODE_ERROR);
    assertThat(stats.get("opentelemetry").reportsSent.sum()).isPositive();
  }

  @Test
  void zipkinJsonV2() throws Exception {
    InetSocketAddress addr = collector("/api/v2/spans", null, null);
    exporter = new SpanExporter(fast(100, 10), c -> addr, stats);
    exporter.offer(span(ZIPKIN, 0x1234, false));
    await(() -> stats.get("zipkin").spansSent.sum() == 1);
    String json = new String(bodies.get(0), java.nio.charset.StandardCharsets.UTF_8);
    assertThat(contentTypes).containsOnly("application/json");
    assertThat(json)
        .contains("\"traceId\":\"4bf92f3577b34da6a3ce929d0e0e4736\"")
        .contains("\"id\":\"0000000000001234\"")
        .contains("\"parentId\":\"00f067aa0ba902b7\"")
        .contains("\"kind\":\"CLIENT\"")
        .contains("\"serviceName\":\"podinfo.demo\"")
        .contains("\"http.status_code\":\"200\"");
  }

  @Test
  void collectorDownDropsAndCounts() throws Exception {
    int closedPort;
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      closedPort = s.getLocalPort();
    }
    InetSocketAddress down = new InetSocketAddress("127.0.0.1", closedPort);
    exporter = new SpanExporter(fast(100, 10), c -> down, stats);
    for (int i = 1; i <= 3; i++) {
      exporter.offer(span(ZIPKIN, i, false));
    }
    await(() -> stats.get("zipkin").spansDropped.sum() == 3);
    assertThat(stats.get("zipkin").reportsFailed.sum()).isPositive();
    assertThat(stats.get("zipkin").spansSent.sum()).isZero();
  }

  @Test
  void noCollectorClusterSkipsTheReport() throws Exception {
    exporter = new SpanExporter(fast(100, 10), c -> null, stats);
    exporter.offer(span(OTEL, 1, false));
    await(() -> stats.get("opentelemetry").reportsSkippedNoCluster.sum() == 1);
    assertThat(stats.get("opentelemetry").spansDropped.sum()).isEqualTo(1);
  }

  @Test
  void aFullQueueDropsWithoutBlockingTheCaller() throws Exception {
    CountDownLatch hold = new CountDownLatch(1);
    CountDownLatch arrived = new CountDownLatch(1);
    InetSocketAddress addr = collector("/api/v2/spans", hold, arrived);
    exporter = new SpanExporter(fast(2, 1), c -> addr, stats);
    exporter.offer(span(ZIPKIN, 1, false));
    assertThat(arrived.await(30, TimeUnit.SECONDS)).isTrue();
    // The exporter's thread is stuck in the first report: two spans fit in the queue, the rest
    // are dropped at once.
    for (int i = 2; i <= 10; i++) {
      exporter.offer(span(ZIPKIN, i, false));
    }
    assertThat(stats.get("zipkin").spansDropped.sum()).isEqualTo(7);
    hold.countDown();
    await(() -> stats.get("zipkin").spansSent.sum() == 3);
  }

  private static byte[] concat(List<byte[]> parts) {
    // Repeated top-level fields concatenate: several posts decode as one request.
    int n = parts.stream().mapToInt(b -> b.length).sum();
    ByteBuffer b = ByteBuffer.allocate(n);
    parts.forEach(b::put);
    return b.array();
  }
}
