package dev.weft.analysis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class FileInputsTest {
  @Test
  void weftKindsGoThroughTheRealParserAndRejectionsAreIst0106() {
    String text =
        """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: bad, namespace: demo}
        spec:
          hosts: [a]
          http:
          - match:
            - uri: {regex: "(unclosed"}
            route:
            - destination: {host: a}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: p, labels: {app: a}}
        """;
    FileInputs.Loaded l = FileInputs.load("f.yaml", text, true);
    assertThat(l.objects()).extracting(Obj::kind).containsExactly("VirtualService", "Pod");
    assertThat(l.rejected()).extracting(Obj::name).containsExactly("bad");
    assertThat(l.messages()).isNotEmpty();
    assertThat(l.messages().getFirst().line())
        .startsWith(
            "Error [IST0106] (VirtualService demo/bad) Schema validation error: spec.http[0]");
    assertThat(l.objects().get(1).namespace()).isEqualTo("default");
    assertThat(l.objects().get(1).ref().toString()).isEqualTo("Pod default/p");
  }

  @Test
  void acceptedResourcesCarryTheParsedDocument() {
    FileInputs.Loaded l =
        FileInputs.load(
            "f.yaml",
            """
            apiVersion: v1
            kind: List
            items:
            - apiVersion: networking.istio.io/v1
              kind: Gateway
              metadata: {name: gw}
              spec:
                selector: {istio: ingressgateway}
                servers:
                - port: {number: 80, name: http, protocol: HTTP}
                  hosts: ["*"]
            """,
            false);
    assertThat(l.messages()).isEmpty();
    assertThat(l.objects()).hasSize(1);
    Obj gw = l.objects().getFirst();
    assertThat(gw.ref().toString())
        .as("namespace not shown when the input has none")
        .isEqualTo("Gateway gw");
    assertThat(gw.namespace()).isEqualTo("default");
    assertThat(Docs.labels(gw.spec(), "selector")).containsEntry("istio", "ingressgateway");
  }

  @Test
  void textThatIsNotYamlIsOneLine() {
    assertThatThrownBy(() -> FileInputs.load("x.yaml", "a: [b\n", true))
        .isInstanceOf(FileInputs.UnreadableException.class)
        .hasMessageStartingWith("x.yaml: YAML syntax error at line 2, column 1:")
        .hasMessageNotContaining("\n");
    assertThatThrownBy(() -> FileInputs.load("x.yaml", "- a\n", true))
        .hasMessage("x.yaml: a document is not a YAML mapping");
  }

  @Test
  void defaultResourcesAreIstiosIngressGateway() {
    List<Obj> d = FileInputs.defaultResources("istio-system");
    assertThat(d)
        .extracting(o -> o.ref().toString())
        .containsExactly(
            "Pod istio-system/istio-ingressgateway-dummypod",
            "Service istio-system/istio-ingressgateway");
  }
}
