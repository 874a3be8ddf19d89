package dev.weft.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ResourceWriterTest {
  static List<Resource> guide() {
    ParseResult r =
        ResourceParser.parse(
            "guide.yaml",
            String.join(
                "---\n",
                GuideResourcesTest.SERVICE,
                GuideResourcesTest.GATEWAY,
                GuideResourcesTest.DESTINATION_RULE,
                GuideResourcesTest.CANARY));
    assertThat(r.errors()).isEmpty();
    return r.resources();
  }

  @Test
  void yamlLooksLikeKubectl() {
    Resource svc = guide().get(0);
    assertThat(ResourceWriter.yaml(svc))
        .isEqualTo(
            """
            apiVersion: v1
            kind: Service
            metadata:
              name: podinfo
              namespace: demo
              labels:
                app: podinfo
            spec:
              selector:
                app: podinfo
              ports:
              - name: http
                port: 80
                targetPort: 9898
            """);
  }

  @Test
  void jsonIsPretty() {
    Map<String, Object> doc =
        Map.of("apiVersion", "v1", "kind", "Namespace", "metadata", Map.of("name", "demo"));
    Resource ns =
        ResourceParser.parse("x", ResourceWriter.json(new java.util.TreeMap<>(doc)))
            .resources()
            .get(0);
    assertThat(ResourceWriter.json(ns))
        .isEqualTo(
            """
            {
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {
                    "name": "demo"
                }
            }
            """);
    assertThat(ResourceWriter.jsonList(List.of()))
        .isEqualTo(
            """
            {
                "apiVersion": "v1",
                "kind": "List",
                "items": []
            }
            """);
  }

  @Test
  void roundTripsThroughYamlStreamsAndLists() {
    List<Resource> resources = guide();
    List<Map<String, Object>> docs = ResourceWriter.documents(resources);
    for (String text :
        List.of(
            ResourceWriter.yamlDocuments(docs),
            ResourceWriter.yamlList(docs),
            ResourceWriter.jsonList(docs))) {
      ParseResult again = ResourceParser.parse("again", text);
      assertThat(again.errors()).isEmpty();
      assertThat(again.resources()).isEqualTo(resources);
    }
  }

  @Test
  void quotesStringsThatWouldReadAsOtherTypes() {
    String yaml =
        """
        apiVersion: v1
        kind: Namespace
        metadata:
          name: demo
          labels: {a: "true", b: "80", c: "null", d: "1.5"}
        """;
    Resource r = ResourceParser.parse("x", yaml).resources().get(0);
    ParseResult again = ResourceParser.parse("again", ResourceWriter.yaml(r));
    assertThat(again.errors()).isEmpty();
    assertThat(again.resources().get(0).metadata().labels())
        .isEqualTo(Map.of("a", "true", "b", "80", "c", "null", "d", "1.5"));
  }

  @Test
  void labelSelector() {
    Map<String, String> labels = Map.of("app", "podinfo", "version", "v1");
    assertThat(LabelSelector.matches(Map.of(), labels)).isTrue();
    assertThat(LabelSelector.matches(null, Map.of())).isTrue();
    assertThat(LabelSelector.matches(Map.of("app", "podinfo"), labels)).isTrue();
    assertThat(LabelSelector.matches(labels, labels)).isTrue();
    assertThat(LabelSelector.matches(Map.of("version", "v2"), labels)).isFalse();
    assertThat(LabelSelector.matches(Map.of("tier", "web"), labels)).isFalse();
    assertThat(LabelSelector.matches(Map.of("app", "podinfo"), null)).isFalse();
  }
}
