package dev.weft.xds;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class NamesTest {
  @Test
  void clusterNamesRoundTrip() {
    ClusterName name = ClusterName.outbound(80, "v1", "podinfo.demo.svc.cluster.local");
    assertThat(name.toString()).isEqualTo("outbound|80|v1|podinfo.demo.svc.cluster.local");
    assertThat(ClusterName.parse(name.toString())).isEqualTo(name);
    assertThat(ClusterName.inbound(9898).toString()).isEqualTo("inbound|9898||");
    assertThat(ClusterName.parse("inbound|9898||")).isEqualTo(ClusterName.inbound(9898));
    assertThat(ClusterName.parse("BlackHoleCluster")).isNull();
    assertThat(ClusterName.parse("outbound|x||h")).isNull();
  }

  @Test
  void nodeIdsRoundTrip() {
    String id = "sidecar~127.0.1.2~podinfo-v1.demo~demo.svc.cluster.local";
    NodeId node = NodeId.parse(id);
    assertThat(node).isEqualTo(new NodeId("sidecar", "127.0.1.2", "podinfo-v1", "demo"));
    assertThat(node.toString()).isEqualTo(id);
    assertThat(node.proxyName()).isEqualTo("podinfo-v1.demo");
    assertThat(NodeId.parse("envoy-1")).isNull();
  }
}
