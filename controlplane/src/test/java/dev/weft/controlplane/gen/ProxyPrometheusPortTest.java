package dev.weft.controlplane.gen;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.weft.xds.NodeMetadata;
import dev.weft.xds.WellKnownPorts;
import io.envoyproxy.envoy.config.core.v3.Node;
import org.junit.jupiter.api.Test;

/**
 * Istio's {@code ENVOY_PROMETHEUS_PORT} node metadata, as {@link Proxy#fromNode} reads it, and the
 * port check it shares with {@code WEFT_PORTS}.
 */
class ProxyPrometheusPortTest {
  @Test
  void aNumberOrAStringOfDigitsIsThePortAndAbsentIsNone() {
    assertThat(proxy(Value.newBuilder().setNumberValue(15090).build()).prometheusPort())
        .isEqualTo(15090);
    assertThat(proxy(Value.newBuilder().setStringValue("9102").build()).prometheusPort())
        .isEqualTo(9102);
    Proxy none = proxy(null);
    assertThat(none.prometheusPort()).isZero();
    assertThat(none.workload().ports()).doesNotContainKey(WellKnownPorts.PROMETHEUS_PORT_NAME);
  }

  @Test
  void theWorkloadNamesItAsIstiosPodSpecDoesUnlessItsOwnPortsNameAnother() {
    Proxy p = proxy(Value.newBuilder().setNumberValue(15090).build());
    assertThat(p.workload().ports())
        .containsEntry("http", 9898)
        .containsEntry(WellKnownPorts.PROMETHEUS_PORT_NAME, 15090);
    // The node's own WEFT_PORTS stay what the proxy status shows.
    assertThat(p.ports()).doesNotContainKey(WellKnownPorts.PROMETHEUS_PORT_NAME);
  }

  @Test
  void aMalformedPortIsAClearError() {
    for (Value bad :
        new Value[] {
          Value.newBuilder().setNumberValue(0).build(),
          Value.newBuilder().setNumberValue(70000).build(),
          Value.newBuilder().setNumberValue(15090.5).build(),
          Value.newBuilder().setStringValue("metrics").build(),
          Value.newBuilder().setBoolValue(true).build()
        }) {
      assertThatThrownBy(() -> proxy(bad))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageStartingWith(NodeMetadata.ENVOY_PROMETHEUS_PORT + ": ");
    }
  }

  @Test
  void weftPortsAndThePrometheusPortShareOneCheck() {
    assertThat(Proxy.parsePorts("http:9898, grpc: 9090,15020"))
        .containsExactly(
            java.util.Map.entry("http", 9898),
            java.util.Map.entry("grpc", 9090),
            java.util.Map.entry("15020", 15020));
    for (String bad : new String[] {"http:0", "http:65536", "http:x", "http:-1", "http:"}) {
      assertThatThrownBy(() -> Proxy.parsePorts("ok:1," + bad))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage(NodeMetadata.WEFT_PORTS + ": \"" + bad + "\" is not a port (1-65535)");
    }
    assertThatThrownBy(() -> proxy(Value.newBuilder().setStringValue("65536").build()))
        .hasMessage(NodeMetadata.ENVOY_PROMETHEUS_PORT + ": \"65536\" is not a port (1-65535)");
    assertThatThrownBy(() -> proxy(Value.newBuilder().setNumberValue(65536).build()))
        .hasMessage(NodeMetadata.ENVOY_PROMETHEUS_PORT + ": 65536.0 is not a port (1-65535)");
  }

  private static Proxy proxy(Value prometheusPort) {
    Struct.Builder md =
        Struct.newBuilder()
            .putFields(
                NodeMetadata.WEFT_PORTS, Value.newBuilder().setStringValue("http:9898").build());
    if (prometheusPort != null) {
      md.putFields(NodeMetadata.ENVOY_PROMETHEUS_PORT, prometheusPort);
    }
    return Proxy.fromNode(
        Node.newBuilder()
            .setId("sidecar~127.0.1.2~a.demo~demo.svc.cluster.local")
            .setMetadata(md)
            .build());
  }
}
