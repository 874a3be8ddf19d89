package dev.weft.proxy.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class RouteTableTest {
  private static VirtualHost vh(String name, String... domains) {
    return new VirtualHost(name, List.of(domains), new Route[0]);
  }

  @Test
  void envoyDomainPrecedence() throws Exception {
    RouteTable t =
        new RouteTable(
            "r",
            List.of(
                vh("exact", "podinfo.demo", "podinfo.demo:80"),
                vh("suffix", "*.demo"),
                vh("longer-suffix", "*.svc.demo"),
                vh("prefix", "podinfo.*"),
                vh("any", "*")));
    assertThat(t.virtualHost("podinfo.demo").name()).isEqualTo("exact");
    assertThat(t.virtualHost("PodInfo.Demo:80").name()).isEqualTo("exact");
    assertThat(t.virtualHost("x.demo").name()).isEqualTo("suffix");
    assertThat(t.virtualHost("x.svc.demo").name()).isEqualTo("longer-suffix");
    // suffix wildcards win over prefix wildcards
    assertThat(t.virtualHost("podinfo.svc.demo").name()).isEqualTo("longer-suffix");
    assertThat(t.virtualHost("podinfo.other").name()).isEqualTo("prefix");
    // a port is part of the host: podinfo.demo:8080 is not podinfo.demo
    assertThat(t.virtualHost("podinfo.demo:8080").name()).isEqualTo("prefix");
    // a wildcard matches at least one character
    assertThat(t.virtualHost(".demo").name()).isEqualTo("any");
    assertThat(t.virtualHost("elsewhere").name()).isEqualTo("any");
  }

  @Test
  void noMatchWithoutCatchAll() throws Exception {
    RouteTable t = new RouteTable("r", List.of(vh("a", "a.example")));
    assertThat(t.virtualHost("b.example")).isNull();
  }

  @Test
  void duplicateDomainsAreRejected() {
    assertThatThrownBy(() -> new RouteTable("r", List.of(vh("a", "x"), vh("b", "X"))))
        .isInstanceOf(InvalidResourceException.class)
        .hasMessageContaining("domain 'X' appears in more than one virtual host");
  }
}
