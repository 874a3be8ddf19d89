package dev.weft.cli.common;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A JSON reader (RFC 8259) for the few small documents a proxy's JVM reads (a workload token and an
 * error from the control plane's API, the state directory's {@code controlplane.json} and workload
 * records), so that JVM loads neither Jackson's databind for them nor its start cost (issue #10;
 * {@link JsonWriter} writes). A document becomes plain values: an object a {@code Map<String,
 * Object>} in document order (a repeated name keeps its last value, as Jackson does), an array a
 * {@code List<Object>}, a string a {@code String}, a number a {@link BigDecimal}, {@code
 * true}/{@code false} a {@code Boolean}, {@code null} Java's {@code null}; all unmodifiable. The
 * whole input must be one value (whitespace around it allowed); anything else is a {@link
 * JsonException} naming the offset and what was expected. Nesting deeper than {@link #MAX_DEPTH} is
 * refused, so a hostile document cannot exhaust the stack.
 */
public final class JsonReader {
  /** The deepest nesting of arrays and objects read. */
  public static final int MAX_DEPTH = 256;

  private final String text;
  private int pos;
  private int depth;

  private JsonReader(String text) {
    this.text = text;
  }

  /** A document that is not JSON: the message names the offset and what was expected there. */
  public static final class JsonException extends Exception {
    JsonException(String message) {
      super(message);
    }
  }

  /** The value {@code text} holds. */
  public static Object parse(String text) throws JsonException {
    JsonReader r = new JsonReader(text);
    r.skipWhitespace();
    Object v = r.value();
    r.skipWhitespace();
    if (r.pos != text.length()) {
      throw r.error("end of input");
    }
    return v;
  }

  /** {@code text}'s value, which must be an object. */
  @SuppressWarnings("unchecked")
  public static Map<String, Object> parseObject(String text) throws JsonException {
    Object v = parse(text);
    if (!(v instanceof Map<?, ?>)) {
      throw new JsonException("expected a JSON object, found " + kind(v));
    }
    return (Map<String, Object>) v;
  }

  /** What {@code v} is, in JSON's words: object, array, string, number, boolean or null. */
  public static String kind(Object v) {
    if (v == null) {
      return "null";
    }
    if (v instanceof Map<?, ?>) {
      return "an object";
    }
    if (v instanceof List<?>) {
      return "an array";
    }
    if (v instanceof String) {
      return "a string";
    }
    if (v instanceof BigDecimal) {
      return "a number";
    }
    return v instanceof Boolean ? "a boolean" : v.getClass().getSimpleName();
  }

  private Object value() throws JsonException {
    if (pos >= text.length()) {
      throw error("a value");
    }
    char c = text.charAt(pos);
    return switch (c) {
      case '{' -> object();
      case '[' -> array();
      case '"' -> string();
      case 't' -> literal("true", Boolean.TRUE);
      case 'f' -> literal("false", Boolean.FALSE);
      case 'n' -> literal("null", null);
      default -> {
        if (c == '-' || (c >= '0' && c <= '9')) {
          yield number();
        }
        throw error("a value");
      }
    };
  }

  private Map<String, Object> object() throws JsonException {
    enter();
    pos++; // '{'
    Map<String, Object> m = new LinkedHashMap<>();
    skipWhitespace();
    if (peek() == '}') {
      pos++;
      depth--;
      return Collections.unmodifiableMap(m);
    }
    while (true) {
      skipWhitespace();
      if (peek() != '"') {
        throw error("a member name (a string)");
      }
      String name = string();
      skipWhitespace();
      expect(':');
      skipWhitespace();
      m.put(name, value());
      skipWhitespace();
      char c = peek();
      pos++;
      if (c == '}') {
        depth--;
        return Collections.unmodifiableMap(m);
      }
      if (c != ',') {
        pos--;
        throw error("',' or '}'");
      }
    }
  }

  private List<Object> array() throws JsonException {
    enter();
    pos++; // '['
    List<Object> l = new ArrayList<>();
    skipWhitespace();
    if (peek() == ']') {
      pos++;
      depth--;
      return Collections.unmodifiableList(l);
    }
    while (true) {
      skipWhitespace();
      l.add(value());
      skipWhitespace();
      char c = peek();
      pos++;
      if (c == ']') {
        depth--;
        return Collections.unmodifiableList(l);
      }
      if (c != ',') {
        pos--;
        throw error("',' or ']'");
      }
    }
  }

  private void enter() throws JsonException {
    if (++depth > MAX_DEPTH) {
      throw new JsonException("nested deeper than " + MAX_DEPTH + " at offset " + pos);
    }
  }

  private String string() throws JsonException {
    pos++; // '"'
    StringBuilder sb = null;
    int start = pos;
    while (true) {
      if (pos >= text.length()) {
        throw error("the string's closing '\"'");
      }
      char c = text.charAt(pos);
      if (c == '"') {
        String s = sb == null ? text.substring(start, pos) : sb.append(text, start, pos).toString();
        pos++;
        return s;
      }
      if (c < 0x20) {
        throw error("no control character in a string (escape it)");
      }
      if (c != '\\') {
        pos++;
        continue;
      }
      if (sb == null) {
        sb = new StringBuilder();
      }
      sb.append(text, start, pos);
      pos++;
      if (pos >= text.length()) {
        throw error("an escape");
      }
      char e = text.charAt(pos++);
      switch (e) {
        case '"' -> sb.append('"');
        case '\\' -> sb.append('\\');
        case '/' -> sb.append('/');
        case 'b' -> sb.append('\b');
        case 'f' -> sb.append('\f');
        case 'n' -> sb.append('\n');
        case 'r' -> sb.append('\r');
        case 't' -> sb.append('\t');
        case 'u' -> sb.append(hex4());
        default -> {
          pos -= 2;
          throw error("an escape (\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)");
        }
      }
      start = pos;
    }
  }

  /**
   * The four hex digits of a {@code \\u} escape (a surrogate stays one UTF-16 unit, as in Java).
   */
  private char hex4() throws JsonException {
    if (pos + 4 > text.length()) {
      throw error("four hex digits");
    }
    int v = 0;
    for (int i = 0; i < 4; i++) {
      int d = Character.digit(text.charAt(pos), 16);
      if (d < 0) {
        throw error("four hex digits");
      }
      v = v * 16 + d;
      pos++;
    }
    return (char) v;
  }

  /** RFC 8259 section 6: {@code -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?}. */
  private BigDecimal number() throws JsonException {
    int start = pos;
    if (peek() == '-') {
      pos++;
    }
    if (peek() == '0') {
      pos++;
    } else if (isDigit(peek())) {
      digits();
    } else {
      throw error("a digit");
    }
    if (peek() == '.') {
      pos++;
      if (!isDigit(peek())) {
        throw error("a digit after '.'");
      }
      digits();
    }
    if (peek() == 'e' || peek() == 'E') {
      pos++;
      if (peek() == '+' || peek() == '-') {
        pos++;
      }
      if (!isDigit(peek())) {
        throw error("a digit in the exponent");
      }
      digits();
    }
    try {
      return new BigDecimal(text.substring(start, pos));
    } catch (NumberFormatException e) { // an exponent beyond an int
      pos = start;
      throw error("a number within range");
    }
  }

  private void digits() {
    while (isDigit(peek())) {
      pos++;
    }
  }

  private static boolean isDigit(char c) {
    return c >= '0' && c <= '9';
  }

  private Object literal(String word, Object v) throws JsonException {
    if (!text.startsWith(word, pos)) {
      throw error("a value");
    }
    pos += word.length();
    return v;
  }

  private void expect(char c) throws JsonException {
    if (peek() != c) {
      throw error("'" + c + "'");
    }
    pos++;
  }

  /** The character at the position, or 0 at the end (never valid where it is looked at). */
  private char peek() {
    return pos < text.length() ? text.charAt(pos) : 0;
  }

  private void skipWhitespace() {
    while (pos < text.length()) {
      char c = text.charAt(pos);
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
        return;
      }
      pos++;
    }
  }

  private JsonException error(String expected) {
    String found =
        pos >= text.length() ? "the end of input" : "'" + printable(text.charAt(pos)) + "'";
    return new JsonException("at offset " + pos + ": expected " + expected + ", found " + found);
  }

  private static String printable(char c) {
    return c >= 0x20 && c < 0x7f ? String.valueOf(c) : String.format("\\u%04x", (int) c);
  }
}
