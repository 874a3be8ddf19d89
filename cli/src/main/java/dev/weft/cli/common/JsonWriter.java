package dev.weft.cli.common;

import dev.weft.proxy.json.JsonStrings;
import java.util.Map;

/**
 * Writes plain values as JSON text (RFC 8259), indented two spaces: what the state directory's
 * files hold ({@link StateDir#writeJson}). A {@code Map} becomes an object (its keys as strings, in
 * its iteration order), an {@code Iterable} an array, a {@code CharSequence} a string (escaped by
 * the proxy's {@link JsonStrings}), a {@code Number} or {@code Boolean} itself, {@code null} {@code
 * null}. Without Jackson, so that a proxy's JVM, which writes its workload record, never loads it
 * (issue #10); {@link JsonReader} reads the text back.
 */
public final class JsonWriter {
  private JsonWriter() {}

  /**
   * {@code value} as JSON text with a final line break.
   *
   * @throws IllegalArgumentException if it holds anything but the values above, or a number that is
   *     not finite (JSON has no NaN or infinity)
   */
  public static String write(Object value) {
    StringBuilder sb = new StringBuilder(256);
    write(sb, value, 0);
    return sb.append('\n').toString();
  }

  private static void write(StringBuilder sb, Object value, int depth) {
    switch (value) {
      case null -> sb.append("null");
      case CharSequence s -> JsonStrings.append(sb, s);
      case Boolean b -> sb.append(b.booleanValue());
      case Double d when !Double.isFinite(d) -> throw notJson(value);
      case Float f when !Float.isFinite(f) -> throw notJson(value);
      case Number n -> sb.append(n);
      case Map<?, ?> m -> {
        if (m.isEmpty()) {
          sb.append("{}");
          return;
        }
        sb.append('{');
        String sep = "\n";
        for (Map.Entry<?, ?> e : m.entrySet()) {
          sb.append(sep);
          indent(sb, depth + 1);
          JsonStrings.append(sb, String.valueOf(e.getKey())).append(": ");
          write(sb, e.getValue(), depth + 1);
          sep = ",\n";
        }
        sb.append('\n');
        indent(sb, depth);
        sb.append('}');
      }
      case Iterable<?> list -> {
        sb.append('[');
        String sep = "";
        for (Object v : list) {
          sb.append(sep);
          write(sb, v, depth + 1);
          sep = ", ";
        }
        sb.append(']');
      }
      default -> throw notJson(value);
    }
  }

  private static void indent(StringBuilder sb, int depth) {
    for (int i = 0; i < depth; i++) {
      sb.append("  ");
    }
  }

  private static IllegalArgumentException notJson(Object value) {
    return new IllegalArgumentException(
        "not a JSON value: " + value + " (" + value.getClass().getName() + ")");
  }
}
