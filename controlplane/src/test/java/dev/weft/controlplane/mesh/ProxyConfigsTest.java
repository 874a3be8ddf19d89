package dev.weft.controlplane.mesh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.weft.api.ParseResult;
import dev.weft.api.ResourceParser;
import dev.weft.controlplane.store.StoredResource;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Istio's effective ProxyConfig ({@link ProxyConfigs}; pilot/pkg/model/proxy_config.go): which
 * level sets a proxy's concurrency. Also the proof of ProxyConfig's enforced fields ({@code
 * FieldRules}: {@code selector.matchLabels} and {@code concurrency} change what a proxy starts
 * with), which {@code EnforcedFieldsTest} cannot give since they are not in xDS.
 */
class ProxyConfigsTest {
  private static final Map<String, String> APP = Map.of("app", "podinfo", "version", "v1");
  private static final Map<String, String> NONE = Map.of();

  /** ProxyConfigs created in the order given, one second apart. */
  private static List<StoredResource> resources(String... docs) {
    List<StoredResource> out = new ArrayList<>();
    int i = 0;
    for (String doc : docs) {
      ParseResult r = ResourceParser.parse("test.yaml", doc);
      assertThat(r.errors()).isEmpty();
      i++;
      out.add(new StoredResource(r.resources().get(0), i, Instant.EPOCH.plusSeconds(i)));
    }
    return out;
  }

  private static String pc(String namespace, String name, String spec) {
    return "apiVersion: networking.istio.io/v1beta1\nkind: ProxyConfig\nmetadata: {name: "
        + name
        + ", namespace: "
        + namespace
        + "}\nspec: "
        + spec
        + "\n";
  }

  private static ProxyConfigs of(String mesh, String... docs) {
    return ProxyConfigs.of(MeshConfig.parse(mesh), resources(docs));
  }

  @Test
  void withNothingSetIstiosDefaultOfTwo() {
    ProxyConfigs.Effective e = of("").effective("demo", APP, NONE);
    assertThat(e.concurrency()).isEqualTo(2);
    assertThat(e.isDefault()).isTrue();
    assertThat(e.source()).isEqualTo("default");
  }

  @Test
  void theMeshConfigsDefaultConfig() {
    ProxyConfigs.Effective e = of("defaultConfig: {concurrency: 4}").effective("demo", APP, NONE);
    assertThat(e.concurrency()).isEqualTo(4);
    assertThat(e.isDefault()).isFalse();
    assertThat(e.source()).isEqualTo("meshConfig.defaultConfig.concurrency");
    assertThat(of("defaultConfig: {concurrency: 0}").effective("demo", APP, NONE).concurrency())
        .as("0: one per core")
        .isZero();
  }

  @Test
  void eachLevelOverridesTheOnesBelowIt() {
    String mesh = "defaultConfig: {concurrency: 6}";
    String root = pc("istio-system", "mesh", "{concurrency: 5}");
    String namespace = pc("demo", "ns", "{concurrency: 4}");
    String workload = pc("demo", "wl", "{selector: {matchLabels: {app: podinfo}}, concurrency: 1}");
    Map<String, String> annotation = Map.of(ProxyConfigs.ANNOTATION, "{\"concurrency\": 3}");

    assertThat(of(mesh, root).effective("demo", APP, NONE))
        .extracting(ProxyConfigs.Effective::concurrency, ProxyConfigs.Effective::source)
        .containsExactly(5, "ProxyConfig istio-system/mesh");
    assertThat(of(mesh, root, namespace).effective("demo", APP, NONE))
        .extracting(ProxyConfigs.Effective::concurrency, ProxyConfigs.Effective::source)
        .containsExactly(4, "ProxyConfig demo/ns");
    assertThat(of(mesh, root, namespace).effective("demo", APP, annotation))
        .extracting(ProxyConfigs.Effective::concurrency, ProxyConfigs.Effective::source)
        .containsExactly(3, "annotation proxy.istio.io/config");
    assertThat(of(mesh, root, namespace, workload).effective("demo", APP, annotation))
        .extracting(ProxyConfigs.Effective::concurrency, ProxyConfigs.Effective::source)
        .containsExactly(1, "ProxyConfig demo/wl");
  }

  @Test
  void aSelectorPicksWorkloadsOfItsOwnNamespaceOnly() {
    ProxyConfigs configs =
        of(
            "",
            pc("demo", "wl", "{selector: {matchLabels: {app: podinfo}}, concurrency: 1}"),
            pc(
                "istio-system",
                "root-wl",
                "{selector: {matchLabels: {app: podinfo}}, concurrency: 7}"));
    assertThat(configs.effective("demo", APP, NONE).concurrency()).isEqualTo(1);
    assertThat(configs.effective("demo", Map.of("app", "other"), NONE).isDefault()).isTrue();
    assertThat(configs.effective("other", APP, NONE).isDefault())
        .as("neither another namespace's nor the root namespace's selector applies")
        .isTrue();
    assertThat(configs.effective("istio-system", APP, NONE).concurrency()).isEqualTo(7);
  }

  @Test
  void anEmptySelectorAppliesToNoWorkload() {
    // Istio accepts `selector: {matchLabels: {}}` ("silly but valid"); it is neither namespace-wide
    // (it has a selector) nor a workload's (no labels to match).
    ProxyConfigs configs =
        of("", pc("demo", "empty", "{selector: {matchLabels: {}}, concurrency: 1}"));
    assertThat(configs.effective("demo", APP, NONE).isDefault()).isTrue();
  }

  @Test
  void theOldestOfALevelCountsEvenWhenItSetsNoConcurrency() {
    // Istio's mergedNamespaceConfig returns the first selector-less resource by creation time.
    assertThat(
            of("", pc("demo", "b-old", "{concurrency: 3}"), pc("demo", "a-new", "{concurrency: 5}"))
                .effective("demo", APP, NONE)
                .source())
        .isEqualTo("ProxyConfig demo/b-old");
    ProxyConfigs unset =
        of(
            "defaultConfig: {concurrency: 6}",
            pc("demo", "old", "{environmentVariables: {A: b}}"),
            pc("demo", "new", "{concurrency: 5}"));
    assertThat(unset.effective("demo", APP, NONE).source())
        .isEqualTo("meshConfig.defaultConfig.concurrency");
  }

  @Test
  void aWorkloadsProxyConfigWithoutConcurrencyLeavesItToTheAnnotation() {
    ProxyConfigs configs =
        of(
            "",
            pc(
                "demo",
                "wl",
                "{selector: {matchLabels: {app: podinfo}}, environmentVariables: {A: b}}"));
    assertThat(
            configs
                .effective("demo", APP, Map.of(ProxyConfigs.ANNOTATION, "concurrency: 1"))
                .concurrency())
        .isEqualTo(1);
  }

  @Test
  void inTheRootNamespaceItsProxyConfigIsTheMeshs() {
    ProxyConfigs configs = of("rootNamespace: mesh-root", pc("mesh-root", "m", "{concurrency: 3}"));
    assertThat(configs.effective("mesh-root", APP, NONE).concurrency()).isEqualTo(3);
    assertThat(configs.effective("demo", APP, NONE).concurrency()).isEqualTo(3);
    assertThat(
            of("", pc("mesh-root", "m", "{concurrency: 3}"))
                .effective("demo", APP, NONE)
                .isDefault())
        .as("not the root namespace by default (istio-system)")
        .isTrue();
  }

  @Test
  void theAnnotationsOtherFieldsAreNamedAsIgnored() {
    ProxyConfigs.Effective e =
        of("")
            .effective(
                "demo",
                APP,
                Map.of(
                    ProxyConfigs.ANNOTATION,
                    "{\"holdApplicationUntilProxyStarts\": true, \"concurrency\": \"3\","
                        + " \"tracing\": {\"sampling\": 10}}"));
    assertThat(e.concurrency()).as("Int32Value's JSON string form").isEqualTo(3);
    assertThat(e.ignored()).containsExactly("holdApplicationUntilProxyStarts", "tracing");
    assertThat(of("").effective("demo", APP, Map.of(ProxyConfigs.ANNOTATION, "")).isDefault())
        .isTrue();
    assertThat(of("").effective("demo", APP, Map.of("other", "{concurrency: 1}")).isDefault())
        .isTrue();
  }

  @Test
  void aBadAnnotationIsRefusedWithTheField() {
    ProxyConfigs configs = of("");
    assertThatThrownBy(() -> configs.effective("demo", APP, annotation("concurrency: two")))
        .hasMessage("annotation proxy.istio.io/config: concurrency must be an integer, not two");
    assertThatThrownBy(() -> configs.effective("demo", APP, annotation("concurrency: -1")))
        .hasMessage("annotation proxy.istio.io/config: concurrency must be 0 or more, not -1");
    assertThatThrownBy(() -> configs.effective("demo", APP, annotation("[1]")))
        .hasMessage("annotation proxy.istio.io/config must be a ProxyConfig object, not [1]");
    assertThatThrownBy(() -> configs.effective("demo", APP, annotation("{concurrency: 1")))
        .hasMessageStartingWith("annotation proxy.istio.io/config is not YAML or JSON: ");
  }

  @Test
  void theMeshConfigsConcurrencyIsChecked() {
    assertThat(MeshConfig.parse("").concurrency()).isNull();
    assertThat(MeshConfig.parse("defaultConfig: {concurrency: 1}").concurrency()).isEqualTo(1);
    assertThatThrownBy(() -> MeshConfig.parse("defaultConfig: {concurrency: -2}"))
        .hasMessage("defaultConfig.concurrency must be 0 or more, not -2");
    assertThatThrownBy(() -> MeshConfig.parse("defaultConfig: {concurrency: 1.5}"))
        .hasMessage("defaultConfig.concurrency must be an integer, not 1.5");
  }

  private static Map<String, String> annotation(String value) {
    return Map.of(ProxyConfigs.ANNOTATION, value);
  }
}
