package dev.weft.proxy.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.envoyproxy.envoy.extensions.filters.http.cors.v3.CorsPolicy;
import io.envoyproxy.envoy.extensions.filters.http.fault.v3.HTTPFault;
import org.junit.jupiter.api.Test;

/** {@link AnyType}: unpacks as {@link Any#unpack(Class)} does, without protobuf's reflection. */
class AnyTypeTest {
  private static final AnyType<HTTPFault> FAULT =
      AnyType.of(HTTPFault::getDescriptor, HTTPFault.parser());

  private static Any any(String typeUrl, ByteString value) {
    // Not Any.pack: it asks the message for getDescriptorForType().
    return Any.newBuilder().setTypeUrl(typeUrl).setValue(value).build();
  }

  @Test
  void unpacksTheTypeItsUrlNamesWhateverTheUrlsPrefix() throws Exception {
    HTTPFault fault =
        HTTPFault.newBuilder()
            .setMaxActiveFaults(com.google.protobuf.UInt32Value.of(7))
            .addHeaders(io.envoyproxy.envoy.config.route.v3.HeaderMatcher.newBuilder().setName("x"))
            .build();
    for (String url :
        new String[] {
          "type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault",
          "example.com/types/envoy.extensions.filters.http.fault.v3.HTTPFault",
          "/envoy.extensions.filters.http.fault.v3.HTTPFault"
        }) {
      Any any = any(url, fault.toByteString());
      assertThat(FAULT.is(any)).as(url).isTrue();
      assertThat(FAULT.unpack(any)).as(url).isEqualTo(fault);
      assertThat(FAULT.unpack(any)).isEqualTo(any.unpack(HTTPFault.class));
    }
    assertThat(FAULT.fullName()).isEqualTo("envoy.extensions.filters.http.fault.v3.HTTPFault");
    assertThat(FAULT.simpleName()).isEqualTo("HTTPFault");
  }

  @Test
  void refusesAnotherTypeAsAnyUnpackDoes() {
    for (String url :
        new String[] {
          "type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy",
          "type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFaultX",
          "type.googleapis.com/xenvoy.extensions.filters.http.fault.v3.HTTPFault",
          "type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault/",
          "envoy.extensions.filters.http.fault.v3.HTTPFault",
          ""
        }) {
      Any any = any(url, CorsPolicy.getDefaultInstance().toByteString());
      assertThat(FAULT.is(any)).as(url).isFalse();
      assertThatThrownBy(() -> FAULT.unpack(any))
          .as(url)
          .isInstanceOf(InvalidProtocolBufferException.class)
          .hasMessageContaining("does not match");
      assertThatThrownBy(() -> any.unpack(HTTPFault.class))
          .isInstanceOf(InvalidProtocolBufferException.class);
    }
  }

  @Test
  void bytesThatDoNotParseAreAnError() {
    Any any =
        any(
            "type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault",
            ByteString.copyFrom(new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff}));
    assertThatThrownBy(() -> FAULT.unpack(any)).isInstanceOf(InvalidProtocolBufferException.class);
  }
}
