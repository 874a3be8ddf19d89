package dev.weft.controlplane.gen;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Message;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.weft.controlplane.Fixtures;
import dev.weft.controlplane.push.PushContext;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the proxies' standard metrics need from the control plane: Istio's {@code istio.services}
 * cluster metadata (the destination service of inbound and outbound clusters) and the {@code
 * istio-peer-exchange} ALPN on inbound mTLS TCP ports (Istio's {@code ALPNDownstreamWithMxc}).
 */
class TelemetryMetadataTest {
  @TempDir Path dir;

  private PushContext context() throws Exception {
    return PushContext.build(
        1,
        Fixtures.snapshot(Files.createTempDirectory(dir, "s"), "podinfo.yaml", "tcp-echo.yaml"),
        List.of(
            MtlsGenerationTest.v1().workload(),
            MtlsGenerationTest.v2().workload(),
            MtlsGenerationTest.gateway().workload()));
  }

  private static Cluster cluster(List<Message> cds, String name) {
    return cds.stream()
        .map(Cluster.class::cast)
        .filter(c -> c.getName().equals(name))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no cluster " + name));
  }

  /** {@code [host, name, namespace]} of each entry of the cluster's {@code istio.services}. */
  private static List<List<String>> services(Cluster c) {
    Struct istio = c.getMetadata().getFilterMetadataOrThrow("istio");
    return istio.getFieldsOrThrow("services").getListValue().getValuesList().stream()
        .map(Value::getStructValue)
        .map(
            s ->
                List.of(
                    s.getFieldsOrThrow("host").getStringValue(),
                    s.getFieldsOrThrow("name").getStringValue(),
                    s.getFieldsOrThrow("namespace").getStringValue()))
        .toList();
  }

  @Test
  void inboundAndOutboundClustersNameTheirServices() throws Exception {
    PushContext ctx = context();
    List<Message> sidecar = new ClusterGenerator().generate(ctx, MtlsGenerationTest.v1());
    assertThat(services(cluster(sidecar, "inbound|9898||")))
        .containsExactly(List.of("podinfo.demo.svc.cluster.local", "podinfo", "demo"));
    assertThat(services(cluster(sidecar, "inbound|9900||")))
        .containsExactly(List.of("tcp-echo.demo.svc.cluster.local", "tcp-echo", "demo"));
    assertThat(services(cluster(sidecar, "outbound|9000|v1|tcp-echo.demo.svc.cluster.local")))
        .containsExactly(List.of("tcp-echo.demo.svc.cluster.local", "tcp-echo", "demo"));
    List<Message> gateway = new ClusterGenerator().generate(ctx, MtlsGenerationTest.gateway());
    assertThat(services(cluster(gateway, "outbound|80||podinfo.demo.svc.cluster.local")))
        .containsExactly(List.of("podinfo.demo.svc.cluster.local", "podinfo", "demo"));
    // Istio's special clusters name no service.
    assertThat(cluster(gateway, "BlackHoleCluster").hasMetadata()).isFalse();
  }

  @Test
  void inboundMtlsTcpPortsNegotiateThePeerExchangeAndHttpPortsDoNot() throws Exception {
    PushContext ctx = context();
    List<Message> lds = new ListenerGenerator().generate(ctx, MtlsGenerationTest.v1());
    assertThat(alpn(listener(lds, "_9900")))
        .containsExactly("istio-peer-exchange", "h2", "http/1.1");
    assertThat(alpn(listener(lds, "_9898"))).containsExactly("h2", "http/1.1");
  }

  private static Listener listener(List<Message> lds, String suffix) {
    return lds.stream()
        .map(Listener.class::cast)
        .filter(l -> l.getName().endsWith(suffix))
        .findFirst()
        .orElseThrow();
  }

  /** The ALPN of the listener's TLS chain. */
  private static List<String> alpn(Listener l) throws Exception {
    for (FilterChain c : l.getFilterChainsList()) {
      if (c.hasTransportSocket()) {
        return c.getTransportSocket()
            .getTypedConfig()
            .unpack(DownstreamTlsContext.class)
            .getCommonTlsContext()
            .getAlpnProtocolsList();
      }
    }
    throw new AssertionError("no TLS chain in " + l.getName());
  }
}
