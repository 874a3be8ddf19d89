package dev.weft.proxy.config;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Struct;

/**
 * Envoy's {@code TypedStruct}: an extension's config as a {@code Struct} with the type URL of the
 * message it stands for, in either of its two declarations ({@code xds.type.v3.TypedStruct} and the
 * older {@code udpa.type.v1.TypedStruct}, the same two fields). Istio sends Istio-only filters'
 * configs this way ({@code istio.stats}, {@code istio.alpn}).
 *
 * @param typeUrl the type URL of the message the struct stands for
 * @param value the message's fields as JSON would give them
 */
public record TypedStructConfig(String typeUrl, Struct value) {
  static final String XDS = "type.googleapis.com/xds.type.v3.TypedStruct";
  static final String UDPA = "type.googleapis.com/udpa.type.v1.TypedStruct";

  private static final AnyType<com.github.xds.type.v3.TypedStruct> XDS_TYPE =
      AnyType.of(
          com.github.xds.type.v3.TypedStruct::getDescriptor,
          com.github.xds.type.v3.TypedStruct.parser());
  private static final AnyType<com.github.udpa.udpa.type.v1.TypedStruct> UDPA_TYPE =
      AnyType.of(
          com.github.udpa.udpa.type.v1.TypedStruct::getDescriptor,
          com.github.udpa.udpa.type.v1.TypedStruct.parser());

  /**
   * The {@code TypedStruct} {@code any} holds, or null when it holds another type.
   *
   * @throws InvalidProtocolBufferException when its bytes are not a {@code TypedStruct}
   */
  public static TypedStructConfig unpack(Any any) throws InvalidProtocolBufferException {
    String type = any.getTypeUrl();
    if (type.equals(XDS)) {
      var ts = XDS_TYPE.unpack(any);
      return new TypedStructConfig(ts.getTypeUrl(), ts.getValue());
    }
    if (type.equals(UDPA)) {
      var ts = UDPA_TYPE.unpack(any);
      return new TypedStructConfig(ts.getTypeUrl(), ts.getValue());
    }
    return null;
  }
}
