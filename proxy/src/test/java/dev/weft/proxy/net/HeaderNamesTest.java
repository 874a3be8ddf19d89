package dev.weft.proxy.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.handler.codec.DefaultHeaders.NameValidator;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The proxy's own header names: validated once, trusted by the maps, nothing else trusted. */
class HeaderNamesTest {
  @Test
  void aNameIsValidatedOnceWhenMadeAndIsTheSameInstanceAfterwards() {
    assertThat((Object) HeaderNames.of("x-request-id")).isSameAs(HeaderNames.X_REQUEST_ID);
    assertThat(HeaderNames.trusted(HeaderNames.X_ENVOY_PEER_METADATA)).isTrue();
    for (String bad : new String[] {"", "bad name", "x:y", "x\r\ny", "caf\u00e9", "a\u0000"}) {
      assertThatThrownBy(() -> HeaderNames.of(bad)).isInstanceOf(IllegalArgumentException.class);
    }
  }

  @Test
  void onlyThePooledInstancesAreTrustedNotTheirContent() {
    assertThat(HeaderNames.trusted(new AsciiString("x-request-id"))).isFalse();
    assertThat(HeaderNames.trusted("x-request-id")).isFalse();
    assertThat(HeaderNames.trusted(AsciiString.cached("host"))).isFalse();
    assertThat(HeaderNames.trusted(new AsciiString("bad name"))).isFalse();
    assertThat(HeaderNames.trusted(null)).isFalse();
    // a part of a pooled name is a view of the pool: a token, trusted; an empty one is not
    assertThat(HeaderNames.trusted(HeaderNames.X_REQUEST_ID.subSequence(2, 9, false))).isTrue();
    assertThat(HeaderNames.trusted(HeaderNames.X_REQUEST_ID.subSequence(3, 3, false))).isFalse();
  }

  @Test
  void everyByteOfThePoolIsATokenCharacter() {
    // What makes trusting any view of the pool sound: the whole array is one valid name.
    byte[] pool = HeaderNames.HOST.array();
    assertThat(pool).hasSize(HeaderNames.POOL_BYTES);
    DefaultHttpHeadersFactory.headersFactory()
        .getNameValidator()
        .validateName(new AsciiString(pool, false));
  }

  @Test
  void theValidatorSkipsTrustedNamesAndHandsEveryOtherToNetty() {
    List<CharSequence> checked = new ArrayList<>();
    NameValidator<CharSequence> netty =
        DefaultHttpHeadersFactory.headersFactory().getNameValidator();
    NameValidator<CharSequence> v =
        HeaderNames.trusting(
            n -> {
              checked.add(n);
              netty.validateName(n);
            });
    v.validateName(HeaderNames.SERVER);
    v.validateName(HeaderNames.X_ENVOY_PEER_METADATA_ID);
    assertThat(checked).isEmpty();
    AsciiString sameBytes = new AsciiString("server");
    v.validateName(sameBytes);
    v.validateName("server");
    assertThat(checked).containsExactly(sameBytes, "server");
    assertThatThrownBy(() -> v.validateName(new AsciiString("bad name")))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> v.validateName("")).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void theMessageMapsTakeTrustedNamesAndStillRefuseBadOnes() {
    HttpHeaders h = Http1Headers.HEADERS.newHeaders();
    h.set(HeaderNames.X_FORWARDED_PROTO, "https");
    assertThat(h.get("X-Forwarded-Proto")).isEqualTo("https");
    assertThatThrownBy(() -> h.set(new AsciiString("bad name"), "v"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> h.add("x\u0000", "v")).isInstanceOf(IllegalArgumentException.class);
    // values are validated as before, whatever the name
    assertThatThrownBy(() -> h.set(HeaderNames.X_REQUEST_ID, "a\r\nb"))
        .isInstanceOf(IllegalArgumentException.class);
    // trailers trust no name: their validator refuses framing fields, the pooled ones too
    HttpHeaders t = Http1Headers.TRAILERS.newHeaders();
    assertThatThrownBy(() -> t.set(HeaderNames.CONTENT_LENGTH, "1"))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void namesFoundByTheirExactBytesOnly() {
    byte[] b = "..x-request-id..X-Request-Id".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    assertThat((Object) HeaderNames.find(b, 2, 14)).isSameAs(HeaderNames.X_REQUEST_ID);
    assertThat((Object) HeaderNames.find(b, 16, 28)).isNull();
    assertThat((Object) HeaderNames.find(b, 2, 13)).isNull();
  }
}
