package dev.weft.proxy.router;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import org.junit.jupiter.api.Test;

class UpgradesTest {
  static HttpHeaders headers(String connection, String upgrade) {
    HttpHeaders h = new DefaultHttpHeaders();
    if (connection != null) {
      h.add("connection", connection);
    }
    if (upgrade != null) {
      h.add("upgrade", upgrade);
    }
    return h;
  }

  @Test
  void anUpgradeNeedsTheConnectionTokenAndIsNeverH2c() {
    assertThat(Upgrades.requested(headers("Upgrade", "websocket"))).isEqualTo("websocket");
    assertThat(Upgrades.requested(headers("keep-alive, upgrade", "WebSocket")))
        .isEqualTo("WebSocket");
    assertThat(Upgrades.requested(headers(null, "websocket"))).isNull();
    assertThat(Upgrades.requested(headers("keep-alive", "websocket"))).isNull();
    assertThat(Upgrades.requested(headers("Upgrade", null))).isNull();
    // Java's HttpClient asks for h2c by default: served as HTTP/1.1, as Envoy does.
    assertThat(Upgrades.requested(headers("Upgrade, HTTP2-Settings", "h2c"))).isNull();
  }
}
