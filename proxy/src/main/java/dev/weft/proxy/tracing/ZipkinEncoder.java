package dev.weft.proxy.tracing;

import java.util.ArrayList;
import java.util.List;
import zipkin2.Endpoint;
import zipkin2.Span;
import zipkin2.codec.SpanBytesEncoder;

/** Zipkin v2 JSON ({@code POST /api/v2/spans}), encoded by Zipkin's own library. */
final class ZipkinEncoder {
  private ZipkinEncoder() {}

  static byte[] encode(List<FinishedSpan> spans) {
    List<Span> out = new ArrayList<>(spans.size());
    for (FinishedSpan s : spans) {
      Endpoint.Builder local = Endpoint.newBuilder().serviceName(s.serviceName());
      if (s.localIp() != null) {
        local.ip(s.localIp());
      }
      Span.Builder b =
          Span.newBuilder()
              .traceId(s.traceIdHigh(), s.traceIdLow())
              .id(s.spanId())
              .name(s.name())
              .kind(s.client() ? Span.Kind.CLIENT : Span.Kind.SERVER)
              .timestamp(s.startMicros())
              .duration(s.durationMicros())
              .localEndpoint(local.build());
      if (s.parentId() != 0) {
        b.parentId(s.parentId());
      }
      String[] t = s.tags();
      for (int i = 0; i + 1 < t.length; i += 2) {
        b.putTag(t[i], t[i + 1]);
      }
      out.add(b.build());
    }
    return SpanBytesEncoder.JSON_V2.encodeList(out);
  }
}
