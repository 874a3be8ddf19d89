package dev.weft.proxy.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Any;
import com.google.protobuf.ListValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.weft.proxy.stats.MetricOverrides;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import org.junit.jupiter.api.Test;

/** Istio's istio.stats filter config, as the control plane writes it for metric overrides. */
class IstioStatsTest {
  private static Value s(String v) {
    return Value.newBuilder().setStringValue(v).build();
  }

  private static HttpConnectionManager hcm(Struct... metrics) {
    ListValue.Builder l = ListValue.newBuilder();
    for (Struct m : metrics) {
      l.addValues(Value.newBuilder().setStructValue(m));
    }
    return HttpConnectionManager.newBuilder()
        .addHttpFilters(
            HttpFilter.newBuilder()
                .setName("istio.stats")
                .setTypedConfig(
                    Any.pack(
                        com.github.xds.type.v3.TypedStruct.newBuilder()
                            .setTypeUrl("type.googleapis.com/stats.PluginConfig")
                            .setValue(
                                Struct.newBuilder()
                                    .putFields(
                                        "metrics", Value.newBuilder().setListValue(l).build()))
                            .build())))
        .build();
  }

  @Test
  void dropRemoveAndLiteralDimensionsLaterEntriesWin() throws Exception {
    MetricOverrides o =
        IstioStats.compile(
            "",
            hcm(
                Struct.newBuilder()
                    .putFields("name", s("requests_total"))
                    .putFields(
                        "dimensions",
                        Value.newBuilder()
                            .setStructValue(Struct.newBuilder().putFields("team", s("'a'")))
                            .build())
                    .build(),
                Struct.newBuilder()
                    .putFields(
                        "tags_to_remove",
                        Value.newBuilder()
                            .setListValue(ListValue.newBuilder().addValues(s("team")))
                            .build())
                    .build(),
                Struct.newBuilder()
                    .putFields("name", s("tcp_sent_bytes_total"))
                    .putFields("drop", Value.newBuilder().setBoolValue(true).build())
                    .build()));
    // The unnamed entry applies to every standard metric, TCP ones included (istio_stats), and
    // removes what the first upserted.
    assertThat(o.byMetric())
        .containsOnlyKeys(
            "requests_total",
            "request_duration_milliseconds",
            "request_bytes",
            "response_bytes",
            "tcp_connections_opened_total",
            "tcp_connections_closed_total",
            "tcp_sent_bytes_total",
            "tcp_received_bytes_total");
    MetricOverrides.Override r = o.byMetric().get("requests_total");
    assertThat(r.upsert()).isEmpty();
    assertThat(r.remove()).containsExactly("team");
    MetricOverrides.Override sent = o.byMetric().get("tcp_sent_bytes_total");
    assertThat(sent.drop()).isTrue();
    assertThat(sent.remove()).containsExactly("team");
    assertThat(o.byMetric().get("tcp_received_bytes_total").drop()).isFalse();
    // The same config as a TCP chain's network filter.
    MetricOverrides tcp =
        IstioStats.compile(
            "",
            io.envoyproxy.envoy.config.listener.v3.Filter.newBuilder()
                .setName("istio.stats")
                .setTypedConfig(
                    hcm(Struct.newBuilder()
                            .putFields("name", s("tcp_connections_opened_total"))
                            .putFields("drop", Value.newBuilder().setBoolValue(true).build())
                            .build())
                        .getHttpFilters(0)
                        .getTypedConfig())
                .build());
    assertThat(tcp.byMetric()).containsOnlyKeys("tcp_connections_opened_total");
    assertThat(tcp.byMetric().get("tcp_connections_opened_total").drop()).isTrue();
    assertThat(IstioStats.compile("", HttpConnectionManager.getDefaultInstance())).isNull();
  }

  @Test
  void celExpressionsAndUnknownFieldsAreNacked() {
    assertThatThrownBy(
            () ->
                IstioStats.compile(
                    "",
                    hcm(
                        Struct.newBuilder()
                            .putFields(
                                "dimensions",
                                Value.newBuilder()
                                    .setStructValue(
                                        Struct.newBuilder().putFields("h", s("request.host")))
                                    .build())
                            .build())))
        .isInstanceOf(InvalidResourceException.class)
        .hasMessageContaining("only string literals");
    assertThatThrownBy(
            () ->
                IstioStats.compile(
                    "", hcm(Struct.newBuilder().putFields("name", s("nope_total")).build())))
        .hasMessageContaining("unknown metric");
  }
}
