package dev.weft.cli.common;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.api.ResourceKind;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ResourceTableTest {
  private static final Instant NOW = Instant.parse("2026-04-20T10:00:03Z");

  private static Map<String, Object> doc(String name, String ns, Map<String, Object> spec) {
    return Map.of(
        "metadata",
        Map.of("name", name, "namespace", ns, "creationTimestamp", "2026-04-20T10:00:00Z"),
        "spec",
        spec);
  }

  @Test
  void virtualServiceColumnsAsInTheGuide() {
    String table =
        ResourceTable.format(
            ResourceKind.VIRTUAL_SERVICE,
            List.of(
                doc(
                    "podinfo",
                    "demo",
                    Map.of("hosts", List.of("*"), "gateways", List.of("podinfo-gw")))),
            false,
            true,
            false,
            NOW);
    assertThat(table)
        .isEqualTo(
            "NAME                                         GATEWAYS         HOSTS   AGE\n"
                + "virtualservice.networking.istio.io/podinfo   [\"podinfo-gw\"]   [\"*\"]   3s\n");
  }

  @Test
  void destinationRuleWithNamespaceColumn() {
    String table =
        ResourceTable.format(
            ResourceKind.DESTINATION_RULE,
            List.of(doc("podinfo", "demo", Map.of("host", "podinfo.demo.svc.cluster.local"))),
            true,
            false,
            false,
            NOW);
    assertThat(table.lines().toList())
        .containsExactly(
            "NAMESPACE   NAME      HOST                             AGE",
            "demo        podinfo   podinfo.demo.svc.cluster.local   3s");
  }

  @Test
  void serviceShowsPortsAndMissingTimestampIsUnknown() {
    Map<String, Object> svc =
        Map.of(
            "metadata",
            Map.of("name", "podinfo", "namespace", "demo"),
            "spec",
            Map.of(
                "selector",
                Map.of("app", "podinfo"),
                "ports",
                List.of(Map.of("name", "http", "port", 80, "targetPort", 9898))));
    String table =
        ResourceTable.format(ResourceKind.SERVICE, List.of(svc), false, false, true, NOW);
    assertThat(table.lines().toList())
        .containsExactly(
            "NAME      TYPE        CLUSTER-IP   EXTERNAL-IP   PORT(S)   SELECTOR      AGE",
            "podinfo   ClusterIP   <none>       <none>        80/TCP    app=podinfo   <unknown>");
  }
}
