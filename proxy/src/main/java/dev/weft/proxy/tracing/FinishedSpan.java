package dev.weft.proxy.tracing;

/**
 * A sampled span, finished: what the {@link SpanExporter} encodes. Built on the event loop (field
 * copies and the tag array), encoded on the exporter's thread.
 *
 * @param provider where it goes
 * @param serviceName the local service ({@code <canonical service>.<namespace>}, Istio's service
 *     cluster)
 * @param localIp this proxy's address, or null
 * @param name the span's name (operation)
 * @param client CLIENT (true) or SERVER span
 * @param startMicros epoch microseconds
 * @param durationMicros at least 1
 * @param tags tag names and values, alternating
 * @param error whether the request failed (5xx or no response)
 */
public record FinishedSpan(
    TraceProvider provider,
    String serviceName,
    String localIp,
    long traceIdHigh,
    long traceIdLow,
    long spanId,
    long parentId,
    String name,
    boolean client,
    long startMicros,
    long durationMicros,
    String[] tags,
    boolean error) {}
