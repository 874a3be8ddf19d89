package dev.weft.proxy.xds;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.proxy.Proxy;
import dev.weft.proxy.ProxyBootstrap;
import dev.weft.xds.NodeId;
import dev.weft.xds.NodeMetadata;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A proxy advertises its metrics port in its node metadata as Istio's {@code ENVOY_PROMETHEUS_PORT}
 * (a number, as Istio's agent sends it), with the port it actually bound, and only when the control
 * plane can reach it at the workload's address.
 */
class NodeStructsPrometheusPortTest {
  private static final NodeId ID = new NodeId("sidecar", "127.0.0.1", "a", "demo");

  @Test
  void aStartedProxyAdvertisesTheMetricsPortItBound() throws Exception {
    Proxy p =
        Proxy.start(
            ProxyBootstrap.builder()
                .nodeId(ID)
                .metadata(Map.of(NodeMetadata.INSTANCE_IPS, "127.0.0.1"))
                .xdsServer(new InetSocketAddress("127.0.0.1", 1)) // never answers: not needed
                .adminAddress(new InetSocketAddress("127.0.0.1", 0))
                .prometheusAddress(new InetSocketAddress("127.0.0.1", 0))
                .build());
    try {
      int port = p.prometheusAddress().orElseThrow().getPort();
      assertThat(port).isPositive();
      String dump = configDump(p);
      assertThat(dump).containsPattern("\"ENVOY_PROMETHEUS_PORT\": " + port + "(\\.0)?\\b");
    } finally {
      p.close();
    }
  }

  @Test
  void aProxyWithoutAMetricsPortAdvertisesNone() throws Exception {
    Proxy p =
        Proxy.start(
            ProxyBootstrap.builder()
                .nodeId(ID)
                .xdsServer(new InetSocketAddress("127.0.0.1", 1))
                .adminAddress(new InetSocketAddress("127.0.0.1", 0))
                .build());
    try {
      assertThat(configDump(p)).contains("\"node\"").doesNotContain("ENVOY_PROMETHEUS_PORT");
    } finally {
      p.close();
    }
  }

  @Test
  void onlyAPortOnTheWorkloadAddressOrEveryAddressIsAdvertisedAsANumber() {
    Map<String, Object> md = Map.of(NodeMetadata.INSTANCE_IPS, "127.0.1.7,10.0.0.1");
    NodeId id = new NodeId("sidecar", "127.0.1.7", "a", "demo");
    assertThat(
            NodeStructs.withPrometheusPort(id, md, new InetSocketAddress("127.0.1.7", 15090))
                .get(NodeMetadata.ENVOY_PROMETHEUS_PORT))
        .isEqualTo(15090);
    assertThat(
            NodeStructs.withPrometheusPort(id, md, new InetSocketAddress("0.0.0.0", 9102))
                .get(NodeMetadata.ENVOY_PROMETHEUS_PORT))
        .isEqualTo(9102);
    // Elsewhere (a gateway's metrics on another address): the dashboard could not reach it there.
    assertThat(NodeStructs.withPrometheusPort(id, md, new InetSocketAddress("127.0.0.1", 9102)))
        .doesNotContainKey(NodeMetadata.ENVOY_PROMETHEUS_PORT);
    assertThat(NodeStructs.withPrometheusPort(id, md, null))
        .doesNotContainKey(NodeMetadata.ENVOY_PROMETHEUS_PORT);
    var node =
        NodeStructs.node(
            id,
            NodeStructs.withPrometheusPort(id, md, new InetSocketAddress("127.0.1.7", 15090)),
            false);
    var v = node.getMetadata().getFieldsMap().get(NodeMetadata.ENVOY_PROMETHEUS_PORT);
    assertThat(v.hasNumberValue()).isTrue();
    assertThat(v.getNumberValue()).isEqualTo(15090.0);
  }

  private static String configDump(Proxy p) throws Exception {
    InetSocketAddress a = p.adminAddress();
    HttpResponse<String> r =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + a.getPort() + "/config_dump"))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    return r.body();
  }
}
