package dev.weft.cli.common;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class HostPortTest {
  @Test
  void parsesAndFormatsIpv4AndIpv6() {
    assertThat(HostPort.parse("127.0.0.1:15010")).isEqualTo(new HostPort("127.0.0.1", 15010));
    assertThat(HostPort.parse("[::1]:15010")).isEqualTo(new HostPort("::1", 15010));
    assertThat(new HostPort("::1", 80).toString()).isEqualTo("[::1]:80");
    assertThat(new HostPort("127.0.1.2", 15000).httpUrl()).isEqualTo("http://127.0.1.2:15000");
  }

  @Test
  void rejectsMalformedAddresses() {
    assertThatThrownBy(() -> HostPort.parse("localhost")).hasMessageContaining("HOST:PORT");
    assertThatThrownBy(() -> HostPort.parse("localhost:x")).hasMessageContaining("HOST:PORT");
    assertThatThrownBy(() -> HostPort.parse("localhost:70000")).hasMessageContaining("range");
  }

  /** A bad {@code --xds}/{@code --admin} value is the command's one-line error, not a crash. */
  @Test
  void aBadOptionIsACliException() {
    assertThat(HostPort.fromOption("127.0.0.1:15012")).isEqualTo(new HostPort("127.0.0.1", 15012));
    assertThatThrownBy(() -> HostPort.fromOption("localhost"))
        .isInstanceOf(CliException.class)
        .hasMessage("expected HOST:PORT, got 'localhost'");
  }
}
