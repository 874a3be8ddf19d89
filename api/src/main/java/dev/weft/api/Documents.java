package dev.weft.api;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Turns parser output into the read-only document tree that {@link Resource#document()} holds. */
final class Documents {
  private Documents() {}

  /**
   * A deep, read-only copy of {@code value}: maps become unmodifiable insertion-ordered maps with
   * string keys (as JSON has them; YAML {@code 80:} becomes {@code "80"}), lists unmodifiable
   * lists, {@code !!binary} base64 strings; strings, numbers, booleans and nulls stay.
   */
  static Object freeze(Object value) {
    if (value instanceof Map<?, ?> m) {
      Map<String, Object> out = new LinkedHashMap<>();
      for (Map.Entry<?, ?> e : m.entrySet()) {
        out.put(String.valueOf(e.getKey()), freeze(e.getValue()));
      }
      return Collections.unmodifiableMap(out);
    }
    if (value instanceof List<?> l) {
      List<Object> out = new ArrayList<>(l.size());
      for (Object o : l) {
        out.add(freeze(o));
      }
      return Collections.unmodifiableList(out);
    }
    if (value instanceof java.util.Set<?> s) {
      List<Object> out = new ArrayList<>(s.size());
      for (Object o : s) {
        out.add(freeze(o));
      }
      return Collections.unmodifiableList(out);
    }
    if (value instanceof byte[] b) {
      return Base64.getEncoder().encodeToString(b);
    }
    if (value instanceof java.math.BigInteger b) {
      return b.bitLength() < 32
          ? (Object) b.intValue()
          : b.bitLength() < 64 ? (Object) b.longValue() : b;
    }
    if (value instanceof Long l && l == l.intValue()) {
      return l.intValue();
    }
    if (value instanceof Short || value instanceof Byte) {
      return ((Number) value).intValue();
    }
    if (value instanceof BigDecimal d) {
      return d.doubleValue();
    }
    if (value instanceof Float f) {
      return f.doubleValue();
    }
    if (value == null
        || value instanceof String
        || value instanceof Boolean
        || value instanceof Number) {
      return value;
    }
    return String.valueOf(value);
  }

  /**
   * {@code document} with {@code metadata.namespace} set to the (defaulted) namespace of a
   * namespaced kind, placed right after {@code metadata.name}.
   */
  @SuppressWarnings("unchecked")
  static Map<String, Object> withNamespace(
      Map<String, Object> document, ObjectMeta meta, ResourceKind kind) {
    if (!kind.namespaced()) {
      return document;
    }
    Map<String, Object> metadata = (Map<String, Object>) document.get("metadata");
    if (meta.namespace().equals(metadata.get("namespace"))) {
      return document;
    }
    Map<String, Object> newMeta = new LinkedHashMap<>();
    for (Map.Entry<String, Object> e : metadata.entrySet()) {
      if (e.getKey().equals("namespace")) {
        continue;
      }
      newMeta.put(e.getKey(), e.getValue());
      if (e.getKey().equals("name")) {
        newMeta.put("namespace", meta.namespace());
      }
    }
    newMeta.putIfAbsent("namespace", meta.namespace());
    Map<String, Object> out = new LinkedHashMap<>();
    for (Map.Entry<String, Object> e : document.entrySet()) {
      out.put(
          e.getKey(),
          e.getKey().equals("metadata") ? Collections.unmodifiableMap(newMeta) : e.getValue());
    }
    return Collections.unmodifiableMap(out);
  }
}
