package dev.weft.controlplane.push;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.api.Resource;
import dev.weft.controlplane.Fixtures;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The host index answers as a scan of the VirtualServices in precedence order would. */
class VirtualServiceIndexTest {
  private static Resource vs(String name, String hosts, String gateways) {
    return Fixtures.parse(
            name + ".yaml",
            """
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: %s, namespace: demo}
            spec:
              hosts: %s
              gateways: %s
              http:
              - route:
                - destination: {host: podinfo}
            """
                .formatted(name, hosts, gateways))
        .get(0);
  }

  private static String first(VirtualServiceIndex index, String host) {
    Resource r = index.first(host);
    return r == null ? null : r.metadata().name();
  }

  @Test
  void oldestCoveringVirtualServiceForTheMeshWins() {
    List<Resource> byAge =
        List.of(
            vs("gateway-only", "[podinfo]", "[podinfo-gw]"),
            vs("wild", "[\"*.demo.svc.cluster.local\"]", "[]"),
            vs("short", "[podinfo, other]", "[mesh]"),
            vs("later-exact", "[other.demo.svc.cluster.local, third]", "[]"),
            vs("later-wild", "[\"*.svc.cluster.local\"]", "[]"));
    VirtualServiceIndex index = VirtualServiceIndex.mesh(byAge);
    // "wild" is older than "short": it covers podinfo.demo... first.
    assertThat(first(index, "podinfo.demo.svc.cluster.local")).isEqualTo("wild");
    // Not under *.demo...: the exact short-name host ("third" resolves in demo).
    assertThat(first(index, "third.demo.svc.cluster.local")).isEqualTo("wild");
    assertThat(first(index, "x.other.svc.cluster.local")).isEqualTo("later-wild");
    // The gateway-only one never applies to the mesh.
    assertThat(first(index, "example.com")).isNull();

    VirtualServiceIndex exactFirst =
        VirtualServiceIndex.mesh(
            List.of(
                vs("short", "[podinfo]", "[mesh]"),
                vs("wild", "[\"*.demo.svc.cluster.local\"]", "[]"),
                vs("dup", "[podinfo.demo.svc.cluster.local]", "[]")));
    assertThat(first(exactFirst, "podinfo.demo.svc.cluster.local")).isEqualTo("short");
    assertThat(first(exactFirst, "a.demo.svc.cluster.local")).isEqualTo("wild");
    assertThat(first(exactFirst, "a.other.svc.cluster.local")).isNull();
  }
}
