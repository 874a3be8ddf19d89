package dev.weft.proxy.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import org.junit.jupiter.api.Test;

class TypedStructConfigTest {
  private static final Struct FIELDS =
      Struct.newBuilder()
          .putFields("alpn_override", Value.newBuilder().setStringValue("h2").build())
          .build();
  private static final String INNER = "type.googleapis.com/istio.envoy.config.filter.http.alpn";

  @Test
  void bothDeclarationsGiveTheirTypeUrlAndFields() throws Exception {
    Any xds =
        Any.pack(
            com.github.xds.type.v3.TypedStruct.newBuilder()
                .setTypeUrl(INNER)
                .setValue(FIELDS)
                .build());
    Any udpa =
        Any.pack(
            com.github.udpa.udpa.type.v1.TypedStruct.newBuilder()
                .setTypeUrl(INNER)
                .setValue(FIELDS)
                .build());
    assertThat(xds.getTypeUrl()).isEqualTo(TypedStructConfig.XDS);
    assertThat(udpa.getTypeUrl()).isEqualTo(TypedStructConfig.UDPA);
    assertThat(TypedStructConfig.unpack(xds)).isEqualTo(new TypedStructConfig(INNER, FIELDS));
    assertThat(TypedStructConfig.unpack(udpa)).isEqualTo(new TypedStructConfig(INNER, FIELDS));
  }

  @Test
  void anotherTypeIsNoneAndBadBytesAreAnError() throws Exception {
    assertThat(TypedStructConfig.unpack(Any.pack(FIELDS))).isNull();
    Any broken =
        Any.newBuilder()
            .setTypeUrl(TypedStructConfig.XDS)
            .setValue(ByteString.copyFrom(new byte[] {(byte) 0x0a, 0x05, 'a'}))
            .build();
    assertThatThrownBy(() -> TypedStructConfig.unpack(broken))
        .isInstanceOf(InvalidProtocolBufferException.class);
  }
}
