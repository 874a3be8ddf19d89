package dev.weft.cli.common;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class KeyValuesTest {
  @Test
  void parsesLabelsInOrderAcrossRepeatedOptions() {
    assertThat(KeyValues.labels(List.of("app=podinfo,version=v1", "istio.io/rev=canary")))
        .containsExactly(
            java.util.Map.entry("app", "podinfo"),
            java.util.Map.entry("version", "v1"),
            java.util.Map.entry("istio.io/rev", "canary"));
  }

  @Test
  void rejectsLabelsWithoutValueSeparatorOrWithBadCharacters() {
    assertThatThrownBy(() -> KeyValues.labels(List.of("app")))
        .isInstanceOf(CliException.class)
        .hasMessageContaining("invalid label 'app'");
    assertThatThrownBy(() -> KeyValues.labels(List.of("app=po info")))
        .hasMessageContaining("invalid value 'po info' for label app");
  }

  @Test
  void parsesOneAnnotationPerValueWithCommasAndEqualSignsInIt() {
    assertThat(
            KeyValues.annotations(
                List.of("proxy.istio.io/config={\"concurrency\": 1, \"a\": \"b=c\"}", "x=", "x=y")))
        .containsExactly(
            java.util.Map.entry("proxy.istio.io/config", "{\"concurrency\": 1, \"a\": \"b=c\"}"),
            java.util.Map.entry("x", "y"));
    assertThatThrownBy(() -> KeyValues.annotations(List.of("=v")))
        .isInstanceOf(CliException.class)
        .hasMessage("invalid annotation '=v': expected KEY=VALUE");
    assertThatThrownBy(() -> KeyValues.annotations(List.of("bad key=v")))
        .hasMessage("invalid annotation key 'bad key'");
  }

  @Test
  void parsesNamedPorts() {
    assertThat(KeyValues.ports(List.of("http:9898", "grpc:9999,8080")))
        .containsExactly(
            new KeyValues.NamedPort("http", 9898),
            new KeyValues.NamedPort("grpc", 9999),
            new KeyValues.NamedPort("http-8080", 8080));
    assertThat(KeyValues.formatPorts(KeyValues.ports(List.of("http:9898,grpc:9999"))))
        .isEqualTo("http:9898,grpc:9999");
  }

  @Test
  void rejectsBadPorts() {
    assertThatThrownBy(() -> KeyValues.ports(List.of("http:99999")))
        .hasMessageContaining("not in 1-65535");
    assertThatThrownBy(() -> KeyValues.ports(List.of("http:abc")))
        .hasMessageContaining("expected NAME:PORT");
    assertThatThrownBy(() -> KeyValues.ports(List.of("http:80,http:81")))
        .hasMessageContaining("duplicate port");
    assertThatThrownBy(() -> KeyValues.ports(List.of("HTTP:80")))
        .hasMessageContaining("invalid port name");
  }
}
