package dev.weft.analysis;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The subset of Go's {@code fmt} verbs that Istio's message templates use: {@code %s}, {@code %v}
 * (a list prints as {@code [a b]}), {@code %d} and {@code %q} (a Go double-quoted string).
 */
final class GoFormat {
  private GoFormat() {}

  static String format(String template, List<Object> args) {
    StringBuilder sb = new StringBuilder();
    int arg = 0;
    for (int i = 0; i < template.length(); i++) {
      char c = template.charAt(i);
      if (c != '%' || i + 1 >= template.length()) {
        sb.append(c);
        continue;
      }
      char verb = template.charAt(++i);
      if (verb == '%') {
        sb.append('%');
        continue;
      }
      Object a = arg < args.size() ? args.get(arg++) : "%!" + verb + "(MISSING)";
      switch (verb) {
        case 'q' -> sb.append(quote(plain(a)));
        default -> sb.append(plain(a));
      }
    }
    return sb.toString();
  }

  private static String plain(Object a) {
    if (a instanceof Collection<?> c) {
      return c.stream().map(GoFormat::plain).collect(Collectors.joining(" ", "[", "]"));
    }
    if (a instanceof Map<?, ?> m) {
      return m.entrySet().stream()
          .map(e -> plain(e.getKey()) + ":" + plain(e.getValue()))
          .collect(Collectors.joining(" ", "map[", "]"));
    }
    return String.valueOf(a);
  }

  /** Go's {@code strconv.Quote} for printable text: backslash and double quote escaped. */
  static String quote(String s) {
    StringBuilder sb = new StringBuilder("\"");
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\t' -> sb.append("\\t");
        default -> sb.append(c);
      }
    }
    return sb.append('"').toString();
  }
}
