package dev.weft.controlplane.dashboard;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A reader of the Prometheus text exposition format (version 0.0.4: {@code name{label="value",...}
 * value [timestamp]}, {@code #} comments), keeping only the metrics asked for. Label values are
 * unescaped ({@code \\}, {@code \"}, {@code \n}). A malformed line is skipped and counted, never an
 * error: a proxy's output is input.
 */
final class PromText {
  private PromText() {}

  /**
   * One sample.
   *
   * @param name the metric name (with its {@code _bucket}/{@code _sum}/{@code _count} suffix)
   * @param labels its labels
   * @param value its value
   */
  record Sample(String name, Map<String, String> labels, double value) {}

  /**
   * The parsed samples, and how many lines were malformed.
   *
   * @param samples the kept samples, in input order
   * @param malformed lines that could not be read
   */
  record Parsed(List<Sample> samples, int malformed) {}

  /** The samples of {@code text} whose metric name is in {@code names}. */
  static Parsed parse(CharSequence text, Set<String> names) {
    List<Sample> out = new ArrayList<>();
    int malformed = 0;
    int n = text.length();
    int pos = 0;
    while (pos < n) {
      int end = pos;
      while (end < n && text.charAt(end) != '\n') {
        end++;
      }
      int start = pos;
      pos = end + 1;
      while (start < end && (text.charAt(start) == ' ' || text.charAt(start) == '\t')) {
        start++;
      }
      if (start >= end || text.charAt(start) == '#') {
        continue;
      }
      int nameEnd = start;
      while (nameEnd < end && isNameChar(text.charAt(nameEnd))) {
        nameEnd++;
      }
      if (nameEnd == start) {
        malformed++;
        continue;
      }
      String name = text.subSequence(start, nameEnd).toString();
      if (!names.contains(name)) {
        continue;
      }
      Map<String, String> labels = new HashMap<>();
      int i = nameEnd;
      if (i < end && text.charAt(i) == '{') {
        i = labels(text, i + 1, end, labels);
        if (i < 0) {
          malformed++;
          continue;
        }
      }
      while (i < end && (text.charAt(i) == ' ' || text.charAt(i) == '\t')) {
        i++;
      }
      int valueEnd = i;
      while (valueEnd < end && text.charAt(valueEnd) != ' ' && text.charAt(valueEnd) != '\t') {
        valueEnd++;
      }
      Double value = value(text.subSequence(i, valueEnd).toString().trim());
      if (value == null) {
        malformed++;
        continue;
      }
      out.add(new Sample(name, labels, value));
    }
    return new Parsed(out, malformed);
  }

  /** Reads {@code a="x",b="y"}} from {@code i}; returns the index after '}' or -1. */
  private static int labels(CharSequence s, int i, int end, Map<String, String> labels) {
    StringBuilder value = new StringBuilder();
    while (i < end) {
      char c = s.charAt(i);
      if (c == '}') {
        return i + 1;
      }
      if (c == ',' || c == ' ') {
        i++;
        continue;
      }
      int keyStart = i;
      while (i < end && isNameChar(s.charAt(i))) {
        i++;
      }
      if (i == keyStart || i + 1 >= end || s.charAt(i) != '=' || s.charAt(i + 1) != '"') {
        return -1;
      }
      String key = s.subSequence(keyStart, i).toString();
      i += 2;
      value.setLength(0);
      boolean closed = false;
      while (i < end) {
        char v = s.charAt(i++);
        if (v == '\\' && i < end) {
          char e = s.charAt(i++);
          value.append(e == 'n' ? '\n' : e);
        } else if (v == '"') {
          closed = true;
          break;
        } else {
          value.append(v);
        }
      }
      if (!closed) {
        return -1;
      }
      labels.put(key, value.toString());
    }
    return -1;
  }

  private static boolean isNameChar(char c) {
    return (c >= 'a' && c <= 'z')
        || (c >= 'A' && c <= 'Z')
        || (c >= '0' && c <= '9')
        || c == '_'
        || c == ':';
  }

  /** A sample value or {@code le} bound: a float, {@code +Inf}, {@code -Inf}, {@code NaN}. */
  static Double value(String s) {
    switch (s) {
      case "+Inf", "Inf" -> {
        return Double.POSITIVE_INFINITY;
      }
      case "-Inf" -> {
        return Double.NEGATIVE_INFINITY;
      }
      case "NaN" -> {
        return Double.NaN;
      }
      default -> {
        try {
          return Double.parseDouble(s);
        } catch (NumberFormatException e) {
          return null;
        }
      }
    }
  }
}
