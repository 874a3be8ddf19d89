package dev.weft.api;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * One object of a document read against the schema its caller knows: every accessor names a field
 * the schema has, and {@link #end()} reports the fields nobody asked for as unknown, as the
 * Kubernetes API server does for a structural schema with {@code --validate=strict}. Absent and
 * {@code null} values are the same thing (as in Kubernetes). Type errors are reported and the
 * accessor returns the default, so that one bad field never hides the others.
 */
final class Fields {
  private static final Pattern SIMPLE_KEY = Pattern.compile("[A-Za-z0-9_-]+");

  private final Problems problems;
  private final String path;
  private final Map<String, Object> map;
  private final Set<String> known = new LinkedHashSet<>();

  private Fields(Problems problems, String path, Map<String, Object> map) {
    this.problems = problems;
    this.path = path;
    this.map = map;
  }

  /**
   * Reads {@code value} as an object at {@code path}; null (and an error) when it is not a map,
   * null without error when it is null.
   */
  @SuppressWarnings("unchecked")
  static Fields of(Problems problems, String path, Object value) {
    if (value == null) {
      return null;
    }
    if (!(value instanceof Map<?, ?> m)) {
      problems.add(path, "must be an object, not " + typeName(value));
      return null;
    }
    return new Fields(problems, path, (Map<String, Object>) m);
  }

  /** The path of a field of an object at {@code base}, e.g. {@code spec.hosts}. */
  static String child(String base, String key) {
    String k = SIMPLE_KEY.matcher(key).matches() ? key : "[\"" + key + "\"]";
    if (base.isEmpty()) {
      return k;
    }
    return k.startsWith("[") ? base + k : base + "." + k;
  }

  /** The path of an element of a list at {@code base}. */
  static String index(String base, int i) {
    return base + "[" + i + "]";
  }

  Problems problems() {
    return problems;
  }

  /** This object's path. */
  String path() {
    return path;
  }

  /** The path of field {@code key} of this object. */
  String path(String key) {
    return child(path, key);
  }

  /** The underlying map (read only by convention). */
  Map<String, Object> map() {
    return map;
  }

  /** Reports {@code message} at field {@code key}. */
  void error(String key, String message) {
    problems.add(key == null ? path : path(key), message);
  }

  /** Reports {@code message} at this object. */
  void error(String message) {
    problems.add(path, message);
  }

  /** Declares {@code keys} as known without reading them. */
  void accept(String... keys) {
    Collections.addAll(known, keys);
  }

  /** Whether field {@code key} is present and not null; declares it known. */
  boolean has(String key) {
    known.add(key);
    return map.get(key) != null;
  }

  /** The raw value of {@code key}, or null; declares it known. */
  Object raw(String key) {
    known.add(key);
    return map.get(key);
  }

  /** A string field; empty when absent or of the wrong type (which is an error). */
  String string(String key) {
    Object v = raw(key);
    if (v == null) {
      return "";
    }
    if (v instanceof String s) {
      return s;
    }
    error(key, "must be a string, not " + typeName(v));
    return "";
  }

  /** A string field that must be present and non-empty. */
  String requiredString(String key) {
    String s = string(key);
    if (s.isEmpty() && (map.get(key) == null || map.get(key) instanceof String)) {
      error(key, "is required");
    }
    return s;
  }

  /** An integer field; {@code dflt} when absent or invalid. */
  long longValue(String key, long dflt) {
    Object v = raw(key);
    if (v == null) {
      return dflt;
    }
    Long l = asLong(v);
    if (l == null) {
      error(key, "must be an integer, not " + typeName(v));
      return dflt;
    }
    return l;
  }

  /** An int32 field; {@code dflt} when absent or invalid. */
  int intValue(String key, int dflt) {
    long l = longValue(key, dflt);
    if (l < Integer.MIN_VALUE || l > Integer.MAX_VALUE) {
      error(key, "must be a 32-bit integer");
      return dflt;
    }
    return (int) l;
  }

  /** A number field; null when absent or invalid. */
  Double number(String key) {
    Object v = raw(key);
    if (v == null) {
      return null;
    }
    if (v instanceof Number n && !(v instanceof Boolean)) {
      double d = n.doubleValue();
      if (Double.isNaN(d) || Double.isInfinite(d)) {
        error(key, "must be a finite number");
        return null;
      }
      return d;
    }
    error(key, "must be a number, not " + typeName(v));
    return null;
  }

  /** A boolean field; false when absent or invalid. */
  boolean bool(String key) {
    Object v = raw(key);
    if (v == null) {
      return false;
    }
    if (v instanceof Boolean b) {
      return b;
    }
    error(key, "must be a boolean, not " + typeName(v));
    return false;
  }

  /** An object field; null when absent or invalid. */
  Fields object(String key) {
    return of(problems, path(key), raw(key));
  }

  /** A list field; null when absent, and null (with an error) when not a list. */
  List<Object> list(String key) {
    Object v = raw(key);
    if (v == null) {
      return null;
    }
    if (v instanceof List<?> l) {
      @SuppressWarnings("unchecked")
      List<Object> list = (List<Object>) l;
      return list;
    }
    error(key, "must be a list, not " + typeName(v));
    return null;
  }

  /** A list of objects; empty when absent. Elements that are not objects are errors. */
  List<Fields> objects(String key) {
    List<Object> l = list(key);
    if (l == null) {
      return List.of();
    }
    List<Fields> out = new ArrayList<>(l.size());
    for (int i = 0; i < l.size(); i++) {
      String p = index(path(key), i);
      Object e = l.get(i);
      if (e == null) {
        problems.add(p, "must be an object, not null");
        continue;
      }
      Fields f = of(problems, p, e);
      if (f != null) {
        out.add(f);
      }
    }
    return out;
  }

  /** A list of strings; empty when absent. */
  List<String> strings(String key) {
    List<Object> l = list(key);
    if (l == null) {
      return List.of();
    }
    List<String> out = new ArrayList<>(l.size());
    for (int i = 0; i < l.size(); i++) {
      Object e = l.get(i);
      if (e instanceof String s) {
        out.add(s);
      } else {
        problems.add(index(path(key), i), "must be a string, not " + typeName(e));
      }
    }
    return List.copyOf(out);
  }

  /** A map of strings to strings (labels, selectors); empty when absent. */
  Map<String, String> stringMap(String key) {
    Object v = raw(key);
    if (v == null) {
      return Map.of();
    }
    if (!(v instanceof Map<?, ?> m)) {
      error(key, "must be an object, not " + typeName(v));
      return Map.of();
    }
    Map<String, String> out = new LinkedHashMap<>();
    for (Map.Entry<?, ?> e : m.entrySet()) {
      String k = String.valueOf(e.getKey());
      if (e.getValue() instanceof String s) {
        out.put(k, s);
      } else {
        problems.add(child(path(key), k), "must be a string, not " + typeName(e.getValue()));
      }
    }
    return Collections.unmodifiableMap(out);
  }

  /** A map whose values are objects, e.g. header matches; empty when absent. */
  Map<String, Fields> objectMap(String key) {
    return objectMap(key, false);
  }

  /**
   * Like {@link #objectMap(String)}; with {@code reportedByCaller}, values that are not objects are
   * skipped silently because the caller reported them with a better message.
   */
  Map<String, Fields> objectMap(String key, boolean reportedByCaller) {
    Object v = raw(key);
    if (v == null) {
      return Map.of();
    }
    if (!(v instanceof Map<?, ?> m)) {
      error(key, "must be an object, not " + typeName(v));
      return Map.of();
    }
    Map<String, Fields> out = new LinkedHashMap<>();
    for (Map.Entry<?, ?> e : m.entrySet()) {
      String k = String.valueOf(e.getKey());
      String p = child(path(key), k);
      if (e.getValue() == null) {
        out.put(k, new Fields(problems, p, Map.of()));
        continue;
      }
      if (!(e.getValue() instanceof Map) && reportedByCaller) {
        continue;
      }
      Fields f = of(problems, p, e.getValue());
      if (f != null) {
        out.put(k, f);
      }
    }
    return out;
  }

  /**
   * The raw value of an object field, read-only, or null; its contents are the caller's to check.
   */
  @SuppressWarnings("unchecked")
  Map<String, Object> rawObject(String key) {
    Object v = raw(key);
    if (v instanceof Map<?, ?> m) {
      return (Map<String, Object>) m;
    }
    return null;
  }

  /**
   * A duration field in Go's {@code time.ParseDuration} syntax ({@code 5s}, {@code 100ms}, {@code
   * 1.5s}, {@code 1m30s}), which Istio's CRD schema accepts; null when absent or invalid. Istio's
   * ValidateDuration rules are applied: at least 1ms and whole milliseconds.
   */
  Duration duration(String key) {
    Object v = raw(key);
    if (v == null) {
      return null;
    }
    if (!(v instanceof String s)) {
      error(key, "must be a duration string such as \"5s\" or \"100ms\", not " + typeName(v));
      return null;
    }
    Duration d = Durations.parse(s);
    if (d == null && s.startsWith("-") && Durations.parse(s.substring(1)) != null) {
      // Istio's ValidateDuration: a negative one fails "greater than 1ms"; said plainly here.
      error(key, "duration must not be negative, got \"" + s + "\"");
      return null;
    }
    if (d == null) {
      error(key, "invalid duration \"" + s + "\" (use e.g. \"5s\", \"100ms\", \"1.5s\", \"1m\")");
      return null;
    }
    if (d.compareTo(Duration.ofMillis(1)) < 0) {
      error(key, "duration must be greater than 1ms");
      return null;
    }
    if (d.getNano() % 1_000_000 != 0) {
      error(key, "only durations to ms precision are supported");
      return null;
    }
    return d;
  }

  /** Reports every field of this object that no accessor asked for. */
  void end() {
    FieldTrace.fields(path, known);
    for (Object k : map.keySet()) {
      String key = String.valueOf(k);
      if (!known.contains(key)) {
        String hint = Suggest.closest(key, known);
        problems.add(
            path(key),
            "unknown field \""
                + key
                + "\""
                + (hint == null ? "" : ", did you mean \"" + hint + "\"?"));
      }
    }
  }

  static Long asLong(Object v) {
    if (v instanceof Integer || v instanceof Long || v instanceof Short || v instanceof Byte) {
      return ((Number) v).longValue();
    }
    if (v instanceof BigInteger b) {
      return b.bitLength() < 64 ? b.longValue() : null;
    }
    if (v instanceof Double || v instanceof Float || v instanceof BigDecimal) {
      double d = ((Number) v).doubleValue();
      if (d == Math.rint(d) && Math.abs(d) < 9.0e15) {
        return (long) d;
      }
    }
    return null;
  }

  /** How errors name the type of a value: {@code a string}, {@code a list}, ... */
  static String typeName(Object v) {
    if (v == null) {
      return "null";
    }
    if (v instanceof String) {
      return "a string";
    }
    if (v instanceof Boolean) {
      return "a boolean";
    }
    if (v instanceof Integer || v instanceof Long || v instanceof BigInteger) {
      return "an integer";
    }
    if (v instanceof Number) {
      return "a number";
    }
    if (v instanceof List) {
      return "a list";
    }
    if (v instanceof Map) {
      return "an object";
    }
    return v.getClass().getSimpleName();
  }
}
