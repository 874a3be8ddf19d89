package dev.weft.api;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/** Value checks shared by the kinds' spec readers (Istio's pkg/config/validation helpers). */
final class Checks {
  /** Istio's validateStringRegexp: a regex may have at most 1024 chars. */
  static final int MAX_REGEX_LENGTH = 1024;

  /**
   * The RE2 program size a proxy accepts: Envoy's {@code re2.max_program_size.error_level}, which
   * Istio's bootstrap sets to 32768 (Weft's proxy applies the same limit).
   */
  static final int MAX_REGEX_PROGRAM_SIZE = 32768;

  // RFC 7230 token, as Istio's validHeaderRegex.
  private static final Pattern HEADER_NAME = Pattern.compile("[!#$%&'*+\\-.^_`|~0-9a-zA-Z]+");

  private Checks() {}

  /**
   * Istio's ValidateHTTPHeaderName: a header name is an RFC 7230 token; pseudo-headers only as
   * {@code :authority} (header operations may set it). Returns an error message or null.
   */
  static String headerName(String name) {
    if (name.isEmpty()) {
      return "header name cannot be empty";
    }
    String n = name.equals(":authority") ? "authority" : name;
    if (!HEADER_NAME.matcher(n).matches()) {
      return "header name " + name + " is not a valid header name";
    }
    return null;
  }

  /** Istio's ValidatePort: 1..65535. */
  static void port(Fields f, String key, long port) {
    if (port < 1 || port > 65535) {
      f.error(key, "port number " + port + " must be in the range 1..65535");
    }
  }

  /**
   * A regular expression as Envoy's {@code safe_regex} (RE2) takes it, checked as Istio's
   * validateStringRegexp does: at most 1024 chars, and it must compile as RE2 syntax (Istio uses
   * Go's regexp; we use RE2/J, its Java port, which gives the same messages). So look-around,
   * back-references, possessive quantifiers and Java-only classes are rejected here, at apply time,
   * and never reach a proxy. A regex whose RE2 program is larger than the proxies accept ({@link
   * #MAX_REGEX_PROGRAM_SIZE}) is rejected too, so that a proxy never NACKs what we accepted.
   */
  static void regex(Fields f, String key, String regex) {
    if (regex.isEmpty()) {
      f.error(key, "regex string match should not be empty");
      return;
    }
    if (regex.length() > MAX_REGEX_LENGTH) {
      f.error(key, "regex is too large, max length allowed is " + MAX_REGEX_LENGTH);
      return;
    }
    com.google.re2j.Pattern p;
    try {
      p = com.google.re2j.Pattern.compile(regex);
    } catch (com.google.re2j.PatternSyntaxException e) {
      f.error(
          key,
          "invalid regex \""
              + regex
              + "\": "
              + e.getMessage()
              + "; Istio uses RE2 style regex-based match (https://github.com/google/re2/wiki/Syntax)");
      return;
    }
    if (p.programSize() > MAX_REGEX_PROGRAM_SIZE) {
      f.error(
          key,
          "regex \""
              + regex
              + "\" is too large: its RE2 program size of "
              + p.programSize()
              + " > max program size of "
              + MAX_REGEX_PROGRAM_SIZE);
    }
  }

  /** Istio's percentage {@code {value: double}}: 0, or 0.0001..100. */
  static Double percentage(Fields parent, String key) {
    Fields p = parent.object(key);
    if (p == null) {
      return null;
    }
    Double v = p.number("value");
    p.end();
    if (v == null) {
      return 0.0;
    }
    if (v != 0.0 && (v < 0.0001 || v > 100.0)) {
      p.error("value", "percentage " + fmt(v) + " is neither 0.0, nor in range [0.0001, 100.0]");
    }
    return v;
  }

  /** A 0..100 integer percentage (OutlierDetection, CRD "Invalid value"). */
  static void percent(Fields f, String key, double v) {
    if (v < 0 || v > 100) {
      f.error(key, "percentage " + fmt(v) + " is not in range 0..100");
    }
  }

  static String fmt(double v) {
    return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : Double.toString(v);
  }

  /** An enum-valued string field; returns the value (empty when absent). */
  static String oneOf(Fields f, String key, Set<String> allowed) {
    String v = f.string(key);
    if (!v.isEmpty() && !allowed.contains(v)) {
      f.error(
          key,
          "Unsupported value: \""
              + v
              + "\": supported values: "
              + String.join(", ", allowed.stream().sorted().map(s -> "\"" + s + "\"").toList()));
    }
    return v;
  }

  /** exportTo: {@code .}, {@code *}, {@code ~} or namespace names. */
  static List<String> exportTo(Fields spec) {
    List<String> out = spec.strings("exportTo");
    for (int i = 0; i < out.size(); i++) {
      String ns = out.get(i);
      if (!ns.equals(".") && !ns.equals("*") && !ns.equals("~") && !Names.isDns1123Label(ns)) {
        spec.problems()
            .add(
                Fields.index(spec.path("exportTo"), i),
                "invalid exportTo value \"" + ns + "\": must be \".\", \"*\" or a namespace name");
      }
    }
    return out;
  }

  /** Labels in a selector: Kubernetes label keys and values, no wildcards (Istio). */
  static void labels(Fields f, String key, Map<String, String> labels) {
    for (Map.Entry<String, String> e : labels.entrySet()) {
      String p = Fields.child(f.path(key), e.getKey());
      if (e.getKey().isEmpty()) {
        f.problems().add(p, "empty key is not supported in selector");
        continue;
      }
      if (e.getKey().contains("*") || e.getValue().contains("*")) {
        f.problems().add(p, "wildcard is not supported in selector");
        continue;
      }
      String err = Names.qualifiedName(e.getKey());
      if (err == null) {
        err = Names.labelValue(e.getValue());
      }
      if (err != null) {
        f.problems().add(p, err);
      }
    }
  }

  /** Istio's workloadSelector / selector: {@code {matchLabels: {...}}}. */
  static Map<String, String> workloadSelector(Fields spec, String key) {
    Fields sel = spec.object(key);
    if (sel == null) {
      return Map.of();
    }
    Map<String, String> labels = sel.stringMap("matchLabels");
    labels(sel, "matchLabels", labels);
    sel.end();
    return labels;
  }
}
