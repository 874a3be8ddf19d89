package dev.weft.proxy.json;

/**
 * JSON strings (RFC 8259, section 7): a character sequence quoted, with {@code "} and {@code \}
 * escaped, the control characters U+0000 to U+001F written as {@code \n}, {@code \r}, {@code \t} or
 * {@code \}{@code u00XX} (lower-case hex), everything else as it is (the text stays UTF-16; its
 * writer encodes it as UTF-8). The one escaper of the proxy's JVM: the access log's JSON format and
 * the local runtime's JSON (state records, the workload token request) use it.
 */
public final class JsonStrings {
  private static final char[] HEX = "0123456789abcdef".toCharArray();

  private JsonStrings() {}

  /** Appends {@code s} to {@code sb} as a JSON string, quotes included; returns {@code sb}. */
  public static StringBuilder append(StringBuilder sb, CharSequence s) {
    sb.append('"');
    for (int i = 0, n = s.length(); i < n; i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        default -> {
          if (c < 0x20) {
            sb.append("\\u00").append(HEX[c >> 4]).append(HEX[c & 0xf]);
          } else {
            sb.append(c);
          }
        }
      }
    }
    return sb.append('"');
  }

  /** {@code s} as a JSON string, quotes included. */
  public static String quote(CharSequence s) {
    return append(new StringBuilder(s.length() + 2), s).toString();
  }
}
