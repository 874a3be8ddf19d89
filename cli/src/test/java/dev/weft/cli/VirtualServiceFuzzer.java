package dev.weft.cli;

import dev.weft.api.ResourceWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Random VirtualServices (sometimes with a DestinationRule) over {@link XdsAcceptanceTest#MESH}:
 * every field of Istio's HTTPRoute, with values drawn from what users write, including the ones
 * that Envoy is picky about (plain status codes in {@code retryOn}, rewrites on regex matches,
 * {@code %} in header values, capture groups in regex rewrites). Most cases are valid; validation
 * rejects the rest, which is counted, not failed. Deterministic for a given {@link Random}.
 */
final class VirtualServiceFuzzer {
  private static final List<String> HOSTS =
      List.of(
          "podinfo",
          "podinfo.demo.svc.cluster.local",
          "backend",
          "backend.demo",
          "*.demo.svc.cluster.local",
          "podinfo.example.com",
          "*.example.com",
          "unknown.demo.svc.cluster.local");
  private static final List<String> DESTINATIONS =
      List.of(
          "podinfo",
          "podinfo.demo.svc.cluster.local",
          "backend",
          "backend.demo.svc.cluster.local",
          "istio-ingressgateway.istio-system.svc.cluster.local",
          "nowhere.demo.svc.cluster.local");
  private static final List<String> SAFE_REGEXES =
      List.of("/api/.*", "^/v[0-9]+/.*$", "/(a|b)/c", ".*\\.png", "/[^/]+/items/[0-9]+", "(?i)/x");
  private static final List<String> RETRY_ON =
      List.of(
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
          "unavailable",
          "503",
          "429",
          "500",
          "504",
          "409");
  private static final List<String> HEADER_NAMES =
      List.of("x-a", "x-b", "x-request-id", "user-agent", "host", "x-forwarded-for");
  private static final List<String> HEADER_VALUES =
      List.of("1", "v", "50%%", "%DOWNSTREAM_REMOTE_ADDRESS%", "a b", "100%", "");

  private final Random random;

  VirtualServiceFuzzer(Random random) {
    this.random = random;
  }

  /** The next case: one or two documents, as JSON (a v1 List) or YAML-free JSON. */
  String next(String name) {
    List<Map<String, Object>> docs = new ArrayList<>();
    docs.add(virtualService(name));
    if (random.nextInt(4) == 0) {
      docs.add(destinationRule(name));
    }
    return ResourceWriter.json(ResourceWriter.list(docs));
  }

  private Map<String, Object> virtualService(String name) {
    Map<String, Object> spec = new LinkedHashMap<>();
    List<String> gateways =
        pick(
            List.of(
                List.<String>of(),
                List.of("mesh"),
                List.of("podinfo-gw"),
                List.of("mesh", "podinfo-gw"),
                List.of("demo/podinfo-gw"),
                List.of("other-gw")));
    boolean mesh = gateways.isEmpty() || gateways.contains("mesh");
    List<String> hosts = new ArrayList<>();
    hosts.add(pick(HOSTS));
    if (random.nextInt(3) == 0) {
      String h = pick(HOSTS);
      if (!h.equals(hosts.get(0)) && !h.startsWith("*") && !hosts.get(0).startsWith("*")) {
        hosts.add(h);
      }
    }
    if (!mesh && random.nextInt(6) == 0) {
      hosts = List.of("*");
    }
    spec.put("hosts", hosts);
    if (!gateways.isEmpty()) {
      spec.put("gateways", gateways);
    }
    List<Object> http = new ArrayList<>();
    int routes = 1 + random.nextInt(4);
    for (int i = 0; i < routes; i++) {
      http.add(httpRoute(gateways));
    }
    spec.put("http", http);
    if (random.nextInt(10) == 0) {
      spec.put("exportTo", List.of(pick(List.of("*", ".", "demo"))));
    }
    return document("networking.istio.io/v1", "VirtualService", name, spec);
  }

  private Map<String, Object> httpRoute(List<String> gateways) {
    Map<String, Object> r = new LinkedHashMap<>();
    if (random.nextBoolean()) {
      r.put("name", pick(List.of("a", "r-1", "default")));
    }
    List<Object> matches = new ArrayList<>();
    int n = random.nextInt(4);
    boolean allPrefix = true;
    for (int i = 0; i < n; i++) {
      Map<String, Object> m = match(gateways);
      if (!(m.get("uri") instanceof Map<?, ?> uri && uri.containsKey("prefix"))) {
        allPrefix = false;
      }
      matches.add(m);
    }
    if (!matches.isEmpty()) {
      r.put("match", matches);
    }
    int action = random.nextInt(10);
    if (action < 7) {
      r.put("route", destinations());
      if (random.nextInt(3) == 0) {
        r.put("rewrite", rewrite());
      }
      if (random.nextInt(3) == 0) {
        r.put("timeout", pick(List.of("1s", "250ms", "30s", "1h")));
      }
      if (random.nextInt(2) == 0) {
        r.put("retries", retries());
      }
      if (random.nextInt(8) == 0) {
        r.put("fault", fault());
      }
      if (random.nextInt(10) == 0) {
        mirror(r);
      }
    } else if (action < 9) {
      Map<String, Object> redirect = new LinkedHashMap<>();
      if (allPrefix && random.nextBoolean()) {
        redirect.put("prefixRewrite", pick(List.of("/", "/new", "/v2/")));
      } else if (random.nextBoolean()) {
        redirect.put("uri", pick(List.of("/", "/moved", "/a/b")));
      }
      if (random.nextBoolean()) {
        redirect.put("authority", pick(List.of("example.com", "podinfo:9898")));
      }
      int portKind = random.nextInt(4);
      if (portKind == 0) {
        redirect.put("port", pick(List.of(80, 8443, 9000)));
      } else if (portKind == 1) {
        redirect.put("derivePort", pick(List.of("FROM_PROTOCOL_DEFAULT", "FROM_REQUEST_PORT")));
      }
      if (random.nextBoolean()) {
        redirect.put("scheme", pick(List.of("http", "https")));
      }
      if (random.nextBoolean()) {
        redirect.put("redirectCode", pick(List.of(301, 302, 303, 307, 308)));
      }
      r.put("redirect", redirect);
    } else {
      Map<String, Object> dr = new LinkedHashMap<>();
      dr.put("status", pick(List.of(200, 204, 404, 418, 503, 599)));
      int body = random.nextInt(3);
      if (body == 1) {
        dr.put("body", Map.of("string", pick(List.of("ok", "down for maintenance", "{}"))));
      } else if (body == 2) {
        dr.put("body", Map.of("bytes", pick(List.of("aGVsbG8=", "AAEC"))));
      }
      r.put("directResponse", dr);
    }
    if (random.nextInt(3) == 0) {
      r.put("headers", headers());
    }
    if (random.nextInt(12) == 0) {
      r.put("corsPolicy", cors());
    }
    return r;
  }

  /** A fault: delay and/or abort (HTTP or gRPC status), with and without percentages. */
  private Map<String, Object> fault() {
    Map<String, Object> f = new LinkedHashMap<>();
    int kind = random.nextInt(3);
    if (kind != 1) {
      Map<String, Object> d = new LinkedHashMap<>();
      d.put("fixedDelay", pick(List.of("1s", "5ms", "250ms")));
      if (random.nextBoolean()) {
        d.put("percentage", Map.of("value", pick(List.of(0.0, 0.5, 10.0, 100.0))));
      }
      f.put("delay", d);
    }
    if (kind != 0) {
      Map<String, Object> a = new LinkedHashMap<>();
      if (random.nextBoolean()) {
        a.put("httpStatus", pick(List.of(200, 418, 503, 599)));
      } else {
        a.put("grpcStatus", pick(List.of("UNAVAILABLE", "OK", "UNAUTHENTICATED")));
      }
      if (random.nextBoolean()) {
        a.put("percentage", Map.of("value", pick(List.of(0.0001, 50.0, 100.0))));
      }
      f.put("abort", a);
    }
    return f;
  }

  /** {@code mirror} with or without a percentage, or {@code mirrors}. */
  private void mirror(Map<String, Object> r) {
    if (random.nextBoolean()) {
      r.put("mirror", Map.of("host", pick(DESTINATIONS)));
      if (random.nextBoolean()) {
        r.put("mirrorPercentage", Map.of("value", pick(List.of(0.0, 5.0, 100.0))));
      }
    } else {
      r.put(
          "mirrors",
          List.of(
              Map.of("destination", Map.of("host", pick(DESTINATIONS))),
              Map.of(
                  "destination",
                  Map.of("host", pick(DESTINATIONS), "subset", "v1"),
                  "percentage",
                  Map.of("value", 25.0))));
    }
  }

  /** A CORS policy with every kind of origin match and the optional fields. */
  private Map<String, Object> cors() {
    Map<String, Object> c = new LinkedHashMap<>();
    c.put(
        "allowOrigins",
        List.of(
            Map.of("exact", "https://a.example"),
            Map.of("prefix", "https://b"),
            Map.of("regex", pick(SAFE_REGEXES))));
    if (random.nextBoolean()) {
      c.put("allowMethods", List.of("GET", "POST"));
      c.put("allowHeaders", List.of("x-a", "content-type"));
      c.put("exposeHeaders", List.of("x-b"));
      c.put("maxAge", pick(List.of("24h", "1s", "500ms")));
      c.put("allowCredentials", random.nextBoolean());
    }
    if (random.nextBoolean()) {
      c.put("unmatchedPreflights", pick(List.of("FORWARD", "IGNORE", "UNSPECIFIED")));
    }
    return c;
  }

  private Map<String, Object> match(List<String> gateways) {
    Map<String, Object> m = new LinkedHashMap<>();
    if (random.nextInt(5) > 0) {
      m.put("uri", uri());
    }
    if (random.nextInt(4) == 0) {
      m.put(
          "method", stringMatch(List.of("GET", "POST", "PUT"), List.of("P"), List.of("GET|HEAD")));
    }
    if (random.nextInt(6) == 0) {
      m.put(
          "authority",
          stringMatch(List.of("podinfo", "podinfo.example.com"), List.of("pod"), List.of("pod.*")));
    }
    if (random.nextInt(8) == 0) {
      m.put("scheme", stringMatch(List.of("http", "https"), List.of("http"), List.of("https?")));
    }
    if (random.nextInt(3) == 0) {
      m.put("headers", matchMap(List.of("x-canary", "x-user", "cookie", "user-agent")));
    }
    if (random.nextInt(6) == 0) {
      m.put("withoutHeaders", matchMap(List.of("x-debug", "x-test")));
    }
    if (random.nextInt(6) == 0) {
      m.put("queryParams", matchMap(List.of("q", "version", "a.b")));
    }
    if (random.nextInt(6) == 0) {
      m.put("ignoreUriCase", random.nextBoolean());
    }
    if (random.nextInt(6) == 0) {
      m.put("port", pick(List.of(80, 8000, 443, 9000)));
    }
    if (random.nextInt(8) == 0 && !gateways.isEmpty()) {
      m.put("gateways", List.of(pick(gateways)));
    }
    if (random.nextInt(10) == 0) {
      m.put("sourceLabels", Map.of("app", "curl"));
    }
    if (random.nextInt(12) == 0) {
      m.put("sourceNamespace", "demo");
    }
    if (random.nextInt(4) == 0) {
      m.put("name", pick(List.of("m", "canary", "m-2")));
    }
    return m;
  }

  private Map<String, Object> uri() {
    return stringMatch(
        List.of("/", "/a", "/api/v1", "/healthz", "/a%20b"),
        List.of("/", "/api", "/v1/", "/static"),
        SAFE_REGEXES);
  }

  private Map<String, Object> stringMatch(
      List<String> exact, List<String> prefix, List<String> regex) {
    return switch (random.nextInt(3)) {
      case 0 -> Map.of("exact", pick(exact));
      case 1 -> Map.of("prefix", pick(prefix));
      default -> Map.of("regex", pick(regex));
    };
  }

  private Map<String, Object> matchMap(List<String> names) {
    Map<String, Object> m = new LinkedHashMap<>();
    int n = 1 + random.nextInt(2);
    for (int i = 0; i < n; i++) {
      m.put(
          pick(names),
          random.nextInt(6) == 0
              ? Map.of()
              : stringMatch(
                  List.of("true", "jason", "", "1"),
                  List.of("tr", "Mozilla"),
                  List.of("v[0-9]+", ".*")));
    }
    return m;
  }

  private List<Object> destinations() {
    List<Object> out = new ArrayList<>();
    int n = 1 + (random.nextInt(3) == 0 ? 1 + random.nextInt(2) : 0);
    int total = 0;
    for (int i = 0; i < n; i++) {
      Map<String, Object> dest = new LinkedHashMap<>();
      dest.put("host", pick(DESTINATIONS));
      if (random.nextInt(3) == 0) {
        dest.put("subset", pick(List.of("v1", "v2", "v3")));
      }
      if (random.nextInt(3) == 0) {
        dest.put("port", Map.of("number", pick(List.of(80, 8000, 9000, 5432, 1234))));
      }
      Map<String, Object> d = new LinkedHashMap<>();
      d.put("destination", dest);
      if (n > 1 || random.nextInt(4) == 0) {
        int w = pick(List.of(0, 10, 50, 90, 100, 550));
        total += w;
        d.put("weight", i == n - 1 && total == 0 ? 1 : w);
      }
      if (random.nextInt(6) == 0) {
        d.put("headers", headers());
      }
      out.add(d);
    }
    return out;
  }

  private Map<String, Object> rewrite() {
    Map<String, Object> r = new LinkedHashMap<>();
    int kind = random.nextInt(3);
    if (kind == 0) {
      r.put("uri", pick(List.of("/", "/new", "/v2/api", "/a\\b")));
    } else if (kind == 1) {
      r.put(
          "uriRegexRewrite",
          Map.of(
              "match",
              pick(List.of("^/api/(.*)$", "^/(v[0-9]+)/(.*)$", "/old", "^/a/.*$")),
              "rewrite",
              pick(List.of("/\\1", "/\\2/\\1", "/new", "/x\\\\y", "/\\3"))));
    }
    if (kind == 2 || random.nextBoolean()) {
      r.put("authority", pick(List.of("podinfo.demo", "example.com")));
    }
    return r;
  }

  private Map<String, Object> retries() {
    Map<String, Object> r = new LinkedHashMap<>();
    int attempts = random.nextInt(6);
    r.put("attempts", attempts);
    if (attempts == 0) {
      return r;
    }
    if (random.nextInt(4) > 0) {
      List<String> on = new ArrayList<>();
      int n = 1 + random.nextInt(4);
      for (int i = 0; i < n; i++) {
        String c = pick(RETRY_ON);
        if (!on.contains(c)) {
          on.add(c);
        }
      }
      r.put("retryOn", String.join(",", on));
    }
    if (random.nextBoolean()) {
      r.put("perTryTimeout", pick(List.of("1s", "100ms", "2s")));
    }
    if (random.nextInt(3) == 0) {
      r.put("backoff", pick(List.of("10ms", "250ms", "1s")));
    }
    if (random.nextInt(4) == 0) {
      r.put("retryIgnorePreviousHosts", random.nextBoolean());
    }
    if (random.nextInt(6) == 0) {
      r.put("retryRemoteLocalities", random.nextBoolean());
    }
    return r;
  }

  private Map<String, Object> headers() {
    Map<String, Object> h = new LinkedHashMap<>();
    for (String dir : List.of("request", "response")) {
      if (random.nextBoolean()) {
        continue;
      }
      Map<String, Object> ops = new LinkedHashMap<>();
      if (random.nextBoolean()) {
        ops.put("set", Map.of(pick(HEADER_NAMES), pick(HEADER_VALUES)));
      }
      if (random.nextBoolean()) {
        ops.put("add", Map.of(pick(HEADER_NAMES), pick(HEADER_VALUES)));
      }
      if (random.nextBoolean()) {
        ops.put("remove", List.of(pick(HEADER_NAMES)));
      }
      h.put(dir, ops);
    }
    return h;
  }

  private Map<String, Object> destinationRule(String name) {
    Map<String, Object> spec = new LinkedHashMap<>();
    spec.put("host", pick(List.of("backend", "backend.demo.svc.cluster.local", "nowhere")));
    List<Object> subsets = new ArrayList<>();
    for (String s : List.of("v1", "v2", "v3")) {
      if (random.nextBoolean()) {
        subsets.add(Map.of("name", s, "labels", Map.of("version", s)));
      }
    }
    if (!subsets.isEmpty()) {
      spec.put("subsets", subsets);
    }
    if (random.nextBoolean()) {
      spec.put(
          "trafficPolicy",
          pick(
              List.of(
                  Map.of("loadBalancer", Map.of("simple", "ROUND_ROBIN")),
                  Map.of("loadBalancer", Map.of("simple", "LEAST_REQUEST")),
                  Map.of("tls", Map.of("mode", "DISABLE")),
                  Map.of("connectionPool", Map.of("tcp", Map.of("maxConnections", 10))))));
    }
    if (random.nextInt(4) == 0) {
      spec.put("workloadSelector", Map.of("matchLabels", Map.of("app", "podinfo")));
    }
    return document("networking.istio.io/v1", "DestinationRule", name, spec);
  }

  private static Map<String, Object> document(
      String apiVersion, String kind, String name, Map<String, Object> spec) {
    Map<String, Object> d = new LinkedHashMap<>();
    d.put("apiVersion", apiVersion);
    d.put("kind", kind);
    d.put("metadata", Map.of("name", name, "namespace", "demo"));
    d.put("spec", spec);
    return d;
  }

  private <T> T pick(List<T> values) {
    return values.get(random.nextInt(values.size()));
  }
}
