package dev.weft.samples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

/** The demo manifests are the guide's, well-formed and indented as Istio expects. */
class DemoManifestsTest {

  private static Map<String, Object> load(String fileName) {
    @SuppressWarnings("unchecked")
    Map<String, Object> doc =
        (Map<String, Object>)
            new Load(LoadSettings.builder().build()).loadFromString(DemoManifests.read(fileName));
    return doc;
  }

  @SuppressWarnings("unchecked")
  private static <T> T at(Object node, Object... path) {
    Object current = node;
    for (Object key : path) {
      current =
          key instanceof Integer i
              ? ((List<Object>) current).get(i)
              : ((Map<String, Object>) current).get(key);
    }
    return (T) current;
  }

  @Test
  void service() {
    Map<String, Object> svc = load(DemoManifests.PODINFO_SERVICE);
    assertThat(svc).containsEntry("apiVersion", "v1").containsEntry("kind", "Service");
    assertThat((Object) at(svc, "metadata", "name")).isEqualTo("podinfo");
    assertThat((Object) at(svc, "metadata", "namespace")).isEqualTo("demo");
    assertThat((Object) at(svc, "spec", "selector")).isEqualTo(Map.of("app", "podinfo"));
    assertThat((Object) at(svc, "spec", "ports", 0))
        .isEqualTo(Map.of("name", "http", "port", 80, "targetPort", 9898));
  }

  @Test
  void gateway() {
    Map<String, Object> gw = load(DemoManifests.GATEWAY);
    assertThat(gw)
        .containsEntry("apiVersion", "networking.istio.io/v1")
        .containsEntry("kind", "Gateway");
    assertThat((Object) at(gw, "metadata", "name")).isEqualTo("podinfo-gw");
    assertThat((Object) at(gw, "spec", "selector")).isEqualTo(Map.of("istio", "ingressgateway"));
    assertThat((Object) at(gw, "spec", "servers", 0, "port"))
        .isEqualTo(Map.of("number", 80, "name", "http", "protocol", "HTTP"));
    assertThat((Object) at(gw, "spec", "servers", 0, "hosts")).isEqualTo(List.of("*"));
  }

  @Test
  void destinationRule() {
    Map<String, Object> dr = load(DemoManifests.DESTINATION_RULE);
    assertThat(dr).containsEntry("kind", "DestinationRule");
    assertThat((Object) at(dr, "spec", "host")).isEqualTo("podinfo.demo.svc.cluster.local");
    assertThat((Object) at(dr, "spec", "subsets"))
        .isEqualTo(
            List.of(
                Map.of("name", "v1", "labels", Map.of("version", "v1")),
                Map.of("name", "v2", "labels", Map.of("version", "v2"))));
  }

  @Test
  void canaryVirtualServiceSplits90To10() {
    Map<String, Object> vs = load(DemoManifests.VIRTUAL_SERVICE_CANARY);
    assertThat(vs).containsEntry("kind", "VirtualService");
    assertThat((Object) at(vs, "metadata", "name")).isEqualTo("podinfo");
    assertThat((Object) at(vs, "spec", "hosts")).isEqualTo(List.of("*"));
    assertThat((Object) at(vs, "spec", "gateways")).isEqualTo(List.of("podinfo-gw"));
    List<Object> http = at(vs, "spec", "http");
    assertThat(http).hasSize(1);
    assertThat((Object) at(http, 0, "route"))
        .isEqualTo(
            List.of(
                Map.of(
                    "destination",
                    Map.of("host", "podinfo.demo.svc.cluster.local", "subset", "v1"),
                    "weight",
                    90),
                Map.of(
                    "destination",
                    Map.of("host", "podinfo.demo.svc.cluster.local", "subset", "v2"),
                    "weight",
                    10)));
  }

  @Test
  void headerVirtualServiceSendsCanaryHeaderToV2() {
    Map<String, Object> vs = load(DemoManifests.VIRTUAL_SERVICE_HEADER);
    assertThat((Object) at(vs, "metadata", "name")).isEqualTo("podinfo");
    assertThat((Object) at(vs, "spec", "gateways")).isEqualTo(List.of("podinfo-gw"));
    assertThat((Object) at(vs, "spec", "hosts")).isEqualTo(List.of("*"));
    List<Object> http = at(vs, "spec", "http");
    assertThat(http).hasSize(2);
    assertThat((Object) at(http, 0, "match", 0, "headers"))
        .isEqualTo(Map.of("x-canary", Map.of("exact", "true")));
    assertThat((Object) at(http, 0, "route", 0, "destination", "subset")).isEqualTo("v2");
    assertThat((Object) at(http, 1, "match")).isNull();
    assertThat((Object) at(http, 1, "route", 0, "destination", "subset")).isEqualTo("v1");
  }

  @Test
  void peerAuthenticationMakesTheNamespaceStrict() {
    Map<String, Object> pa = load(DemoManifests.PEER_AUTHENTICATION_STRICT);
    assertThat((Object) at(pa, "kind")).isEqualTo("PeerAuthentication");
    assertThat((Object) at(pa, "metadata", "namespace")).isEqualTo("demo");
    assertThat((Object) at(pa, "spec", "selector")).isNull();
    assertThat((Object) at(pa, "spec", "mtls", "mode")).isEqualTo("STRICT");
  }

  @Test
  void concatIsAMultiDocumentStream() {
    List<Object> docs = new ArrayList<>();
    new Load(LoadSettings.builder().build())
        .loadAllFromString(DemoManifests.concat(DemoManifests.CANARY))
        .forEach(docs::add);
    assertThat(docs)
        .extracting(d -> (Object) at(d, "kind"))
        .containsExactly("Service", "Gateway", "DestinationRule", "VirtualService");
  }

  @Test
  void writeToWritesEveryFile(@TempDir Path dir) throws Exception {
    List<Path> written = DemoManifests.writeTo(dir.resolve("demo"), DemoManifests.ALL);
    assertThat(written).hasSize(6);
    assertThat(Files.readString(written.get(4)))
        .isEqualTo(DemoManifests.read(DemoManifests.VIRTUAL_SERVICE_CANARY));
  }

  @Test
  void unknownManifestIsAClearError() {
    assertThatThrownBy(() -> DemoManifests.read("nope.yaml"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("nope.yaml")
        .hasMessageContaining("gateway.yaml");
  }
}
