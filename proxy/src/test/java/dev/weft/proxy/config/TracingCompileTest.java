package dev.weft.proxy.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Any;
import com.google.protobuf.BoolValue;
import dev.weft.proxy.tracing.TraceProvider;
import dev.weft.proxy.tracing.TracingConfig;
import io.envoyproxy.envoy.config.core.v3.HttpService;
import io.envoyproxy.envoy.config.core.v3.HttpUri;
import io.envoyproxy.envoy.config.trace.v3.OpenTelemetryConfig;
import io.envoyproxy.envoy.config.trace.v3.ZipkinConfig;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.type.tracing.v3.CustomTag;
import io.envoyproxy.envoy.type.v3.Percent;
import org.junit.jupiter.api.Test;

/** The HCM {@code tracing} Istio generates compiles; what Weft cannot do is NACKed. */
class TracingCompileTest {
  private static HttpConnectionManager.Tracing.Builder zipkin(ZipkinConfig z) {
    return HttpConnectionManager.Tracing.newBuilder()
        .setRandomSampling(Percent.newBuilder().setValue(25))
        .setClientSampling(Percent.newBuilder().setValue(100))
        .addCustomTags(
            CustomTag.newBuilder()
                .setTag("istio.mesh_id")
                .setLiteral(CustomTag.Literal.newBuilder().setValue("cluster.local")))
        .addCustomTags(
            CustomTag.newBuilder()
                .setTag("tenant")
                .setRequestHeader(CustomTag.Header.newBuilder().setName("X-Tenant")))
        .setProvider(
            io.envoyproxy.envoy.config.trace.v3.Tracing.Http.newBuilder()
                .setName("envoy.tracers.zipkin")
                .setTypedConfig(Any.pack(z)));
  }

  private static final ZipkinConfig ISTIO_ZIPKIN =
      ZipkinConfig.newBuilder()
          .setCollectorCluster("zipkin")
          .setCollectorEndpoint("/api/v2/spans")
          .setCollectorEndpointVersion(ZipkinConfig.CollectorEndpointVersion.HTTP_JSON)
          .setTraceId128Bit(true)
          .setSharedSpanContext(BoolValue.of(false))
          .build();

  @Test
  void istiosZipkinAndOpenTelemetryProviders() throws Exception {
    TracingConfig z = Tracing.compile("", zipkin(ISTIO_ZIPKIN).build(), true);
    assertThat(z.provider())
        .isEqualTo(new TraceProvider.Zipkin("zipkin", "/api/v2/spans", true, false));
    assertThat(z.randomSampling()).isEqualTo(25);
    assertThat(z.clientSpan()).isTrue();
    assertThat(z.customTags()).hasSize(2);
    assertThat(z.customTags().get(1).header()).isEqualTo("x-tenant");

    OpenTelemetryConfig o =
        OpenTelemetryConfig.newBuilder()
            .setServiceName("podinfo.demo")
            .setHttpService(
                HttpService.newBuilder()
                    .setHttpUri(
                        HttpUri.newBuilder()
                            .setUri("http://localhost:4318/v1/traces")
                            .setCluster("outbound|4318||localhost")))
            .build();
    TracingConfig otel =
        Tracing.compile(
            "",
            HttpConnectionManager.Tracing.newBuilder()
                .setProvider(
                    io.envoyproxy.envoy.config.trace.v3.Tracing.Http.newBuilder()
                        .setName("envoy.tracers.opentelemetry")
                        .setTypedConfig(Any.pack(o)))
                .build(),
            false);
    assertThat(otel.provider())
        .isEqualTo(
            new TraceProvider.OpenTelemetry(
                "outbound|4318||localhost", "/v1/traces", "podinfo.demo"));
    assertThat(otel.randomSampling()).isEqualTo(100); // Envoy's default
    assertThat(Tracing.compile("", HttpConnectionManager.Tracing.getDefaultInstance(), false))
        .isNull();
  }

  @Test
  void unsupportedTracingIsNacked() {
    assertThatThrownBy(
            () ->
                Tracing.compile(
                    "",
                    zipkin(
                            ISTIO_ZIPKIN.toBuilder()
                                .setCollectorEndpointVersion(
                                    ZipkinConfig.CollectorEndpointVersion.GRPC)
                                .build())
                        .build(),
                    false))
        .isInstanceOf(InvalidResourceException.class)
        .hasMessageContaining("HTTP_JSON only");
    assertThatThrownBy(
            () -> Tracing.compile("", zipkin(ISTIO_ZIPKIN).setVerbose(true).build(), false))
        .hasMessageContaining("verbose");
    assertThatThrownBy(
            () ->
                Tracing.compile(
                    "",
                    zipkin(ISTIO_ZIPKIN)
                        .setRandomSampling(Percent.newBuilder().setValue(101))
                        .build(),
                    false))
        .hasMessageContaining("between 0 and 100");
    assertThatThrownBy(
            () ->
                Tracing.compile(
                    "",
                    HttpConnectionManager.Tracing.newBuilder()
                        .setProvider(
                            io.envoyproxy.envoy.config.trace.v3.Tracing.Http.newBuilder()
                                .setName("envoy.tracers.opentelemetry")
                                .setTypedConfig(
                                    Any.pack(
                                        OpenTelemetryConfig.newBuilder()
                                            .setGrpcService(
                                                io.envoyproxy.envoy.config.core.v3.GrpcService
                                                    .getDefaultInstance())
                                            .build())))
                        .build(),
                    false))
        .hasMessageContaining("grpc_service");
  }
}
