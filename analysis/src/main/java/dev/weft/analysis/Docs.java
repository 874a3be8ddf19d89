package dev.weft.analysis;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Null-safe reads of parsed documents (maps, lists, scalars); absent is empty, never null. */
public final class Docs {
  private Docs() {}

  /** The map at {@code path} under {@code m}, or an empty map. */
  @SuppressWarnings("unchecked")
  public static Map<String, Object> map(Object m, String... path) {
    Object o = at(m, path);
    return o instanceof Map<?, ?> r ? (Map<String, Object>) r : Map.of();
  }

  /** The list at {@code path}, or an empty list. */
  public static List<Object> list(Object m, String... path) {
    Object o = at(m, path);
    return o instanceof List<?> l ? new ArrayList<>(l) : List.of();
  }

  /** The maps of the list at {@code path} (other elements skipped). */
  @SuppressWarnings("unchecked")
  public static List<Map<String, Object>> maps(Object m, String... path) {
    List<Map<String, Object>> out = new ArrayList<>();
    for (Object o : list(m, path)) {
      if (o instanceof Map<?, ?> x) {
        out.add((Map<String, Object>) x);
      }
    }
    return out;
  }

  /** The strings of the list at {@code path}. */
  public static List<String> strs(Object m, String... path) {
    List<String> out = new ArrayList<>();
    for (Object o : list(m, path)) {
      if (o != null && !(o instanceof Map) && !(o instanceof List)) {
        out.add(String.valueOf(o));
      }
    }
    return out;
  }

  /** The scalar at {@code path} as a string, or empty. */
  public static String str(Object m, String... path) {
    Object o = at(m, path);
    return o == null || o instanceof Map || o instanceof List ? "" : String.valueOf(o);
  }

  /** The number at {@code path} as an int, or 0 (strings of digits are read too). */
  public static int integer(Object m, String... path) {
    Object o = at(m, path);
    if (o instanceof Number n) {
      return n.intValue();
    }
    try {
      return o == null ? 0 : Integer.parseInt(String.valueOf(o));
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  /** Whether {@code path} is present (with a non-null value). */
  public static boolean has(Object m, String... path) {
    return at(m, path) != null;
  }

  /** The string-to-string map at {@code path} (labels, selectors). */
  public static Map<String, String> labels(Object m, String... path) {
    Map<String, String> out = new LinkedHashMap<>();
    map(m, path).forEach((k, v) -> out.put(k, String.valueOf(v)));
    return out;
  }

  private static Object at(Object m, String... path) {
    Object cur = m;
    for (String p : path) {
      if (!(cur instanceof Map<?, ?> x)) {
        return null;
      }
      cur = x.get(p);
    }
    return cur;
  }
}
