package dev.weft.controlplane.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.controlplane.gen.Proxy;
import dev.weft.proxy.xds.NodeStructs;
import dev.weft.xds.IstioMtls;
import dev.weft.xds.NodeId;
import dev.weft.xds.NodeMetadata;
import io.envoyproxy.envoy.config.core.v3.Node;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The scale benchmark's simulated sidecars announce mTLS exactly as Weft's proxy does: the node a
 * real sidecar sends ({@link NodeStructs}, the proxy's own code) and a simulated one list the same
 * {@code node.extensions}, and the control plane reads the same from both (mTLS support, the
 * workload's {@code tlsMode} label).
 */
class XdsScaleNodeTest {

  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void simulatedSidecarAnnouncesMtlsAsWeftsProxy(boolean mtls) {
    Node simulated = XdsScaleBenchmark.Sidecar.node(7, 10, mtls);
    NodeId id = NodeId.parse(simulated.getId());
    Node real =
        NodeStructs.node(
            id,
            Map.of(
                NodeMetadata.NAMESPACE,
                id.namespace(),
                NodeMetadata.NAME,
                "wl-00007",
                NodeMetadata.LABELS,
                Map.of("app", "svc-00007", "version", "v2"),
                NodeMetadata.INSTANCE_IPS,
                id.ip(),
                NodeMetadata.WEFT_PORTS,
                "http:9898",
                NodeMetadata.WEFT_APP_ADDRESS,
                "127.2.0.9"),
            mtls);

    assertThat(simulated.getExtensionsList()).isEqualTo(real.getExtensionsList());
    assertThat(IstioMtls.supportedBy(simulated)).isEqualTo(mtls);
    assertThat(IstioMtls.supportedBy(real)).isEqualTo(mtls);
    Proxy sim = Proxy.fromNode(simulated);
    Proxy proxy = Proxy.fromNode(real);
    assertThat(sim.mtls()).isEqualTo(proxy.mtls()).isEqualTo(mtls);
    assertThat(sim.workload().labels()).isEqualTo(proxy.workload().labels());
    assertThat(sim.workload().labels().get(IstioMtls.TLS_MODE_LABEL))
        .isEqualTo(mtls ? IstioMtls.TLS_MODE_ISTIO : null);
  }
}
