package dev.weft.proxy.config;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.weft.proxy.tracing.CustomTag;
import dev.weft.proxy.tracing.TraceProvider;
import dev.weft.proxy.tracing.TracingConfig;
import io.envoyproxy.envoy.config.trace.v3.OpenTelemetryConfig;
import io.envoyproxy.envoy.config.trace.v3.ZipkinConfig;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.type.v3.Percent;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;

/**
 * Compiles a connection manager's {@code tracing} (Envoy's {@code HttpConnectionManager.Tracing})
 * with its provider: {@code envoy.tracers.zipkin} ({@code ZipkinConfig}, JSON v2 over HTTP) or
 * {@code envoy.tracers.opentelemetry} ({@code OpenTelemetryConfig} with {@code http_service}). What
 * Weft does not do is NACKed: {@code verbose}, {@code spawn_upstream_span: true}, metadata tags,
 * gRPC and protobuf collectors, resource detectors and samplers. {@code client_sampling} is
 * accepted (Istio always sets it) but Weft has no {@code x-client-trace-id} forcing.
 */
public final class Tracing {
  private static final AnyType<ZipkinConfig> ZIPKIN_CONFIG =
      AnyType.of(ZipkinConfig::getDescriptor, ZipkinConfig.parser());
  private static final AnyType<OpenTelemetryConfig> OPENTELEMETRY_CONFIG =
      AnyType.of(OpenTelemetryConfig::getDescriptor, OpenTelemetryConfig.parser());

  static final String ZIPKIN = "envoy.tracers.zipkin";
  static final String OPENTELEMETRY = "envoy.tracers.opentelemetry";
  static final String ZIPKIN_TYPE = "type.googleapis.com/envoy.config.trace.v3.ZipkinConfig";
  static final String OPENTELEMETRY_TYPE =
      "type.googleapis.com/envoy.config.trace.v3.OpenTelemetryConfig";

  private Tracing() {}

  /** The compiled tracing, or null when it has no provider (Envoy then traces nothing). */
  public static TracingConfig compile(
      String where, HttpConnectionManager.Tracing t, boolean clientSpans)
      throws InvalidResourceException {
    String w = where + "tracing: ";
    if (!t.hasProvider()) {
      return null;
    }
    if (t.getVerbose()) {
      throw new InvalidResourceException(w + "verbose is not supported");
    }
    if (t.hasSpawnUpstreamSpan() && t.getSpawnUpstreamSpan().getValue()) {
      throw new InvalidResourceException(w + "spawn_upstream_span is not supported");
    }
    double random =
        t.hasRandomSampling() ? percent(w + "random_sampling", t.getRandomSampling()) : 100;
    double overall =
        t.hasOverallSampling() ? percent(w + "overall_sampling", t.getOverallSampling()) : 100;
    if (t.hasClientSampling()) {
      percent(w + "client_sampling", t.getClientSampling());
    }
    int maxPath =
        t.hasMaxPathTagLength()
            ? t.getMaxPathTagLength().getValue()
            : TracingConfig.DEFAULT_MAX_PATH_TAG_LENGTH;
    List<CustomTag> tags = new ArrayList<>();
    for (io.envoyproxy.envoy.type.tracing.v3.CustomTag c : t.getCustomTagsList()) {
      if (c.getTag().isEmpty()) {
        throw new InvalidResourceException(w + "custom_tags: a tag has no name");
      }
      switch (c.getTypeCase()) {
        case LITERAL -> tags.add(CustomTag.literal(c.getTag(), c.getLiteral().getValue()));
        case ENVIRONMENT -> {
          String v = System.getenv(c.getEnvironment().getName());
          tags.add(
              CustomTag.literal(c.getTag(), v != null ? v : c.getEnvironment().getDefaultValue()));
        }
        case REQUEST_HEADER -> {
          String name = c.getRequestHeader().getName();
          if (name.isEmpty()) {
            throw new InvalidResourceException(
                w + "custom_tags " + c.getTag() + ": request_header.name is empty");
          }
          String def = c.getRequestHeader().getDefaultValue();
          tags.add(CustomTag.header(c.getTag(), name, def.isEmpty() ? null : def));
        }
        default ->
            throw new InvalidResourceException(
                w
                    + "custom_tags "
                    + c.getTag()
                    + ": only literal, environment and request_header tags are supported");
      }
    }
    TraceProvider provider = provider(w + "provider: ", t.getProvider());
    return new TracingConfig(provider, random, overall, tags, clientSpans, maxPath);
  }

  private static double percent(String field, Percent p) throws InvalidResourceException {
    double v = p.getValue();
    if (!(v >= 0 && v <= 100)) {
      throw new InvalidResourceException(field + " must be between 0 and 100");
    }
    return v;
  }

  private static TraceProvider provider(
      String w, io.envoyproxy.envoy.config.trace.v3.Tracing.Http http)
      throws InvalidResourceException {
    Any cfg = http.getTypedConfig();
    String type = cfg.getTypeUrl();
    try {
      if (type.equals(ZIPKIN_TYPE)) {
        ZipkinConfig z = ZIPKIN_CONFIG.unpack(cfg);
        if (z.getCollectorCluster().isEmpty() || z.getCollectorEndpoint().isEmpty()) {
          throw new InvalidResourceException(
              w + "collector_cluster and collector_endpoint are required");
        }
        if (z.getCollectorEndpointVersion() != ZipkinConfig.CollectorEndpointVersion.HTTP_JSON) {
          throw new InvalidResourceException(
              w
                  + "collector_endpoint_version "
                  + z.getCollectorEndpointVersion()
                  + " is not supported (HTTP_JSON only)");
        }
        if (z.getSplitSpansForRequest()) {
          throw new InvalidResourceException(w + "split_spans_for_request is not supported");
        }
        if (!z.getCollectorEndpoint().startsWith("/")) {
          throw new InvalidResourceException(w + "collector_endpoint must be a path");
        }
        return new TraceProvider.Zipkin(
            z.getCollectorCluster(),
            z.getCollectorEndpoint(),
            z.getTraceId128Bit(),
            !z.hasSharedSpanContext() || z.getSharedSpanContext().getValue());
      }
      if (type.equals(OPENTELEMETRY_TYPE)) {
        OpenTelemetryConfig o = OPENTELEMETRY_CONFIG.unpack(cfg);
        if (o.hasGrpcService()) {
          throw new InvalidResourceException(
              w + "grpc_service is not supported (use http_service: OTLP/HTTP)");
        }
        if (o.getResourceDetectorsCount() > 0 || o.hasSampler()) {
          throw new InvalidResourceException(
              w + "resource_detectors and sampler are not supported");
        }
        if (!o.hasHttpService()) {
          throw new InvalidResourceException(w + "http_service is required");
        }
        var uri = o.getHttpService().getHttpUri();
        if (uri.getCluster().isEmpty()) {
          throw new InvalidResourceException(w + "http_service.http_uri.cluster is required");
        }
        if (o.getHttpService().getRequestHeadersToAddCount() > 0) {
          throw new InvalidResourceException(
              w + "http_service.request_headers_to_add is not supported");
        }
        String path;
        try {
          URI u = URI.create(uri.getUri());
          path = u.getRawPath() == null || u.getRawPath().isEmpty() ? "/v1/traces" : u.getRawPath();
        } catch (IllegalArgumentException e) {
          throw new InvalidResourceException(w + "http_service.http_uri.uri: " + e.getMessage());
        }
        return new TraceProvider.OpenTelemetry(
            uri.getCluster(), path, o.getServiceName().isEmpty() ? null : o.getServiceName());
      }
    } catch (InvalidProtocolBufferException e) {
      throw new InvalidResourceException(w + "cannot decode " + type + ": " + e.getMessage());
    }
    throw new InvalidResourceException(
        w
            + "tracer '"
            + http.getName()
            + "' is not supported ("
            + ZIPKIN
            + ", "
            + OPENTELEMETRY
            + ")");
  }
}
