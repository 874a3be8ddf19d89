package dev.weft.controlplane.registry;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ProtocolTest {
  @Test
  void unnamedAndUnknownPortsStayHttpUntilWeftSniffs() {
    for (Protocol p :
        new Protocol[] {
          Protocol.of(null, null, "TCP"),
          Protocol.of("", null, "TCP"),
          Protocol.of("db", null, null)
        }) {
      assertThat(p).isEqualTo(Protocol.UNSUPPORTED);
      assertThat(p.isHttp()).isTrue();
      assertThat(p.isTcp()).isFalse();
    }
  }

  @Test
  void explicitTcpFamilyNamesAndAppProtocolAreTcp() {
    for (String name : new String[] {"tcp", "tcp-echo", "mongo", "redis-cache", "mysql"}) {
      Protocol p = Protocol.of(name, null, "TCP");
      assertThat(p.isTcp()).as(name).isTrue();
      assertThat(p.isHttp()).as(name).isFalse();
    }
    assertThat(Protocol.of("db", "tcp", "TCP").isTcp()).isTrue();
    assertThat(Protocol.of("tls", null, "TCP").isTcp()).isFalse();
    assertThat(Protocol.of("http-web", null, "TCP").isHttp()).isTrue();
  }
}
