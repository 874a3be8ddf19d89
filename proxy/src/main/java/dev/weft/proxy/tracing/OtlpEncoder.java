package dev.weft.proxy.tracing;

import com.google.protobuf.ByteString;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.InstrumentationScope;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.resource.v1.Resource;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import io.opentelemetry.proto.trace.v1.Status;
import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * OTLP/HTTP protobuf: one {@code ExportTraceServiceRequest} with a {@code ResourceSpans} per
 * service name (resource attribute {@code service.name}), as Envoy's OpenTelemetry tracer reports;
 * tags become string attributes, a failed request's status is ERROR.
 */
final class OtlpEncoder {
  static final String SCOPE = "envoy";

  private OtlpEncoder() {}

  static byte[] encode(List<FinishedSpan> spans) {
    Map<String, ScopeSpans.Builder> byService = new LinkedHashMap<>();
    for (FinishedSpan s : spans) {
      String service =
          s.provider() instanceof TraceProvider.OpenTelemetry o && o.serviceName() != null
              ? o.serviceName()
              : s.serviceName();
      ScopeSpans.Builder scope =
          byService.computeIfAbsent(
              service,
              k ->
                  ScopeSpans.newBuilder()
                      .setScope(InstrumentationScope.newBuilder().setName(SCOPE)));
      Span.Builder b =
          Span.newBuilder()
              .setTraceId(ByteString.copyFrom(ids(s.traceIdHigh(), s.traceIdLow())))
              .setSpanId(ByteString.copyFrom(id(s.spanId())))
              .setName(s.name())
              .setKind(s.client() ? Span.SpanKind.SPAN_KIND_CLIENT : Span.SpanKind.SPAN_KIND_SERVER)
              .setStartTimeUnixNano(s.startMicros() * 1000L)
              .setEndTimeUnixNano((s.startMicros() + s.durationMicros()) * 1000L);
      if (s.parentId() != 0) {
        b.setParentSpanId(ByteString.copyFrom(id(s.parentId())));
      }
      String[] t = s.tags();
      for (int i = 0; i + 1 < t.length; i += 2) {
        b.addAttributes(attribute(t[i], t[i + 1]));
      }
      if (s.error()) {
        b.setStatus(Status.newBuilder().setCode(Status.StatusCode.STATUS_CODE_ERROR));
      }
      scope.addSpans(b);
    }
    ExportTraceServiceRequest.Builder req = ExportTraceServiceRequest.newBuilder();
    byService.forEach(
        (service, scope) ->
            req.addResourceSpans(
                ResourceSpans.newBuilder()
                    .setResource(
                        Resource.newBuilder().addAttributes(attribute("service.name", service)))
                    .addScopeSpans(scope)));
    return req.build().toByteArray();
  }

  private static KeyValue attribute(String k, String v) {
    return KeyValue.newBuilder()
        .setKey(k)
        .setValue(AnyValue.newBuilder().setStringValue(v))
        .build();
  }

  private static byte[] ids(long high, long low) {
    return ByteBuffer.allocate(16).putLong(high).putLong(low).array();
  }

  private static byte[] id(long v) {
    return ByteBuffer.allocate(8).putLong(v).array();
  }
}
