package dev.weft.proxy.admin;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import io.envoyproxy.envoy.config.accesslog.v3.AccessLog;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.trace.v3.Tracing;
import io.envoyproxy.envoy.config.trace.v3.ZipkinConfig;
import io.envoyproxy.envoy.extensions.access_loggers.file.v3.FileAccessLog;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import java.util.LinkedHashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * A config dump prints every type the proxy accepted, also those no hand-kept list names (the
 * access log and tracer types made {@code /config_dump} answer 500 before).
 */
class ProtoTypesTest {
  private static Listener listener() {
    HttpConnectionManager hcm =
        HttpConnectionManager.newBuilder()
            .setStatPrefix("inbound_0.0.0.0_9898")
            .addAccessLog(
                AccessLog.newBuilder()
                    .setName("envoy.access_loggers.file")
                    .setTypedConfig(
                        Any.pack(FileAccessLog.newBuilder().setPath("/dev/stdout").build())))
            .setTracing(
                HttpConnectionManager.Tracing.newBuilder()
                    .setProvider(
                        Tracing.Http.newBuilder()
                            .setName("envoy.tracers.zipkin")
                            .setTypedConfig(
                                Any.pack(
                                    ZipkinConfig.newBuilder()
                                        .setCollectorCluster("zipkin")
                                        .setCollectorEndpoint("/api/v2/spans")
                                        .build()))))
            .addHttpFilters(
                HttpFilter.newBuilder()
                    .setName("istio.stats")
                    .setTypedConfig(
                        Any.pack(
                            com.github.xds.type.v3.TypedStruct.newBuilder()
                                .setTypeUrl("type.googleapis.com/stats.PluginConfig")
                                .build())))
            .build();
    return Listener.newBuilder()
        .setName("0.0.0.0_9898")
        .addFilterChains(
            FilterChain.newBuilder()
                .addFilters(
                    Filter.newBuilder()
                        .setName("envoy.filters.network.http_connection_manager")
                        .setTypedConfig(Any.pack(hcm))))
        .build();
  }

  @Test
  void findsNestedAnyTypesByTheirPackageConvention() {
    Set<String> names = new LinkedHashSet<>();
    ProtoTypes.collectAnyTypes(listener(), names);
    assertThat(names)
        .contains(
            "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
            "envoy.extensions.access_loggers.file.v3.FileAccessLog",
            "envoy.config.trace.v3.ZipkinConfig",
            "xds.type.v3.TypedStruct");
    assertThat(ProtoTypes.descriptor("envoy.config.trace.v3.ZipkinConfig"))
        .isEqualTo(ZipkinConfig.getDescriptor());
    assertThat(ProtoTypes.descriptor("envoy.no.such.v3.Type")).isNull();
    assertThat(ProtoTypes.descriptor("istio.not.envoy.Type")).isNull();
  }

  @Test
  void printsAndParsesBackWhatNoFixedListNames() throws Exception {
    Listener l = listener();
    String json = ConfigDumps.printer(l).print(l);
    assertThat(json).contains("\"path\": \"/dev/stdout\"").contains("\"collector_cluster\"");
    Listener.Builder back = Listener.newBuilder();
    ConfigDumps.parser(json).merge(json, back);
    assertThat(back.build()).isEqualTo(l);
  }
}
