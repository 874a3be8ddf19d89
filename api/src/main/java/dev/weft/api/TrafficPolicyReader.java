package dev.weft.api;

import dev.weft.api.networking.TrafficPolicy;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads and validates a DestinationRule TrafficPolicy (Istio's validateTrafficPolicy,
 * validateLoadBalancer, validateConnectionPool, validateOutlierDetection, validateTLS and the CRD
 * schema). The fields stay validated documents in the model.
 */
final class TrafficPolicyReader {
  private TrafficPolicyReader() {}

  static TrafficPolicy read(Fields parent, String key) {
    Fields t = parent.object(key);
    if (t == null) {
      return null;
    }
    if (t.map().isEmpty()) {
      t.error("traffic policy must have at least one field");
    }
    Map<String, Object> lb = loadBalancer(t);
    Map<String, Object> pool = connectionPool(t);
    Map<String, Object> outlier = outlierDetection(t);
    Map<String, Object> tls = clientTls(t);
    List<Map<String, Object>> ports = new ArrayList<>();
    for (Fields p : t.objects("portLevelSettings")) {
      Fields port = p.object("port");
      if (port == null) {
        p.error("portTrafficPolicy must have valid port");
      } else {
        Checks.port(port, "number", port.longValue("number", 0));
        port.end();
      }
      loadBalancer(p);
      connectionPool(p);
      outlierDetection(p);
      clientTls(p);
      p.end();
      ports.add(p.map());
    }
    Fields tunnel = t.object("tunnel");
    if (tunnel != null) {
      Checks.oneOf(tunnel, "protocol", Set.of("CONNECT", "POST"));
      String host = tunnel.requiredString("targetHost");
      if (!host.isEmpty() && !Names.isIp(host) && Names.fqdn(host) != null) {
        tunnel.error("targetHost", Names.fqdn(host));
      }
      Checks.port(tunnel, "targetPort", tunnel.longValue("targetPort", 0));
      tunnel.end();
    }
    Fields pp = t.object("proxyProtocol");
    if (pp != null) {
      Checks.oneOf(pp, "version", Set.of("V1", "V2"));
      pp.end();
    }
    Fields budget = t.object("retryBudget");
    if (budget != null) {
      Double pct = budget.number("percent");
      if (pct != null) {
        Checks.percent(budget, "percent", pct);
      }
      budget.longValue("minRetryConcurrency", 0);
      budget.end();
    }
    t.end();
    return new TrafficPolicy(
        lb,
        pool,
        outlier,
        tls,
        Collections.unmodifiableList(ports),
        t.rawObject("tunnel"),
        t.rawObject("proxyProtocol"));
  }

  private static Map<String, Object> loadBalancer(Fields t) {
    Fields lb = t.object("loadBalancer");
    if (lb == null) {
      return null;
    }
    boolean simple = lb.has("simple");
    Checks.oneOf(
        lb,
        "simple",
        Set.of(
            "UNSPECIFIED", "LEAST_CONN", "RANDOM", "PASSTHROUGH", "ROUND_ROBIN", "LEAST_REQUEST"));
    Fields ch = lb.object("consistentHash");
    if (simple && ch != null) {
      lb.error("only one of simple or consistentHash may be set");
    }
    if (ch != null) {
      int keys = 0;
      if (ch.has("httpHeaderName")) {
        keys++;
        ch.string("httpHeaderName");
      }
      Fields cookie = ch.object("httpCookie");
      if (cookie != null) {
        keys++;
        cookie.requiredString("name");
        cookie.string("path");
        cookie.raw("ttl");
        if (cookie.raw("ttl") instanceof String) {
          cookie.duration("ttl");
        }
        for (Fields a : cookie.objects("attributes")) {
          // Envoy's CookieAttribute: HTTP header name and value rules (no NUL, CR or LF).
          String n = a.requiredString("name");
          if (n != null && n.chars().anyMatch(c -> c == 0 || c == '\r' || c == '\n')) {
            a.error("name", "must not contain NUL, CR or LF");
          }
          String v = a.string("value");
          if (v != null && v.chars().anyMatch(c -> c == 0 || c == '\r' || c == '\n')) {
            a.error("value", "must not contain NUL, CR or LF");
          }
          a.end();
        }
        cookie.end();
      }
      if (ch.has("useSourceIp")) {
        keys++;
        ch.bool("useSourceIp");
      }
      if (ch.has("httpQueryParameterName")) {
        keys++;
        ch.string("httpQueryParameterName");
      }
      if (keys > 1) {
        ch.error(
            "only one of httpHeaderName, httpCookie, useSourceIp or httpQueryParameterName may be"
                + " set");
      }
      Fields ring = ch.object("ringHash");
      if (ring != null) {
        ring.longValue("minimumRingSize", 0);
        ring.end();
      }
      Fields maglev = ch.object("maglev");
      if (maglev != null) {
        long size = maglev.longValue("tableSize", 0);
        if (maglev.has("tableSize") && !isPrime(size)) {
          maglev.error("tableSize", "tableSize must be a prime number for maglev");
        }
        maglev.end();
      }
      if (ring != null && maglev != null) {
        ch.error("only one of ringHash or maglev may be set");
      }
      ch.longValue("minimumRingSize", 0);
      ch.end();
    }
    Fields loc = lb.object("localityLbSetting");
    if (loc != null) {
      Object distribute = loc.raw("distribute");
      if (distribute != null) {
        for (Fields d : loc.objects("distribute")) {
          d.string("from");
          Object to = d.raw("to");
          if (to != null && !(to instanceof Map)) {
            d.error("to", "must be an object, not " + Fields.typeName(to));
          }
          d.end();
        }
      }
      for (Fields f : loc.objects("failover")) {
        f.string("from");
        f.string("to");
        f.end();
      }
      loc.strings("failoverPriority");
      loc.bool("enabled");
      loc.end();
    }
    lb.duration("warmupDurationSecs");
    Fields warm = lb.object("warmup");
    if (warm != null) {
      if (!warm.has("duration")) {
        warm.error("duration", "Required value");
      }
      warm.duration("duration");
      Double min = warm.number("minimumPercent");
      if (min != null && (min < 0 || min > 100)) {
        warm.error(
            "minimumPercent",
            "Invalid value: minimumPercent value should be less than or equal to" + " 100");
      }
      Double aggression = warm.number("aggression");
      if (aggression != null && aggression < 1) {
        warm.error("aggression", "Invalid value: aggression must be greater than or equal to 1");
      }
      warm.end();
    }
    if (lb.has("warmupDurationSecs") && warm != null) {
      lb.error("only one of warmupDurationSecs or warmup may be set");
    }
    lb.end();
    return lb.map();
  }

  private static boolean isPrime(long n) {
    if (n < 2) {
      return false;
    }
    for (long i = 2; i * i <= n; i++) {
      if (n % i == 0) {
        return false;
      }
    }
    return true;
  }

  private static Map<String, Object> connectionPool(Fields t) {
    Fields pool = t.object("connectionPool");
    if (pool == null) {
      return null;
    }
    if (pool.map().isEmpty()) {
      pool.error("connection pool must have at least one field");
    }
    Fields tcp = pool.object("tcp");
    if (tcp != null) {
      nonNegative(tcp, "maxConnections", "max connections");
      tcp.duration("connectTimeout");
      Fields ka = tcp.object("tcpKeepalive");
      if (ka != null) {
        nonNegative(ka, "probes", "tcp keepalive probes");
        ka.duration("time");
        ka.duration("interval");
        ka.end();
      }
      tcp.duration("maxConnectionDuration");
      tcp.duration("idleTimeout");
      tcp.end();
    }
    Fields http = pool.object("http");
    if (http != null) {
      nonNegative(http, "http1MaxPendingRequests", "http1 max pending requests");
      nonNegative(http, "http2MaxRequests", "http2 max requests");
      nonNegative(http, "maxRequestsPerConnection", "max requests per connection");
      nonNegative(http, "maxRetries", "max retries");
      nonNegative(http, "maxConcurrentStreams", "max concurrent streams");
      http.duration("idleTimeout");
      String h2 =
          Checks.oneOf(http, "h2UpgradePolicy", Set.of("DEFAULT", "DO_NOT_UPGRADE", "UPGRADE"));
      boolean useClient = http.bool("useClientProtocol");
      if (h2.equals("UPGRADE") && useClient) {
        http.error("use client protocol must not be true when H2UpgradePolicy is UPGRADE");
      }
      Fields ka = http.object("http2KeepAlive");
      if (ka != null) {
        ka.duration("interval");
        ka.duration("timeout");
        ka.end();
      }
      http.end();
    }
    pool.end();
    return pool.map();
  }

  private static void nonNegative(Fields f, String key, String what) {
    if (f.has(key) && f.longValue(key, 0) < 0) {
      f.error(key, what + " must be non-negative");
    }
  }

  private static Map<String, Object> outlierDetection(Fields t) {
    Fields o = t.object("outlierDetection");
    if (o == null) {
      return null;
    }
    nonNegative(o, "consecutiveErrors", "outlier detection consecutive errors");
    nonNegative(o, "consecutiveGatewayErrors", "outlier detection consecutive gateway errors");
    nonNegative(o, "consecutive5xxErrors", "outlier detection consecutive 5xx errors");
    nonNegative(o, "consecutiveLocalOriginFailures", "outlier detection local origin failures");
    o.bool("splitExternalLocalOriginErrors");
    o.duration("interval");
    o.duration("baseEjectionTime");
    if (o.has("maxEjectionPercent")) {
      Checks.percent(o, "maxEjectionPercent", o.longValue("maxEjectionPercent", 0));
    }
    if (o.has("minHealthPercent")) {
      Checks.percent(o, "minHealthPercent", o.longValue("minHealthPercent", 0));
    }
    o.end();
    return o.map();
  }

  private static Map<String, Object> clientTls(Fields t) {
    Fields tls = t.object("tls");
    if (tls == null) {
      return null;
    }
    Checks.oneOf(tls, "mode", Set.of("DISABLE", "SIMPLE", "MUTUAL", "ISTIO_MUTUAL"));
    tls.string("clientCertificate");
    tls.string("privateKey");
    String ca = tls.string("caCertificates");
    String cred = tls.string("credentialName");
    List<String> sans = tls.strings("subjectAltNames");
    tls.string("sni");
    tls.string("caCrl");
    boolean skip = tls.bool("insecureSkipVerify");
    if (skip && (!ca.isEmpty() || !cred.isEmpty() || !sans.isEmpty())) {
      tls.error(
          "cannot specify CaCertificates or CredentialName or SubjectAltNames when"
              + " InsecureSkipVerify is set true");
    }
    tls.end();
    return tls.map();
  }
}
