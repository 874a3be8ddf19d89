package dev.weft.proxy.config;

import com.google.protobuf.Any;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.Parser;
import java.util.function.Supplier;

/**
 * A generated message type as it is packed in a {@code google.protobuf.Any}: its full name, which
 * an {@code Any}'s type URL ends with ({@code type.googleapis.com/envoy.config.cluster.v3.Cluster};
 * protobuf's {@code any.proto}: the name is what follows the URL's last {@code /}), and its parser.
 * It unpacks as {@link Any#unpack(Class)} does, without protobuf's reflection: {@code
 * Any.is(Class)} asks the default instance for {@code getDescriptorForType()}, which a generated
 * message answers through its field accessor table, so the first unpack of each type initialised
 * that table: a {@code java.lang.reflect.Method} for every accessor of the message and its builder
 * (9,444 of them in a sidecar's live heap, 2026-12-01), and reflection over two large classes per
 * type on the way to ready (issue #10). Here the name comes from the type's static descriptor (its
 * file's descriptor, built once, no accessors) and the bytes go to the generated parser. Unlike
 * {@code Any.unpack}, the result is not cached in the {@code Any}. Immutable; one per type, held in
 * a constant.
 *
 * @param <T> the message type
 */
public final class AnyType<T extends Message> {
  private final Supplier<Descriptor> descriptor;
  private final Parser<T> parser;
  private volatile String fullName;

  private AnyType(Supplier<Descriptor> descriptor, Parser<T> parser) {
    this.descriptor = descriptor;
    this.parser = parser;
  }

  /**
   * The type whose static descriptor {@code descriptor} returns (e.g. {@code
   * Cluster::getDescriptor}, asked at the first use, not here) and whose bytes {@code parser}
   * parses ({@code Cluster.parser()}).
   */
  public static <T extends Message> AnyType<T> of(
      Supplier<Descriptor> descriptor, Parser<T> parser) {
    return new AnyType<>(descriptor, parser);
  }

  /** The message's full name, e.g. {@code envoy.config.cluster.v3.Cluster}. */
  public String fullName() {
    String n = fullName;
    if (n == null) {
      n = descriptor.get().getFullName();
      fullName = n;
    }
    return n;
  }

  /** The message's simple name, e.g. {@code Cluster}, for errors. */
  public String simpleName() {
    String n = fullName();
    return n.substring(n.lastIndexOf('.') + 1);
  }

  /**
   * Whether {@code any} holds this type: what follows its type URL's last {@code /} is {@link
   * #fullName} (a URL without one names no type, as {@code Any.is} reads it).
   */
  public boolean is(Any any) {
    String url = any.getTypeUrl();
    String name = fullName();
    int slash = url.lastIndexOf('/');
    return slash >= 0
        && url.length() - slash - 1 == name.length()
        && url.startsWith(name, slash + 1);
  }

  /**
   * The message {@code any} holds, parsed; throws as {@link Any#unpack(Class)} does when it holds
   * another type or its bytes do not parse.
   */
  public T unpack(Any any) throws InvalidProtocolBufferException {
    if (!is(any)) {
      throw new InvalidProtocolBufferException(
          "Type of the Any message does not match the given class.");
    }
    return parser.parseFrom(any.getValue());
  }

  @Override
  public String toString() {
    return "AnyType[" + fullName() + "]";
  }
}
