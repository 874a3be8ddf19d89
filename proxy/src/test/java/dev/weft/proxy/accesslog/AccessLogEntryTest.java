package dev.weft.proxy.accesslog;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class AccessLogEntryTest {
  @Test
  void istioDefaultFormat() {
    AccessLogEntry e =
        AccessLogEntry.builder()
            .startMillis(1606339578409L)
            .method("GET")
            .path("/status/418")
            .protocol("HTTP/1.1")
            .code(418)
            .details("via_upstream")
            .bytesSent(135)
            .durationMillis(4)
            .upstreamServiceTime(4)
            .userAgent("curl/7.73.0")
            .requestId("84961386-6d84-929d-98bd-c5aee93b5c88")
            .authority("httpbin:8000")
            .upstreamHost("127.0.0.1:80")
            .upstreamCluster("inbound|8000||")
            .downstreamLocal(new java.net.InetSocketAddress("10.44.1.27", 80))
            .downstreamRemote(new java.net.InetSocketAddress("10.44.1.23", 37652))
            .build();
    assertThat(e.format())
        .isEqualTo(
            "[2020-11-25T21:26:18.409Z] \"GET /status/418 HTTP/1.1\" 418 - via_upstream - \"-\" 0"
                + " 135 4 4 \"-\" \"curl/7.73.0\" \"84961386-6d84-929d-98bd-c5aee93b5c88\""
                + " \"httpbin:8000\" \"127.0.0.1:80\" inbound|8000|| - 10.44.1.27:80"
                + " 10.44.1.23:37652 - -");
  }
}
