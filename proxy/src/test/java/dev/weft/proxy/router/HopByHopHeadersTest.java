package dev.weft.proxy.router;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import org.junit.jupiter.api.Test;

class HopByHopHeadersTest {
  private static HttpHeaders headers() {
    return new DefaultHttpHeaders()
        .add("x-a", "1")
        .add("x-b", "2")
        .add("keep-alive", "timeout=5")
        .add("te", "gzip")
        .add("transfer-encoding", "chunked")
        .add("x-keep", "3");
  }

  @Test
  void aLoneKeepAliveOrCloseRemovesOnlyTheClassicHopByHopHeaders() {
    for (String v : new String[] {"keep-alive", "Close", "close"}) {
      HttpHeaders h = headers().add("connection", v);
      HopByHopHeaders.strip(h);
      assertThat(h.names()).containsExactlyInAnyOrder("x-a", "x-b", "transfer-encoding", "x-keep");
    }
  }

  @Test
  void headersNamedByConnectionGoInEveryForm() {
    HttpHeaders oneValue = headers().add("connection", "close, x-a ,X-B, transfer-encoding");
    HopByHopHeaders.strip(oneValue);
    assertThat(oneValue.names()).containsExactlyInAnyOrder("transfer-encoding", "x-keep");

    HttpHeaders single = headers().add("connection", "x-a");
    HopByHopHeaders.strip(single);
    assertThat(single.names()).containsExactlyInAnyOrder("x-b", "transfer-encoding", "x-keep");

    // A plain first value does not hide a later Connection header naming a header.
    HttpHeaders several = headers().add("connection", "keep-alive").add("connection", "x-b");
    HopByHopHeaders.strip(several);
    assertThat(several.names()).containsExactlyInAnyOrder("x-a", "transfer-encoding", "x-keep");
  }

  @Test
  void teTrailersStaysAndOtherCodingsGo() {
    // gRPC over HTTP/2 needs "te: trailers" end to end; Envoy forwards exactly that value.
    HttpHeaders h = new DefaultHttpHeaders().add("te", "gzip, trailers;q=0.5").add("x-a", "1");
    HopByHopHeaders.strip(h);
    assertThat(h.get("te")).isEqualTo("trailers");
    HttpHeaders other = new DefaultHttpHeaders().add("te", "gzip").add("x-a", "1");
    HopByHopHeaders.strip(other);
    assertThat(other.names()).containsExactly("x-a");
  }

  @Test
  void noConnectionHeader() {
    HttpHeaders h = headers();
    HopByHopHeaders.strip(h);
    assertThat(h.names()).containsExactlyInAnyOrder("x-a", "x-b", "transfer-encoding", "x-keep");
  }
}
