package dev.weft.cli.inspect;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

class ProxyConfigCommandTest {
  // Envoy's /clusters text, as a sidecar of podinfo-v1 serves it.
  private static final String CLUSTERS =
      """
      inbound|9898||::observability_name::inbound|9898||
      inbound|9898||::added_via_api::true
      inbound|9898||::127.0.2.2:9898::health_flags::healthy
      outbound|80|v2|podinfo.demo.svc.cluster.local::observability_name::outbound|80|v2|podinfo.demo.svc.cluster.local
      outbound|80|v2|podinfo.demo.svc.cluster.local::127.0.1.3:9898::cx_active::0
      outbound|80|v2|podinfo.demo.svc.cluster.local::127.0.1.3:9898::health_flags::healthy
      outbound|80||podinfo.demo.svc.cluster.local::observability_name::outbound|80||podinfo.demo.svc.cluster.local
      outbound|80||podinfo.demo.svc.cluster.local::127.0.1.2:9898::health_flags::healthy
      outbound|80||podinfo.demo.svc.cluster.local::127.0.1.3:9898::health_flags::healthy
      outbound|80|v1|podinfo.demo.svc.cluster.local::observability_name::outbound|80|v1|podinfo.demo.svc.cluster.local
      """;

  @Test
  void clustersInIstioctlsOrderWithTheirDestinationRule() {
    var clusters = ProxyConfigCommand.parseClusters(CLUSTERS);
    String table =
        ProxyConfigCommand.clusterTable(
            clusters, Map.of("podinfo.demo.svc.cluster.local", "podinfo.demo"));
    assertThat(table.lines().toList())
        .containsExactly(
            "SERVICE FQDN                     PORT   SUBSET   DIRECTION   TYPE     DESTINATION RULE",
            "                                 9898   -        inbound     STATIC",
            "podinfo.demo.svc.cluster.local   80     -        outbound    EDS      podinfo.demo",
            "podinfo.demo.svc.cluster.local   80     v1       outbound    EDS      podinfo.demo",
            "podinfo.demo.svc.cluster.local   80     v2       outbound    EDS      podinfo.demo");
  }

  @Test
  void endpointsWithTheirCluster() {
    String table = ProxyConfigCommand.endpointTable(ProxyConfigCommand.parseClusters(CLUSTERS));
    assertThat(table.lines().toList())
        .containsExactly(
            "ENDPOINT         STATUS    OUTLIER CHECK   CLUSTER",
            "127.0.2.2:9898   HEALTHY   OK              inbound|9898||",
            "127.0.1.3:9898   HEALTHY   OK              outbound|80|v2|podinfo.demo.svc.cluster.local",
            "127.0.1.2:9898   HEALTHY   OK              outbound|80||podinfo.demo.svc.cluster.local",
            "127.0.1.3:9898   HEALTHY   OK              outbound|80||podinfo.demo.svc.cluster.local");
  }
}
