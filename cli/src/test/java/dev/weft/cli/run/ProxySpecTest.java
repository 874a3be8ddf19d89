package dev.weft.cli.run;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.cli.common.HostPort;
import dev.weft.xds.NodeId;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What a local proxy's bootstrap says about its event loops. */
class ProxySpecTest {
  /** Istio's ProxyConfig.concurrency default: 2 worker threads, here never more than processors. */
  @Test
  void aSidecarRunsTwoEventLoopsAtMost() {
    assertThat(ProxySpec.concurrency(NodeId.SIDECAR, 64)).isEqualTo(2);
    assertThat(ProxySpec.concurrency(NodeId.SIDECAR, 2)).isEqualTo(2);
    assertThat(ProxySpec.concurrency(NodeId.SIDECAR, 1)).isEqualTo(1);
  }

  /** The gateway, which carries many workloads' traffic, takes one event loop per processor (0). */
  @Test
  void theGatewayRunsOnePerProcessor() {
    assertThat(ProxySpec.concurrency(NodeId.ROUTER, 64)).isZero();
  }

  @Test
  void theBootstrapCarriesIt() {
    HostPort xds = new HostPort("127.0.0.1", 15010);
    HostPort admin = new HostPort("127.0.0.1", 15000);
    ProxySpec sidecar =
        new ProxySpec(
            NodeId.SIDECAR, "a", "demo", Map.of(), "127.0.1.2", "127.0.2.2:9898", List.of(), "sa");
    ProxySpec gateway =
        new ProxySpec(
            NodeId.ROUTER, "gw", "weft-system", Map.of(), "127.0.1.3", "", List.of(), "gw");

    assertThat(sidecar.bootstrap(xds, admin, null, null).concurrency())
        .isEqualTo(Math.min(2, Runtime.getRuntime().availableProcessors()));
    assertThat(gateway.bootstrap(xds, admin, null, null).concurrency()).isZero();
  }

  /** A ProxyConfig's concurrency is taken as it is, as Envoy takes --concurrency. */
  @Test
  void whatItsProxyConfigSetsIsTakenAsItIs() {
    HostPort xds = new HostPort("127.0.0.1", 15010);
    HostPort admin = new HostPort("127.0.0.1", 15000);
    for (int n : new int[] {0, 1, 8}) {
      ProxySpec sidecar =
          new ProxySpec(NodeId.SIDECAR, "a", "demo", Map.of(), "127.0.1.2", "", List.of(), "sa", n);
      ProxySpec gateway =
          new ProxySpec(
              NodeId.ROUTER, "gw", "weft-system", Map.of(), "127.0.1.3", "", List.of(), "gw", n);
      assertThat(sidecar.bootstrap(xds, admin, null, null).concurrency()).isEqualTo(n);
      assertThat(gateway.bootstrap(xds, admin, null, null).concurrency()).isEqualTo(n);
    }
  }
}
