package dev.weft.api;

import dev.weft.api.networking.Delegate;
import dev.weft.api.networking.Destination;
import dev.weft.api.networking.Headers;
import dev.weft.api.networking.HttpDirectResponse;
import dev.weft.api.networking.HttpFaultInjection;
import dev.weft.api.networking.HttpMatchRequest;
import dev.weft.api.networking.HttpMirrorPolicy;
import dev.weft.api.networking.HttpRedirect;
import dev.weft.api.networking.HttpRetry;
import dev.weft.api.networking.HttpRewrite;
import dev.weft.api.networking.HttpRoute;
import dev.weft.api.networking.HttpRouteDestination;
import dev.weft.api.networking.PortSelector;
import dev.weft.api.networking.StringMatch;
import dev.weft.api.networking.VirtualService;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Reads and validates a VirtualService spec as Istio's validation webhook does (virtualservice.go).
 */
final class VirtualServiceReader {
  // Envoy's retry_on conditions (router filter), as Istio's supportedRetryOnPolicies.
  private static final Set<String> RETRY_ON =
      Set.of(
          "5xx",
          "gateway-error",
          "reset",
          "reset-before-request",
          "connect-failure",
          "envoy-ratelimited",
          "retriable-4xx",
          "refused-stream",
          "retriable-status-codes",
          "retriable-headers",
          "http3-post-connect-failure",
          "cancelled",
          "deadline-exceeded",
          "internal",
          "resource-exhausted",
          "unavailable");
  private static final Set<String> GRPC_STATUS =
      Set.of(
          "OK",
          "CANCELLED",
          "UNKNOWN",
          "INVALID_ARGUMENT",
          "DEADLINE_EXCEEDED",
          "NOT_FOUND",
          "ALREADY_EXISTS",
          "PERMISSION_DENIED",
          "RESOURCE_EXHAUSTED",
          "FAILED_PRECONDITION",
          "ABORTED",
          "OUT_OF_RANGE",
          "UNIMPLEMENTED",
          "INTERNAL",
          "UNAVAILABLE",
          "DATA_LOSS",
          "UNAUTHENTICATED");

  private VirtualServiceReader() {}

  static VirtualService read(Fields s) {
    List<String> hosts = s.strings("hosts");
    List<String> gateways = s.strings("gateways");
    boolean delegate = !s.has("hosts") || hosts.isEmpty();
    boolean mesh = gateways.isEmpty() || gateways.contains("mesh");
    for (int i = 0; i < hosts.size(); i++) {
      String h = hosts.get(i);
      String p = Fields.index(s.path("hosts"), i);
      if (h.equals("*")) {
        if (mesh) {
          s.problems()
              .add(
                  p,
                  "wildcard host * is not allowed for virtual services bound to the mesh gateway");
        }
      } else if (!Names.isIp(h)) {
        String err = Names.wildcardDomain(h);
        if (err != null) {
          s.problems().add(p, err);
        }
      }
      for (int j = 0; j < i; j++) {
        if (overlap(hosts.get(j), h)) {
          s.problems().add(p, "duplicate hosts in virtual service: " + hosts.get(j) + " & " + h);
          break;
        }
      }
    }
    for (int i = 0; i < gateways.size(); i++) {
      String err = gatewayName(gateways.get(i));
      if (err != null) {
        s.problems().add(Fields.index(s.path("gateways"), i), err);
      }
    }
    List<HttpRoute> http = new ArrayList<>();
    for (Fields r : s.objects("http")) {
      HttpRoute route = httpRoute(r, mesh, delegate);
      if (route != null) {
        http.add(route);
      }
    }
    List<Map<String, Object>> tls = new ArrayList<>();
    for (Fields r : s.objects("tls")) {
      tlsRoute(r);
      tls.add(r.map());
    }
    List<Map<String, Object>> tcp = new ArrayList<>();
    for (Fields r : s.objects("tcp")) {
      tcpRoute(r);
      tcp.add(r.map());
    }
    List<String> exportTo = Checks.exportTo(s);
    if (!s.has("http") && !s.has("tcp") && !s.has("tls")) {
      s.error("http, tcp or tls must be provided in virtual service");
    }
    if (delegate) {
      if (!gateways.isEmpty()) {
        s.error("gateways", "delegate virtual service must have no gateways specified");
      }
      if (!tls.isEmpty()) {
        s.error("tls", "delegate virtual service must have no tls route specified");
      }
      if (!tcp.isEmpty()) {
        s.error("tcp", "delegate virtual service must have no tcp route specified");
      }
    }
    s.end();
    return new VirtualService(
        hosts,
        gateways,
        List.copyOf(http),
        Collections.unmodifiableList(tls),
        Collections.unmodifiableList(tcp),
        exportTo);
  }

  /** Whether two hosts of one VirtualService overlap (Istio: a wildcard overlap is a duplicate). */
  static boolean overlap(String a, String b) {
    String la = a.toLowerCase(Locale.ROOT);
    String lb = b.toLowerCase(Locale.ROOT);
    if (la.equals(lb)) {
      return true;
    }
    return covers(la, lb) || covers(lb, la);
  }

  private static boolean covers(String wildcard, String other) {
    if (!wildcard.startsWith("*")) {
      return false;
    }
    String suffix = wildcard.substring(1);
    String o = other.startsWith("*") ? other.substring(1) : other;
    return o.endsWith(suffix);
  }

  /** Istio's validateGatewayNames: {@code mesh}, {@code name}, {@code ns/name}. */
  static String gatewayName(String g) {
    if (g.equals("mesh")) {
      return null;
    }
    int slash = g.indexOf('/');
    if (slash >= 0) {
      String ns = g.substring(0, slash);
      String name = g.substring(slash + 1);
      if (!Names.isDns1123Label(ns)) {
        return "invalid value for namespace: \"" + ns + "\"";
      }
      if (!Names.isDns1123Label(name) && Names.fqdn(name) != null) {
        return "invalid value for gateway name: \"" + name + "\"";
      }
      return null;
    }
    if (!Names.isDns1123Label(g) && Names.fqdn(g) != null) {
      return "invalid value for gateway name: \"" + g + "\": " + Names.fqdn(g);
    }
    return null;
  }

  private static HttpRoute httpRoute(Fields r, boolean mesh, boolean delegateVs) {
    String name = r.string("name");
    List<HttpMatchRequest> matches = new ArrayList<>();
    for (Fields m : r.objects("match")) {
      matches.add(matchRequest(m, mesh));
    }
    List<HttpRouteDestination> route = new ArrayList<>();
    int total = 0;
    for (Fields d : r.objects("route")) {
      HttpRouteDestination rd = routeDestination(d);
      if (rd != null) {
        route.add(rd);
        total += Math.max(0, rd.weight());
      }
    }
    if (route.size() > 1 && total == 0) {
      r.error("route", "total destination weight = 0");
    }
    HttpRedirect redirect = redirect(r, matches);
    Fields dr = r.object("directResponse");
    HttpDirectResponse directResponse = null;
    if (dr != null) {
      int status = dr.intValue("status", 0);
      String bodyString = "";
      String bodyBytes = "";
      if (status < 200 || status > 599) {
        dr.error("status", "directResponse.status must be between 200 and 599");
      }
      Fields body = dr.object("body");
      if (body != null) {
        boolean str = body.has("string");
        boolean bytes = body.has("bytes");
        bodyString = body.string("string");
        bodyBytes = body.string("bytes");
        if (str && bytes) {
          body.error("only one of string or bytes may be set");
        }
        body.end();
      }
      dr.end();
      directResponse = new HttpDirectResponse(status, bodyString, bodyBytes);
    }
    Fields delegate = r.object("delegate");
    Delegate delegateTo = null;
    if (delegate != null) {
      String dn = delegate.requiredString("name");
      if (!dn.isEmpty() && Names.dns1123Subdomain(dn) != null) {
        delegate.error("name", Names.dns1123Subdomain(dn));
      }
      String dns = delegate.string("namespace");
      if (!dns.isEmpty() && !Names.isDns1123Label(dns)) {
        delegate.error("namespace", Names.dns1123Label(dns));
      }
      delegate.end();
      delegateTo = new Delegate(dn, dns);
      if (delegateVs) {
        r.error("delegate", "delegate HTTP route cannot contain delegate");
      }
    }
    HttpRewrite rewrite = rewrite(r);
    Duration timeout = r.duration("timeout");
    HttpRetry retries = retries(r);
    HttpFaultInjection fault = fault(r);
    Destination mirror = null;
    Fields mf = r.object("mirror");
    if (mf != null) {
      mirror = destination(mf);
    }
    List<Fields> mirrors = r.objects("mirrors");
    List<HttpMirrorPolicy> mirrorPolicies = new ArrayList<>();
    for (Fields m : mirrors) {
      Fields md = m.object("destination");
      Destination d = null;
      if (md == null) {
        m.error("destination is required for mirrors");
      } else {
        d = destination(md);
      }
      Double pct = Checks.percentage(m, "percentage");
      m.end();
      mirrorPolicies.add(new HttpMirrorPolicy(d, pct));
    }
    if (mirror != null && !mirrors.isEmpty()) {
      r.error("HTTP route cannot contain both mirror and mirrors");
    }
    Double mirrorPercentage = null;
    Fields mp = r.object("mirrorPercentage");
    if (mp != null) {
      Double v = mp.number("value");
      mp.end();
      mirrorPercentage = v == null ? 0.0 : v;
      if (mirrorPercentage > 100) {
        mp.error("value", "mirror_percentage must have a max value of 100");
      } else if (mirrorPercentage < 0) {
        mp.error("value", "mirror_percentage must have a min value of 0");
      }
    }
    if (r.has("mirrorPercent")) {
      long p = r.longValue("mirrorPercent", 100);
      if (p < 0 || p > 100) {
        r.error("mirrorPercent", "mirror_percent must have a value between 0 and 100");
      } else if (mirrorPercentage == null) {
        mirrorPercentage = (double) p;
      }
    }
    Map<String, Object> cors = corsPolicy(r);
    Headers headers = headers(r, "headers");
    if (rewrite != null
        && !rewrite.authority().isEmpty()
        && headers != null
        && headers.request() != null
        && (containsAuthority(headers.request().set())
            || containsAuthority(headers.request().add()))) {
      r.error("authority header cannot be set multiple times");
    }
    boolean hasRoute = r.has("route");
    if (hasRoute && redirect != null) {
      r.error("HTTP route cannot contain both route and redirect");
    }
    if (hasRoute && dr != null) {
      r.error("HTTP route cannot contain both route and direct response");
    }
    if (redirect != null && dr != null) {
      r.error("HTTP route cannot contain both redirect and direct response");
    }
    if (delegate != null && (hasRoute || redirect != null)) {
      r.error("root HTTP route " + name + " must not specify route or redirect with delegate");
    }
    if (!hasRoute && redirect == null && dr == null && delegate == null) {
      r.error("HTTP route, redirect, direct response or delegate is required");
    }
    r.end();
    return new HttpRoute(
        name,
        List.copyOf(matches),
        List.copyOf(route),
        redirect,
        rewrite,
        timeout,
        retries,
        fault,
        mirror,
        mirrorPercentage,
        headers,
        directResponse,
        delegateTo,
        List.copyOf(mirrorPolicies),
        cors);
  }

  private static boolean containsAuthority(Map<String, String> m) {
    for (String k : m.keySet()) {
      String l = k.toLowerCase(Locale.ROOT);
      if (l.equals(":authority") || l.equals("host")) {
        return true;
      }
    }
    return false;
  }

  private static HttpMatchRequest matchRequest(Fields m, boolean mesh) {
    String name = m.string("name");
    StringMatch uri = stringMatch(m, "uri");
    StringMatch scheme = stringMatch(m, "scheme");
    StringMatch method = stringMatch(m, "method");
    StringMatch authority = stringMatch(m, "authority");
    Map<String, StringMatch> headers = matchMap(m, "headers", mesh);
    Map<String, StringMatch> withoutHeaders = matchMap(m, "withoutHeaders", mesh);
    Map<String, StringMatch> queryParams = matchMap(m, "queryParams", true);
    int port = m.intValue("port", 0);
    if (m.has("port")) {
      Checks.port(m, "port", port);
    }
    Map<String, String> sourceLabels = m.stringMap("sourceLabels");
    Checks.labels(m, "sourceLabels", sourceLabels);
    List<String> gateways = m.strings("gateways");
    for (int i = 0; i < gateways.size(); i++) {
      String err = gatewayName(gateways.get(i));
      if (err != null) {
        m.problems().add(Fields.index(m.path("gateways"), i), err);
      }
    }
    boolean ignoreUriCase = m.bool("ignoreUriCase");
    String sourceNamespace = m.string("sourceNamespace");
    if (!sourceNamespace.isEmpty() && !Names.isDns1123Label(sourceNamespace)) {
      m.error("sourceNamespace", Names.dns1123Label(sourceNamespace));
    }
    m.string("statPrefix");
    m.end();
    return new HttpMatchRequest(
        name,
        uri,
        scheme,
        method,
        authority,
        headers,
        withoutHeaders,
        queryParams,
        port,
        sourceLabels,
        gateways,
        ignoreUriCase,
        sourceNamespace);
  }

  private static Map<String, StringMatch> matchMap(Fields m, String key, boolean mesh) {
    Object raw = m.raw(key);
    if (raw instanceof Map<?, ?> map) {
      for (Map.Entry<?, ?> e : map.entrySet()) {
        String p = Fields.child(m.path(key), String.valueOf(e.getKey()));
        if (e.getValue() == null) {
          m.problems().add(p, "header match " + e.getKey() + " cannot be null");
        } else if (!(e.getValue() instanceof Map)) {
          m.problems()
              .add(
                  p,
                  "must be a StringMatch such as {exact: \""
                      + e.getValue()
                      + "\"}, not "
                      + Fields.typeName(e.getValue()));
        }
      }
    }
    Map<String, StringMatch> out = new LinkedHashMap<>();
    for (Map.Entry<String, Fields> e : m.objectMap(key, true).entrySet()) {
      String name = e.getKey();
      boolean claim = !key.equals("queryParams") && name.startsWith("@request.auth.claims");
      String nameError = key.equals("queryParams") || claim ? null : Checks.headerName(name);
      if (name.isEmpty()) {
        e.getValue().error("header name cannot be empty");
      } else if (nameError != null) {
        e.getValue().error(nameError);
      }
      if (!key.equals("queryParams") && mesh && name.startsWith("@request.auth.claims")) {
        e.getValue()
            .error(
                "JWT claim based routing (key: "
                    + name
                    + ") is only supported for gateway, found no gateways: [mesh]");
      }
      StringMatch sm = readStringMatch(e.getValue(), "\"" + key + "\"");
      String k = key.equals("queryParams") ? name : name.toLowerCase(Locale.ROOT);
      out.put(k, sm);
    }
    return Collections.unmodifiableMap(out);
  }

  private static StringMatch stringMatch(Fields parent, String key) {
    Fields f = parent.object(key);
    return f == null ? null : readStringMatch(f, "\"" + key + "\"");
  }

  /**
   * Istio's StringMatch, a oneOf of exact/prefix/regex. An empty match ({@code {}}) is Istio's
   * "present" match for headers; it is modelled as a prefix match on "".
   */
  static StringMatch readStringMatch(Fields f, String where) {
    int n = 0;
    StringMatch sm = new StringMatch(StringMatch.Type.PREFIX, "");
    if (f.has("exact")) {
      n++;
      sm = new StringMatch(StringMatch.Type.EXACT, f.string("exact"));
    }
    if (f.has("prefix")) {
      n++;
      String p = f.string("prefix");
      if (p.isEmpty()) {
        f.error("prefix", where + ": prefix string match should not be empty");
      }
      sm = new StringMatch(StringMatch.Type.PREFIX, p);
    }
    if (f.has("regex")) {
      n++;
      String re = f.string("regex");
      Checks.regex(f, "regex", re);
      sm = new StringMatch(StringMatch.Type.REGEX, re);
    }
    if (n > 1) {
      f.error("only one of exact, prefix or regex may be set (StringMatch is a oneOf)");
    }
    f.end();
    return sm;
  }

  private static HttpRouteDestination routeDestination(Fields d) {
    Fields df = d.object("destination");
    Destination dest = null;
    if (df == null) {
      if (!d.has("destination")) {
        d.error("destination is required");
      }
    } else {
      dest = destination(df);
    }
    int weight = d.intValue("weight", 0);
    if (weight < 0) {
      d.error("weight", "weight " + weight + " < 0");
    }
    Headers headers = headers(d, "headers");
    d.end();
    return dest == null ? null : new HttpRouteDestination(dest, weight, headers);
  }

  /** Istio's Destination: host required, subset a DNS-1123 label, port 1..65535. */
  static Destination destination(Fields d) {
    String host = d.string("host");
    String err = Names.wildcardDomain(host);
    if (err != null) {
      d.error("host", err);
    }
    String subset = d.string("subset");
    if (!subset.isEmpty() && !Names.isDns1123Label(subset)) {
      d.error("subset", "subset name is invalid: " + Names.dns1123Label(subset));
    }
    PortSelector port = null;
    Fields p = d.object("port");
    if (p != null) {
      int number = p.intValue("number", 0);
      Checks.port(p, "number", number);
      p.end();
      port = new PortSelector(number);
    }
    d.end();
    return new Destination(host, subset, port);
  }

  private static HttpRedirect redirect(Fields r, List<HttpMatchRequest> matches) {
    Fields f = r.object("redirect");
    if (f == null) {
      return null;
    }
    String uri = f.string("uri");
    String authority = f.string("authority");
    int port = f.intValue("port", 0);
    if (f.has("port")) {
      Checks.port(f, "port", port);
    }
    String derive =
        Checks.oneOf(f, "derivePort", Set.of("FROM_PROTOCOL_DEFAULT", "FROM_REQUEST_PORT"));
    if (f.has("port") && !derive.isEmpty()) {
      f.error("only one of port or derivePort may be set");
    }
    String scheme = f.string("scheme");
    int code = f.intValue("redirectCode", 0);
    if (code != 0 && (code < 300 || code > 399)) {
      f.error("redirectCode", code + " is not a valid redirect code, must be 3xx");
    }
    String prefixRewrite = f.string("prefixRewrite");
    if (f.has("prefixRewrite")) {
      String pr = prefixRewrite;
      if (!uri.isEmpty() && !pr.isEmpty()) {
        f.error("only one of uri or prefixRewrite may be set");
      }
      for (HttpMatchRequest m : matches) {
        if (m.uri() == null || m.uri().type() != StringMatch.Type.PREFIX) {
          f.error(
              "prefixRewrite",
              "redirect prefix_rewrite requires all URI matches to use prefix match type");
          break;
        }
      }
    }
    f.end();
    return new HttpRedirect(
        uri, authority, port, scheme, code == 0 ? 301 : code, derive, prefixRewrite);
  }

  private static HttpRewrite rewrite(Fields r) {
    Fields f = r.object("rewrite");
    if (f == null) {
      return null;
    }
    String uri = f.string("uri");
    String authority = f.string("authority");
    Fields rr = f.object("uriRegexRewrite");
    HttpRewrite.RegexRewrite regex = null;
    if (rr != null) {
      String match = rr.string("match");
      Checks.regex(rr, "match", match);
      regex = new HttpRewrite.RegexRewrite(match, rr.string("rewrite"));
      rr.end();
      if (!uri.isEmpty()) {
        f.error("rewrite may only contain one of uri or uriRegexRewrite");
      }
    }
    f.end();
    return new HttpRewrite(uri, authority, regex);
  }

  private static HttpRetry retries(Fields r) {
    Fields f = r.object("retries");
    if (f == null) {
      return null;
    }
    int attempts = f.intValue("attempts", 0);
    Duration perTry = f.duration("perTryTimeout");
    String retryOn = f.string("retryOn");
    boolean remote = f.bool("retryRemoteLocalities");
    Boolean ignorePrevious =
        f.has("retryIgnorePreviousHosts") ? f.bool("retryIgnorePreviousHosts") : null;
    Duration backoff = f.duration("backoff");
    if (attempts < 0) {
      f.error("attempts", "attempts cannot be negative");
    } else if (attempts == 0 && (perTry != null || !retryOn.isEmpty() || remote)) {
      f.error("http retry policy configured when attempts are set to 0 (disabled)");
    }
    if (!retryOn.isEmpty()) {
      for (String policy : retryOn.split(",", -1)) {
        String p = policy.trim();
        if (p.chars().allMatch(Character::isDigit) && !p.isEmpty()) {
          int code = Integer.parseInt(p.length() > 6 ? "0" : p);
          if (code < 100 || code > 599) {
            f.error("retryOn", "\"" + p + "\" is not a valid retryOn status code");
          }
        } else if (!RETRY_ON.contains(p)) {
          f.error("retryOn", "\"" + p + "\" is not a valid retryOn policy");
        }
      }
    }
    f.end();
    return new HttpRetry(attempts, perTry, retryOn, remote, ignorePrevious, backoff);
  }

  private static HttpFaultInjection fault(Fields r) {
    Fields f = r.object("fault");
    if (f == null) {
      return null;
    }
    HttpFaultInjection.Delay delay = null;
    Fields d = f.object("delay");
    if (d != null) {
      Duration fixed = d.duration("fixedDelay");
      Duration exp = d.duration("exponentialDelay");
      if (fixed == null && exp == null && !d.has("fixedDelay") && !d.has("exponentialDelay")) {
        d.error("delay must have a fixedDelay or exponentialDelay");
      }
      if (fixed != null && exp != null) {
        d.error("only one of fixedDelay or exponentialDelay may be set");
      }
      Double pct = Checks.percentage(d, "percentage");
      if (d.has("percent")) {
        long p = d.longValue("percent", 0);
        if (p < 0 || p > 100) {
          d.error("percent", "percentage " + p + " is not in range 0..100");
        }
        if (pct == null) {
          pct = (double) p;
        }
      }
      d.end();
      // Istio: without percentage (or the deprecated percent) no request is delayed; an
      // exponentialDelay is not supported (TranslateFault drops the delay).
      delay = new HttpFaultInjection.Delay(fixed, pct == null ? 0 : pct);
    }
    HttpFaultInjection.Abort abort = null;
    Fields a = f.object("abort");
    if (a != null) {
      int status = a.intValue("httpStatus", 0);
      String grpc = a.string("grpcStatus");
      String h2 = a.string("http2Error");
      int kinds =
          (a.has("httpStatus") ? 1 : 0)
              + (a.has("grpcStatus") ? 1 : 0)
              + (a.has("http2Error") ? 1 : 0);
      if (kinds == 0) {
        a.error("abort must have an httpStatus, grpcStatus or http2Error");
      } else if (kinds > 1) {
        a.error("only one of httpStatus, grpcStatus or http2Error may be set");
      }
      if (a.has("httpStatus") && (status < 200 || status > 599)) {
        a.error("httpStatus", "HTTP status " + status + " is not in range 200-599");
      }
      if (a.has("grpcStatus") && !GRPC_STATUS.contains(grpc)) {
        a.error("grpcStatus", "gRPC status \"" + grpc + "\" is not supported");
      }
      Double pct = Checks.percentage(a, "percentage");
      a.end();
      // Istio: without percentage no request is aborted (Envoy's FaultAbort.percentage is 0).
      abort = new HttpFaultInjection.Abort(status, pct == null ? 0 : pct, grpc);
    }
    if (d == null && a == null) {
      f.error("fault must have at least delay or abort");
    }
    f.end();
    return new HttpFaultInjection(delay, abort);
  }

  private static Map<String, Object> corsPolicy(Fields r) {
    Fields c = r.object("corsPolicy");
    if (c == null) {
      return null;
    }
    List<Object> origins = c.list("allowOrigins");
    if (origins != null) {
      for (int i = 0; i < origins.size(); i++) {
        Fields o = Fields.of(c.problems(), Fields.index(c.path("allowOrigins"), i), origins.get(i));
        if (o != null) {
          readStringMatch(o, "\"allowOrigins\"");
        }
      }
    }
    c.strings("allowOrigin");
    c.strings("allowMethods");
    c.strings("allowHeaders");
    c.strings("exposeHeaders");
    c.duration("maxAge");
    c.bool("allowCredentials");
    Checks.oneOf(c, "unmatchedPreflights", Set.of("UNSPECIFIED", "FORWARD", "IGNORE"));
    c.end();
    return c.map();
  }

  static Headers headers(Fields parent, String key) {
    Fields h = parent.object(key);
    if (h == null) {
      return null;
    }
    Headers.HeaderOperations req = headerOps(h, "request");
    Headers.HeaderOperations resp = headerOps(h, "response");
    h.end();
    return new Headers(req, resp);
  }

  private static Headers.HeaderOperations headerOps(Fields h, String key) {
    Fields f = h.object(key);
    if (f == null) {
      return null;
    }
    Map<String, String> set = f.stringMap("set");
    Map<String, String> add = f.stringMap("add");
    List<String> remove = f.strings("remove");
    for (String k : List.of("set", "add")) {
      for (String name : (k.equals("set") ? set : add).keySet()) {
        String err = Checks.headerName(name);
        if (err != null) {
          f.problems().add(Fields.child(f.path(k), name), err);
        }
      }
    }
    for (int i = 0; i < remove.size(); i++) {
      String err = Checks.headerName(remove.get(i));
      if (err != null) {
        f.problems().add(Fields.index(f.path("remove"), i), err);
      }
    }
    f.end();
    return new Headers.HeaderOperations(set, add, remove);
  }

  private static void tcpRoute(Fields r) {
    for (Fields m : r.objects("match")) {
      l4Match(m);
      m.end();
    }
    l4Routes(r, "TCP route is required");
    r.end();
  }

  private static void tlsRoute(Fields r) {
    List<Fields> matches = r.objects("match");
    if (matches.isEmpty()) {
      r.error("TLS route must have at least one match condition");
    }
    for (Fields m : matches) {
      List<String> sni = m.strings("sniHosts");
      if (sni.isEmpty()) {
        m.error("sniHosts", "TLS match must have at least one SNI host");
      }
      for (int i = 0; i < sni.size(); i++) {
        String h = sni.get(i);
        if (!h.equals("*") && !Names.isIp(h)) {
          String err = Names.wildcardDomain(h);
          if (err != null) {
            m.problems().add(Fields.index(m.path("sniHosts"), i), err);
          }
        }
      }
      l4Match(m);
      m.end();
    }
    l4Routes(r, "TLS route is required");
    r.end();
  }

  private static void l4Match(Fields m) {
    List<String> subnets = m.strings("destinationSubnets");
    for (int i = 0; i < subnets.size(); i++) {
      if (!Names.isIpOrCidr(subnets.get(i))) {
        m.problems()
            .add(
                Fields.index(m.path("destinationSubnets"), i),
                "\"" + subnets.get(i) + "\" is not a valid IP address or CIDR block");
      }
    }
    if (m.has("port")) {
      Checks.port(m, "port", m.longValue("port", 0));
    }
    Checks.labels(m, "sourceLabels", m.stringMap("sourceLabels"));
    List<String> gateways = m.strings("gateways");
    for (int i = 0; i < gateways.size(); i++) {
      String err = gatewayName(gateways.get(i));
      if (err != null) {
        m.problems().add(Fields.index(m.path("gateways"), i), err);
      }
    }
    m.string("sourceNamespace");
    m.string("sourceSubnet");
  }

  private static void l4Routes(Fields r, String required) {
    List<Fields> routes = r.objects("route");
    if (routes.isEmpty()) {
      r.error(required);
    }
    long total = 0;
    for (Fields d : routes) {
      Fields df = d.object("destination");
      if (df == null) {
        if (!d.has("destination")) {
          d.error("destination is required");
        }
      } else {
        destination(df);
      }
      long w = d.intValue("weight", 0);
      if (w < 0) {
        d.error("weight", "weight " + w + " < 0");
      }
      total += Math.max(0, w);
      d.end();
    }
    if (routes.size() > 1 && total == 0) {
      r.error("route", "total destination weight = 0");
    }
  }
}
