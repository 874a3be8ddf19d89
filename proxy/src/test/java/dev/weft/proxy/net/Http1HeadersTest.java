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
  void aLongAsciiStringValueIsRememberedOnceSeenTwice() {
    AsciiString own = new AsciiString(LONG);
    Http1Headers.KnownValues v =
        new Http1Headers.KnownValues(
            io.netty.handler.codec.http.DefaultHttpHeadersFactory.headersFactory()
                .getValueValidator());
    v.validate(own);
    assertThat(v.remembers(own)).as("seen once").isFalse();
    v.validate(own);
    assertThat(v.remembers(own)).as("seen twice").isTrue();
    // Values read from the wire are new instances each time: they never displace it.
    for (int i = 0; i < 100; i++) {
      v.validate(new AsciiString(LONG));
    }
    assertThat(v.remembers(own)).isTrue();
    HttpHeaders h = Http1Headers.HEADERS.newHeaders();
    h.set("x-envoy-peer-metadata", own);
    h.set("x-envoy-peer-metadata", own);
    assertThat(h.get("x-envoy-peer-metadata")).isEqualTo(LONG);
  }

  @Test
  void stringValuesAreKeptAsTheirIso88591Bytes() {
    HttpHeaders h = Http1Headers.HEADERS.newHeaders();
    h.add("x-a", "caf\u00e9");
    h.add(HttpHeaderNames.HOST, "example.com");
    h.set("x-b", "\u20ac5"); // above 0xFF: '?' on the wire, as Netty's encoder writes it
    h.addInt("x-c", 7);
    var values = new java.util.ArrayList<CharSequence>();
    h.iteratorCharSequence().forEachRemaining(e -> values.add(e.getValue()));
    assertThat(values).allMatch(v -> v instanceof AsciiString || v.equals("7"));
    assertThat(h.get("x-a")).isEqualTo("caf\u00e9");
    assertThat(h.get(HttpHeaderNames.HOST)).isEqualTo("example.com");
    assertThat(h.get("x-b")).isEqualTo("?5");
    assertThat(h.getInt("x-c")).isEqualTo(7);
    assertThat(h.contains(HttpHeaderNames.HOST, "EXAMPLE.com", true)).isTrue();
    assertThat(h.getAll("x-a")).containsExactly("caf\u00e9");
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
