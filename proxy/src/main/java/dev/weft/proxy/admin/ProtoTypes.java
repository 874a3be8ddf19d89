package dev.weft.proxy.admin;

import com.google.protobuf.Any;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Finds the descriptor of a protobuf message by its full name through the Java package convention
 * of the protos the data plane speaks, so that a config dump can print every {@code Any} the proxy
 * accepted without a hand-kept list of types: Envoy's {@code envoy.*} protos live in {@code
 * io.envoyproxy.envoy.*}, the xDS project's {@code xds.*} in {@code com.github.xds.*}, and {@code
 * udpa.*} in {@code com.github.udpa.udpa.*}, each message a top-level class ({@code
 * java_multiple_files}).
 */
final class ProtoTypes {
  private static final Map<String, Descriptor> FOUND = new ConcurrentHashMap<>();
  private static final Set<String> MISSING = ConcurrentHashMap.newKeySet();
  private static final List<String[]> PACKAGES =
      List.of(
          new String[] {"envoy.", "io.envoyproxy.envoy."},
          new String[] {"xds.", "com.github.xds."},
          new String[] {"udpa.", "com.github.udpa.udpa."},
          new String[] {"google.protobuf.", "com.google.protobuf."});

  private ProtoTypes() {}

  /** The descriptor of message {@code fullName}, or null when no class on the class path has it. */
  static Descriptor descriptor(String fullName) {
    Descriptor d = FOUND.get(fullName);
    if (d != null || MISSING.contains(fullName)) {
      return d;
    }
    d = lookUp(fullName);
    if (d == null) {
      MISSING.add(fullName);
    } else {
      FOUND.put(fullName, d);
    }
    return d;
  }

  private static Descriptor lookUp(String fullName) {
    for (String[] p : PACKAGES) {
      if (fullName.startsWith(p[0])) {
        String className = p[1] + fullName.substring(p[0].length());
        try {
          Class<?> c = Class.forName(className, false, ProtoTypes.class.getClassLoader());
          if (Message.class.isAssignableFrom(c)) {
            Object d = c.getMethod("getDescriptor").invoke(null);
            if (d instanceof Descriptor descriptor && descriptor.getFullName().equals(fullName)) {
              return descriptor;
            }
          }
        } catch (ReflectiveOperationException | LinkageError e) {
          return null;
        }
      }
    }
    return null;
  }

  /**
   * Adds to {@code into} the full name of every message packed in an {@code Any} anywhere in {@code
   * m}, looking inside those it can decode.
   */
  static void collectAnyTypes(Message m, Set<String> into) {
    if (m instanceof Any any) {
      String url = any.getTypeUrl();
      String name = url.substring(url.lastIndexOf('/') + 1);
      if (!into.add(name)) {
        return;
      }
      Descriptor d = descriptor(name);
      if (d != null) {
        try {
          collectAnyTypes(DynamicMessage.parseFrom(d, any.getValue()), into);
        } catch (InvalidProtocolBufferException e) {
          // printed as JsonFormat prints an undecodable Any: its failure names the type
        }
      }
      return;
    }
    for (Map.Entry<FieldDescriptor, Object> f : m.getAllFields().entrySet()) {
      if (f.getKey().getJavaType() != FieldDescriptor.JavaType.MESSAGE) {
        continue;
      }
      if (f.getKey().isRepeated()) {
        for (Object o : (List<?>) f.getValue()) {
          collect(o, into);
        }
      } else {
        collect(f.getValue(), into);
      }
    }
  }

  private static void collect(Object o, Set<String> into) {
    if (o instanceof Any any) {
      collectAnyTypes(any, into);
    } else if (o instanceof Message message) {
      if (message.getDescriptorForType().getFullName().equals("google.protobuf.Any")) {
        try {
          collectAnyTypes(Any.parseFrom(message.toByteString()), into);
        } catch (InvalidProtocolBufferException e) {
          // not decodable: left for the printer to report
        }
      } else {
        collectAnyTypes(message, into);
      }
    }
  }
}
