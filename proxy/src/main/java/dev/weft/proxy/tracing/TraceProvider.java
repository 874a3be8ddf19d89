package dev.weft.proxy.tracing;

/**
 * Where a connection manager's spans go: Envoy's {@code tracing.provider}, compiled. Equal
 * providers share one batch in the {@link SpanExporter}.
 */
public sealed interface TraceProvider {
  /** The cluster of the collector (its first endpoint receives the reports). */
  String cluster();

  /** The collector's HTTP path. */
  String path();

  /** The stats name of the provider: {@code zipkin} or {@code opentelemetry}. */
  String statName();

  /** Whether {@code traceparent} is read before B3 (OpenTelemetry) or after it (Zipkin). */
  boolean w3cFirst();

  /** Whether new traces get 128-bit ids. */
  boolean traceId128();

  /**
   * {@code envoy.tracers.zipkin} ({@code ZipkinConfig}): JSON v2 to {@code collector_endpoint}
   * (Zipkin's {@code /api/v2/spans}).
   *
   * @param sharedSpanContext Envoy's {@code shared_span_context} (a server span reuses the client's
   *     span id; Istio turns it off)
   */
  record Zipkin(String cluster, String path, boolean traceId128, boolean sharedSpanContext)
      implements TraceProvider {
    @Override
    public String statName() {
      return "zipkin";
    }

    @Override
    public boolean w3cFirst() {
      return false;
    }
  }

  /**
   * {@code envoy.tracers.opentelemetry} ({@code OpenTelemetryConfig} with {@code http_service}):
   * OTLP/HTTP protobuf ({@code ExportTraceServiceRequest}) to the service's URI path.
   *
   * @param serviceName the resource's {@code service.name}, or null for the proxy's own
   */
  record OpenTelemetry(String cluster, String path, String serviceName) implements TraceProvider {
    @Override
    public String statName() {
      return "opentelemetry";
    }

    @Override
    public boolean w3cFirst() {
      return true;
    }

    @Override
    public boolean traceId128() {
      return true;
    }
  }
}
