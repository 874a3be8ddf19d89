package dev.weft.proxy.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import org.junit.jupiter.api.Test;

/** The HTTP/1.1 decoders' header maps: Netty's validation, long known values checked once. */
class Http1HeadersTest {
  private static final String LONG = "m".repeat(Http1Headers.REMEMBERED_LENGTH + 100);

  @Test
  void aLongAsciiStringValueIsValidatedOnceAndThenRemembered() {
    AsciiString own = new AsciiString(LONG);
    HttpHeaders h = Http1Headers.HEADERS.newHeaders();
    h.set("x-envoy-peer-metadata", own);
    Http1Headers.KnownValues v =
        new Http1Headers.KnownValues(
            io.netty.handler.codec.http.DefaultHttpHeadersFactory.headersFactory()
                .getValueValidator());
    assertThat(v.remembers(own)).isFalse();
    v.validate(own);
    assertThat(v.remembers(own)).isTrue();
    v.validate(own);
    assertThat(h.get("x-envoy-peer-metadata")).isEqualTo(LONG);
  }

  @Test
  void badValuesAreRejectedEveryTimeAndNeverRemembered() {
    Http1Headers.KnownValues v =
        new Http1Headers.KnownValues(
            io.netty.handler.codec.http.DefaultHttpHeadersFactory.headersFactory()
                .getValueValidator());
    AsciiString bad = new AsciiString(LONG + "\r\nX-Injected: 1");
    for (int i = 0; i < 2; i++) {
      assertThatThrownBy(() -> v.validate(bad)).isInstanceOf(IllegalArgumentException.class);
      assertThat(v.remembers(bad)).isFalse();
    }
    // Strings (what the decoder reads) and short AsciiStrings are always checked.
    assertThatThrownBy(() -> v.validate(LONG + "\n")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> v.validate(new AsciiString("a\u0000b")))
        .isInstanceOf(IllegalArgumentException.class);
    HttpHeaders h = Http1Headers.HEADERS.newHeaders();
    assertThatThrownBy(() -> h.set("x-a", bad)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> h.set("bad name", "v")).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void trailersAreSmallAndStillRefuseFramingFields() {
    HttpHeaders t = Http1Headers.TRAILERS.newHeaders();
    assertThat(t.isEmpty()).isTrue();
    for (int i = 0; i < 20; i++) {
      t.add("grpc-x-" + i, Integer.toString(i));
    }
    assertThat(t.size()).isEqualTo(20);
    assertThat(t.get("grpc-x-7")).isEqualTo("7");
    for (AsciiString framing :
        new AsciiString[] {
          HttpHeaderNames.CONTENT_LENGTH, HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderNames.TRAILER
        }) {
      assertThatThrownBy(() -> Http1Headers.TRAILERS.newHeaders().add(framing, "1"))
          .isInstanceOf(IllegalArgumentException.class);
    }
  }
}
