package dev.weft.controlplane.bench;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import com.google.protobuf.WireFormat;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;

/**
 * Test messages with every field set, to give partial parsers every wire type to skip (varints,
 * fixed 32 and 64 bit, length-delimited, packed repeated scalars, maps, nested messages), and raw
 * encodings that only a hand-made byte sequence has (a field twice, merged by parsers).
 */
final class FilledMessages {
  private FilledMessages() {}

  /**
   * {@code builder} with each field set (repeated fields twice, each member of a {@code oneof} in
   * turn so the last declared one stays), nested messages filled to {@code depth} levels and empty
   * below; returns the builder.
   */
  static <B extends Message.Builder> B fill(B builder, int depth) {
    for (FieldDescriptor fd : builder.getDescriptorForType().getFields()) {
      if (fd.getJavaType() == FieldDescriptor.JavaType.MESSAGE) {
        int n = fd.isRepeated() ? 2 : 1;
        for (int i = 0; i < n; i++) {
          Message.Builder child = builder.newBuilderForField(fd);
          if (depth > 0) {
            fill(child, depth - 1);
          }
          Message m = child.build();
          if (fd.isRepeated()) {
            builder.addRepeatedField(fd, m);
          } else {
            builder.setField(fd, m);
          }
        }
      } else if (fd.isRepeated()) {
        builder.addRepeatedField(fd, value(fd, 1));
        builder.addRepeatedField(fd, value(fd, 2));
      } else {
        builder.setField(fd, value(fd, 1));
      }
    }
    return builder;
  }

  private static Object value(FieldDescriptor fd, int i) {
    return switch (fd.getJavaType()) {
      case INT -> 300 * i;
      case LONG -> 70_000_000_000L * i;
      case FLOAT -> 1.5f * i;
      case DOUBLE -> 2.5 * i;
      case BOOLEAN -> true;
      case STRING -> fd.getName() + "-" + i + "-é";
      case BYTE_STRING -> ByteString.copyFrom(new byte[] {(byte) i, 0, (byte) 0xff, 10, 8});
      case ENUM -> {
        List<EnumValueDescriptor> values = fd.getEnumType().getValues();
        yield values.get(values.size() - 1);
      }
      case MESSAGE -> throw new IllegalArgumentException(fd.getFullName());
    };
  }

  /** {@code m}'s encoding. */
  static byte[] bytes(Message m) {
    return m.toByteArray();
  }

  /** The concatenation of encodings: what protobuf parses as the later merged into the earlier. */
  static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      out.writeBytes(p);
    }
    return out.toByteArray();
  }

  /** A length-delimited field {@code number} holding {@code body}, encoded. */
  static byte[] field(int number, byte[] body) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    CodedOutputStream c = CodedOutputStream.newInstance(out);
    try {
      c.writeTag(number, WireFormat.WIRETYPE_LENGTH_DELIMITED);
      c.writeUInt32NoTag(body.length);
      c.writeRawBytes(body);
      c.flush();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }
}
