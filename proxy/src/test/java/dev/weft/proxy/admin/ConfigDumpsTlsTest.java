package dev.weft.proxy.admin;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.proxy.testing.IstioTls;
import dev.weft.proxy.testing.Xds;
import dev.weft.proxy.xds.NodeStructs;
import dev.weft.proxy.xds.XdsSnapshot;
import dev.weft.xds.IstioMtls;
import dev.weft.xds.NodeId;
import dev.weft.xds.TypeUrls;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Issue #7: what a proxy with mTLS shows and announces. */
class ConfigDumpsTlsTest {
  /** {@code /config_dump} renders the TLS typed configs (it failed with 500 before). */
  @Test
  void theConfigDumpShowsTlsListenersAndClusters() throws Exception {
    var hcm =
        Xds.hcm()
            .setRouteConfig(
                Xds.routes("r", Xds.vhost("v", List.of("*"), Xds.prefixRoute("/", "c"))))
            .build();
    var listener = IstioTls.inbound("in", 15006, hcm, false, true);
    var cluster =
        IstioTls.autoMtlsCluster("out", List.of("spiffe://cluster.local/ns/demo/sa/x"), true);
    XdsSnapshot s =
        new XdsSnapshot(
            Map.of(TypeUrls.LISTENER, "1", TypeUrls.CLUSTER, "1"),
            Map.of(
                TypeUrls.LISTENER,
                Map.of("in", new XdsSnapshot.Held(listener, "1", Instant.EPOCH)),
                TypeUrls.CLUSTER,
                Map.of("out", new XdsSnapshot.Held(cluster, "1", Instant.EPOCH))),
            Map.of());
    String json = ConfigDumps.json(s);
    assertThat(json)
        .contains("envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext")
        .contains("envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext")
        .contains("envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector")
        .contains("\"require_client_certificate\": true")
        .contains("spiffe://cluster.local/ns/demo/sa/x");
  }

  /** The node announces mTLS only when the bootstrap says the proxy has its certificate. */
  @Test
  void theNodeAnnouncesTlsOnlyWhenAsked() {
    NodeId id = NodeId.parse("sidecar~127.0.1.2~podinfo-v1.demo~demo.svc.cluster.local");
    assertThat(IstioMtls.supportedBy(NodeStructs.node(id, Map.of()))).isFalse();
    assertThat(IstioMtls.supportedBy(NodeStructs.node(id, Map.of(), false))).isFalse();
    assertThat(IstioMtls.supportedBy(NodeStructs.node(id, Map.of(), true))).isTrue();
  }
}
