package dev.weft.controlplane.mesh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** Which of a MeshConfig's fields Weft does not read ({@link MeshConfig#unreadFields}). */
class MeshConfigUnreadFieldsTest {
  @Test
  void namesWhatTheParserNeverAskedFor() {
    String yaml =
        """
        accessLogFile: /dev/stdout
        trustDomain: example.org
        defaultConfig:
          concurrency: 1
          holdApplicationUntilProxyStarts: true
          tracing:
            sampling: 10
        """;
    assertThat(MeshConfig.unreadFields(yaml))
        .containsExactly("trustDomain", "defaultConfig.holdApplicationUntilProxyStarts");
  }

  @Test
  void everythingReadIsNotNamed() {
    String yaml =
        """
        enableTracing: true
        accessLogFile: ""
        accessLogEncoding: JSON
        outboundTrafficPolicy:
          mode: REGISTRY_ONLY
        defaultConfig:
          tracing:
            sampling: 100
            zipkin:
              address: 127.0.0.1:9411
        extensionProviders:
        - name: zipkin
          zipkin:
            service: zipkin.istio-system.svc.cluster.local
            port: 9411
        defaultProviders:
          tracing: [zipkin]
        """;
    assertThat(MeshConfig.unreadFields(yaml)).isEmpty();
  }

  /** Maps read whole (custom tags by name) count as read; what is inside each still counts. */
  @Test
  void insideListsAndMapsReadWhole() {
    String yaml =
        """
        defaultConfig:
          tracing:
            custom_tags:
              team:
                literal:
                  value: payments
                  color: blue
        extensionProviders:
        - name: z
          zipkin:
            service: z.default.svc.cluster.local
            port: 9411
            headers: {}
        """;
    assertThat(MeshConfig.unreadFields(yaml))
        .containsExactly(
            "defaultConfig.tracing.custom_tags.team.literal.color",
            "extensionProviders[0].zipkin.headers");
  }

  @Test
  void anEmptyDocumentHasNone() {
    assertThat(MeshConfig.unreadFields("")).isEmpty();
  }

  @Test
  void anInvalidDocumentFailsAsParseDoes() {
    assertThatThrownBy(() -> MeshConfig.unreadFields("accessLogEncoding: XML"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("accessLogEncoding");
  }
}
