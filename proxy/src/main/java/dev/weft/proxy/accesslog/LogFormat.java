package dev.weft.proxy.accesslog;

import dev.weft.proxy.json.JsonStrings;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A compiled Envoy access log format ({@code SubstitutionFormatString}): a text format with command
 * operators ({@code [%START_TIME%] "%REQ(:METHOD)% ..."}) or a JSON format (a map of keys to such
 * strings; a value that is exactly one operator is written typed, as Envoy's JSON formatter does:
 * numbers for codes, sizes and durations, {@code null} when there is no value). Immutable; compiled
 * when the configuration is, applied on the access log's writer thread.
 *
 * <p>Operators: {@code START_TIME} (default format), {@code REQ(h)}, {@code REQ(h1?h2)} (any
 * request header; {@code :METHOD}, {@code :PATH}, {@code :AUTHORITY} and Istio's {@code
 * X-ENVOY-ORIGINAL-PATH?:PATH}), {@code RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)}, {@code PROTOCOL},
 * {@code RESPONSE_CODE}, {@code RESPONSE_FLAGS}, {@code RESPONSE_CODE_DETAILS}, {@code
 * CONNECTION_TERMINATION_DETAILS}, {@code UPSTREAM_TRANSPORT_FAILURE_REASON}, {@code
 * BYTES_RECEIVED}, {@code BYTES_SENT}, {@code DURATION}, {@code UPSTREAM_HOST}, {@code
 * UPSTREAM_CLUSTER}, {@code UPSTREAM_CLUSTER_RAW}, {@code UPSTREAM_LOCAL_ADDRESS}, {@code
 * DOWNSTREAM_LOCAL_ADDRESS}, {@code DOWNSTREAM_REMOTE_ADDRESS} (and their {@code _WITHOUT_PORT}
 * forms), {@code REQUESTED_SERVER_NAME}, {@code ROUTE_NAME}; an optional {@code :N} truncates. Any
 * other operator is rejected when compiled (the configuration is NACKed).
 */
public final class LogFormat {
  enum Op {
    LITERAL(false),
    START_TIME(false),
    METHOD(false),
    PATH(false),
    AUTHORITY(false),
    FORWARDED_FOR(false),
    USER_AGENT(false),
    REQUEST_ID(false),
    HEADER(false),
    PROTOCOL(false),
    RESPONSE_CODE(true),
    RESPONSE_FLAGS(false),
    RESPONSE_CODE_DETAILS(false),
    CONNECTION_TERMINATION_DETAILS(false),
    UPSTREAM_TRANSPORT_FAILURE_REASON(false),
    BYTES_RECEIVED(true),
    BYTES_SENT(true),
    DURATION(true),
    UPSTREAM_SERVICE_TIME(false),
    UPSTREAM_HOST(false),
    UPSTREAM_CLUSTER(false),
    UPSTREAM_LOCAL_ADDRESS(false),
    DOWNSTREAM_LOCAL_ADDRESS(false),
    DOWNSTREAM_REMOTE_ADDRESS(false),
    DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT(false),
    DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT(false),
    REQUESTED_SERVER_NAME(false),
    ROUTE_NAME(false);

    final boolean numeric;

    Op(boolean numeric) {
      this.numeric = numeric;
    }
  }

  /**
   * One piece of a format.
   *
   * @param header for {@link Op#HEADER}: the index of the first header in the captured request
   *     headers, and {@code altHeader} of the fallback one ({@code -1} none)
   * @param max {@code :N} truncation, 0 for none
   */
  record Part(Op op, String literal, int header, int altHeader, int max) {}

  private final List<Part> text;
  private final Map<String, List<Part>> json;

  private LogFormat(List<Part> text, Map<String, List<Part>> json) {
    this.text = text;
    this.json = json;
  }

  /**
   * Compiles a text format.
   *
   * @param headers the request headers this connection manager's formats capture (lower case);
   *     headers the format names are added
   * @throws IllegalArgumentException for an unsupported or malformed operator
   */
  public static LogFormat text(String format, List<String> headers) {
    // The writer ends every line; Istio's formats end with the line break Envoy needs.
    String f = format.endsWith("\n") ? format.substring(0, format.length() - 1) : format;
    return new LogFormat(parse(f, headers), null);
  }

  /** Compiles a JSON format: keys in order to their value formats. */
  public static LogFormat json(Map<String, String> fields, List<String> headers) {
    Map<String, List<Part>> out = new LinkedHashMap<>();
    for (Map.Entry<String, String> e : fields.entrySet()) {
      out.put(e.getKey(), parse(e.getValue(), headers));
    }
    return new LogFormat(null, out);
  }

  private static List<Part> parse(String f, List<String> headers) {
    List<Part> parts = new ArrayList<>();
    StringBuilder lit = new StringBuilder();
    int i = 0;
    while (i < f.length()) {
      char c = f.charAt(i);
      if (c != '%') {
        lit.append(c);
        i++;
        continue;
      }
      if (i + 1 < f.length() && f.charAt(i + 1) == '%') {
        lit.append('%');
        i += 2;
        continue;
      }
      int end = findEnd(f, i + 1);
      if (end < 0) {
        throw new IllegalArgumentException("unterminated command operator at " + f.substring(i));
      }
      if (!lit.isEmpty()) {
        parts.add(new Part(Op.LITERAL, lit.toString(), -1, -1, 0));
        lit.setLength(0);
      }
      parts.add(operator(f.substring(i + 1, end), headers));
      i = end + 1;
    }
    if (!lit.isEmpty()) {
      parts.add(new Part(Op.LITERAL, lit.toString(), -1, -1, 0));
    }
    return List.copyOf(parts);
  }

  /** The closing {@code %} of an operator starting at {@code from}, skipping {@code (...)}. */
  private static int findEnd(String f, int from) {
    int depth = 0;
    for (int i = from; i < f.length(); i++) {
      char c = f.charAt(i);
      if (c == '(') {
        depth++;
      } else if (c == ')') {
        depth--;
      } else if (c == '%' && depth <= 0) {
        return i;
      }
    }
    return -1;
  }

  private static Part operator(String op, List<String> headers) {
    int max = 0;
    String name = op;
    String arg = null;
    int paren = op.indexOf('(');
    if (paren >= 0) {
      int close = op.lastIndexOf(')');
      if (close < paren) {
        throw new IllegalArgumentException("malformed command operator %" + op + "%");
      }
      name = op.substring(0, paren);
      arg = op.substring(paren + 1, close);
      String rest = op.substring(close + 1);
      if (rest.startsWith(":")) {
        max = length(rest.substring(1), op);
      } else if (!rest.isEmpty()) {
        throw new IllegalArgumentException("malformed command operator %" + op + "%");
      }
    } else {
      int colon = op.indexOf(':');
      if (colon >= 0) {
        name = op.substring(0, colon);
        max = length(op.substring(colon + 1), op);
      }
    }
    switch (name) {
      case "REQ" -> {
        return header(arg, max, headers, op);
      }
      case "RESP" -> {
        if (arg != null && arg.equalsIgnoreCase("x-envoy-upstream-service-time")) {
          return new Part(Op.UPSTREAM_SERVICE_TIME, null, -1, -1, max);
        }
        throw new IllegalArgumentException(
            "%" + op + "% is not supported (RESP(X-ENVOY-UPSTREAM-SERVICE-TIME) only)");
      }
      case "START_TIME" -> {
        if (arg != null && !arg.isEmpty()) {
          throw new IllegalArgumentException(
              "%" + op + "%: START_TIME with a format is not supported");
        }
        return new Part(Op.START_TIME, null, -1, -1, max);
      }
      case "UPSTREAM_CLUSTER_RAW" -> {
        return new Part(Op.UPSTREAM_CLUSTER, null, -1, -1, max);
      }
      default -> {
        if (arg != null) {
          throw new IllegalArgumentException("command operator %" + op + "% is not supported");
        }
        Op o;
        try {
          o = Op.valueOf(name);
        } catch (IllegalArgumentException e) {
          o = null;
        }
        if (o == null
            || o == Op.LITERAL
            || o == Op.HEADER
            || o == Op.METHOD
            || o == Op.PATH
            || o == Op.AUTHORITY
            || o == Op.FORWARDED_FOR
            || o == Op.USER_AGENT
            || o == Op.REQUEST_ID
            || o == Op.UPSTREAM_SERVICE_TIME) {
          throw new IllegalArgumentException("command operator %" + op + "% is not supported");
        }
        return new Part(o, null, -1, -1, max);
      }
    }
  }

  private static int length(String s, String op) {
    try {
      int n = Integer.parseInt(s);
      if (n < 1) {
        throw new NumberFormatException();
      }
      return n;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("%" + op + "%: invalid length " + s);
    }
  }

  private static Part header(String arg, int max, List<String> headers, String op) {
    if (arg == null || arg.isEmpty()) {
      throw new IllegalArgumentException("%" + op + "% names no header");
    }
    String a = arg.toLowerCase(Locale.ROOT);
    String first = a;
    String alt = null;
    int q = a.indexOf('?');
    if (q >= 0) {
      first = a.substring(0, q);
      alt = a.substring(q + 1);
      if (first.isEmpty() || alt.isEmpty() || alt.indexOf('?') >= 0) {
        throw new IllegalArgumentException("%" + op + "%: malformed alternative header");
      }
    }
    if (alt == null || (first.equals("x-envoy-original-path") && alt.equals(":path"))) {
      Op known =
          switch (first) {
            case ":method" -> Op.METHOD;
            case ":path", "x-envoy-original-path" -> alt != null ? Op.PATH : known(first);
            case ":authority", "host" -> Op.AUTHORITY;
            case "x-forwarded-for" -> Op.FORWARDED_FOR;
            case "user-agent" -> Op.USER_AGENT;
            case "x-request-id" -> Op.REQUEST_ID;
            default -> null;
          };
      if (known != null) {
        return new Part(known, null, -1, -1, max);
      }
    }
    if (first.startsWith(":") || (alt != null && alt.startsWith(":"))) {
      throw new IllegalArgumentException("%" + op + "%: pseudo-header not supported");
    }
    return new Part(
        Op.HEADER, null, index(headers, first), alt == null ? -1 : index(headers, alt), max);
  }

  private static Op known(String h) {
    // REQ(:PATH) is the path; REQ(X-ENVOY-ORIGINAL-PATH) alone is that header.
    return h.equals(":path") ? Op.PATH : null;
  }

  private static int index(List<String> headers, String h) {
    int i = headers.indexOf(h);
    if (i < 0) {
      headers.add(h);
      i = headers.size() - 1;
    }
    return i;
  }

  /** Appends {@code e}'s line (JSON without the line break; text as formatted). */
  void append(AccessLogEntry e, StringBuilder sb, AccessLogFormatter f) {
    if (text != null) {
      for (Part p : text) {
        appendValue(p, e, sb, f, true);
      }
      return;
    }
    sb.append('{');
    boolean firstKey = true;
    for (Map.Entry<String, List<Part>> kv : json.entrySet()) {
      if (!firstKey) {
        sb.append(',');
      }
      firstKey = false;
      jsonString(sb, kv.getKey());
      sb.append(':');
      List<Part> parts = kv.getValue();
      if (parts.size() == 1 && parts.get(0).op() != Op.LITERAL) {
        Part p = parts.get(0);
        int start = sb.length();
        appendValue(p, e, sb, f, false);
        String v = sb.substring(start);
        sb.setLength(start);
        if (v.isEmpty()) {
          sb.append("null");
        } else if (p.op().numeric) {
          sb.append(v);
        } else {
          jsonString(sb, v);
        }
      } else {
        StringBuilder v = new StringBuilder();
        for (Part p : parts) {
          appendValue(p, e, v, f, true);
        }
        jsonString(sb, v);
      }
    }
    sb.append('}');
  }

  /** One part's value; absent values are {@code -} ({@code dash}) or nothing. */
  private static void appendValue(
      Part p, AccessLogEntry e, StringBuilder sb, AccessLogFormatter f, boolean dash) {
    int start = sb.length();
    switch (p.op()) {
      case LITERAL -> sb.append(p.literal());
      case START_TIME -> f.appendStart(e.startMillis(), sb);
      case METHOD -> str(sb, e.method());
      case PATH -> str(sb, e.path());
      case AUTHORITY -> str(sb, e.authority());
      case FORWARDED_FOR -> str(sb, e.forwardedFor());
      case USER_AGENT -> str(sb, e.userAgent());
      case REQUEST_ID -> str(sb, e.requestId());
      case HEADER -> {
        String[] h = e.requestHeaders();
        String v = h != null && p.header() < h.length ? h[p.header()] : null;
        if (v == null && p.altHeader() >= 0 && h != null && p.altHeader() < h.length) {
          v = h[p.altHeader()];
        }
        str(sb, v);
      }
      case PROTOCOL -> str(sb, e.protocol());
      case RESPONSE_CODE -> sb.append(e.code());
      case RESPONSE_FLAGS -> str(sb, e.flags());
      case RESPONSE_CODE_DETAILS -> str(sb, e.details());
      case CONNECTION_TERMINATION_DETAILS -> {}
      case UPSTREAM_TRANSPORT_FAILURE_REASON -> str(sb, e.upstreamTransportFailureReason());
      case BYTES_RECEIVED -> sb.append(e.bytesReceived());
      case BYTES_SENT -> sb.append(e.bytesSent());
      case DURATION -> sb.append(e.durationMillis());
      case UPSTREAM_SERVICE_TIME -> {
        if (e.upstreamServiceTime() >= 0) {
          sb.append(e.upstreamServiceTime());
        }
      }
      case UPSTREAM_HOST -> str(sb, e.upstreamHost());
      case UPSTREAM_CLUSTER -> str(sb, e.upstreamCluster());
      case UPSTREAM_LOCAL_ADDRESS -> address(sb, f, e.upstreamLocal(), true);
      case DOWNSTREAM_LOCAL_ADDRESS -> address(sb, f, e.downstreamLocal(), true);
      case DOWNSTREAM_REMOTE_ADDRESS -> address(sb, f, e.downstreamRemote(), true);
      case DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT -> address(sb, f, e.downstreamLocal(), false);
      case DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT -> address(sb, f, e.downstreamRemote(), false);
      case REQUESTED_SERVER_NAME -> str(sb, e.requestedServerName());
      case ROUTE_NAME -> str(sb, e.routeName());
    }
    if (p.max() > 0 && sb.length() - start > p.max()) {
      sb.setLength(start + p.max());
    }
    if (dash && sb.length() == start && p.op() != Op.LITERAL) {
      sb.append('-');
    }
  }

  private static void str(StringBuilder sb, String v) {
    if (v != null && !v.isEmpty() && !(v.equals("-"))) {
      sb.append(v);
    }
  }

  private static void address(
      StringBuilder sb, AccessLogFormatter f, java.net.SocketAddress a, boolean port) {
    if (a == null) {
      return;
    }
    if (!port && a instanceof java.net.InetSocketAddress i && i.getAddress() != null) {
      sb.append(i.getAddress().getHostAddress());
      return;
    }
    sb.append(f.address(a));
  }

  private static void jsonString(StringBuilder sb, CharSequence s) {
    JsonStrings.append(sb, s);
  }

  /** Whether this is a JSON format (its lines need a line break appended). */
  boolean isJson() {
    return json != null;
  }
}
