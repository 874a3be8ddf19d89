package dev.weft.api;

import dev.weft.api.security.AuthorizationPolicy;
import dev.weft.api.security.PeerAuthentication;
import dev.weft.api.security.PolicyTargetReference;
import dev.weft.api.security.RequestAuthentication;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Reads and validates PeerAuthentication, AuthorizationPolicy and RequestAuthentication specs
 * (Istio validation.go, pkg/config/security and the CRD schemas).
 */
final class SecurityReaders {
  private static final Set<String> MTLS_MODES = Set.of("UNSET", "DISABLE", "PERMISSIVE", "STRICT");
  private static final Pattern GROUP =
      Pattern.compile("|[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");
  private static final Pattern KIND = Pattern.compile("[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?");
  private static final Pattern HEADER_NAME = Pattern.compile("[-_A-Za-z0-9]+");
  private static final Set<String> TARGET_KINDS =
      Set.of(
          "gateway.networking.k8s.io/Gateway",
          "gateway.networking.k8s.io/GatewayClass",
          "/Service",
          "networking.istio.io/ServiceEntry");
  // Istio's pkg/config/security: the attributes a `when` condition may name.
  private static final Set<String> ATTRIBUTES =
      Set.of(
          "source.ip",
          "remote.ip",
          "source.namespace",
          "source.principal",
          "source.serviceAccount",
          "source.trustDomain",
          "request.auth.principal",
          "request.auth.audiences",
          "request.auth.presenter",
          "destination.ip",
          "destination.port",
          "connection.sni");
  private static final Set<String> IP_ATTRIBUTES =
      Set.of("source.ip", "remote.ip", "destination.ip");

  private SecurityReaders() {}

  static PeerAuthentication peerAuthentication(Fields s) {
    Map<String, String> selector = Checks.workloadSelector(s, "selector");
    String mode = "";
    Fields mtls = s.object("mtls");
    if (mtls != null) {
      mode = Checks.oneOf(mtls, "mode", MTLS_MODES);
      mtls.end();
    }
    Map<Integer, String> ports = new TreeMap<>();
    if (s.has("portLevelMtls")) {
      Map<String, Fields> byPort = s.objectMap("portLevelMtls");
      if (byPort.isEmpty() && s.raw("portLevelMtls") instanceof Map<?, ?>) {
        s.error("portLevelMtls", "spec.portLevelMtls in body should have at least 1 properties");
      }
      if (!byPort.isEmpty() && selector.isEmpty()) {
        s.error(
            "portLevelMtls",
            "portLevelMtls requires selector (mesh/namespace peer authentication cannot have port"
                + " level mTLS)");
      }
      for (Map.Entry<String, Fields> e : byPort.entrySet()) {
        Fields f = e.getValue();
        String pm = Checks.oneOf(f, "mode", MTLS_MODES);
        f.end();
        long port;
        try {
          port = Long.parseLong(e.getKey());
        } catch (NumberFormatException ex) {
          f.error("type conversion error from \"" + e.getKey() + "\" to a port number");
          continue;
        }
        if (port < 1 || port > 65535) {
          f.error("port must be between 1-65535");
          continue;
        }
        ports.put((int) port, pm);
      }
    }
    s.end();
    return new PeerAuthentication(selector, mode, Collections.unmodifiableMap(ports));
  }

  /** {@code targetRef} and {@code targetRefs}, mutually exclusive with {@code selector}. */
  static List<PolicyTargetReference> targetRefs(Fields s, String selectorKey) {
    List<PolicyTargetReference> refs = new ArrayList<>();
    Fields one = s.object("targetRef");
    if (one != null) {
      refs.add(targetRef(one));
    }
    for (Fields f : s.objects("targetRefs")) {
      refs.add(targetRef(f));
    }
    int kinds =
        (s.has("targetRef") ? 1 : 0) + (s.has("targetRefs") ? 1 : 0) + (s.has(selectorKey) ? 1 : 0);
    if (kinds > 1) {
      s.error(
          "only one of targetRefs or selector can be set (only one of targetRefs or"
              + " workloadSelector can be set)");
    }
    return List.copyOf(refs);
  }

  private static PolicyTargetReference targetRef(Fields f) {
    String group = f.string("group");
    String kind = f.string("kind");
    String name = f.string("name");
    String ns = f.string("namespace");
    // The CRD's maxLength first: a long dotted value would overflow the stack of
    // java.util.regex's recursive matcher for GROUP's repeated group (a crash, not an error).
    if (group.length() > 253) {
      f.error("group", "Too long: may not be more than 253 bytes");
    } else if (!GROUP.matcher(group).matches()) {
      f.error("group", "spec.targetRef.group in body should match '" + GROUP.pattern() + "'");
    }
    if (kind.isEmpty()) {
      f.error("kind", "Required value");
    } else if (!KIND.matcher(kind).matches()) {
      f.error("kind", "spec.targetRef.kind in body should match '" + KIND.pattern() + "'");
    } else if (!TARGET_KINDS.contains(group + "/" + kind)) {
      f.error(
          "targetRef must be to one of Gateway (gateway.networking.k8s.io), GatewayClass,"
              + " Service or ServiceEntry (networking.istio.io)");
    }
    if (name.isEmpty()) {
      f.error("name", "Required value: targetRef name must be set");
    }
    if (!ns.isEmpty()) {
      f.error(
          "namespace",
          "targetRef namespace must not be set; cross namespace referencing is not currently"
              + " supported");
    }
    f.end();
    return new PolicyTargetReference(group, kind, name, ns);
  }

  static AuthorizationPolicy authorizationPolicy(Fields s, Map<String, String> annotations) {
    Map<String, String> selector = Checks.workloadSelector(s, "selector");
    List<PolicyTargetReference> refs = targetRefs(s, "selector");
    String action =
        s.has("action")
            ? Checks.oneOf(s, "action", Set.of("ALLOW", "DENY", "AUDIT", "CUSTOM"))
            : "ALLOW";
    String provider = "";
    Fields pf = s.object("provider");
    if (pf != null) {
      provider = pf.string("name");
      pf.end();
      if (!action.equals("CUSTOM")) {
        s.error("provider", "`provider` must not be with non CUSTOM action, found " + action);
      } else if (provider.isEmpty()) {
        pf.error("name", "`provider.name` must not be empty");
      }
    } else if (action.equals("CUSTOM")) {
      s.error("provider", "`provider` must be set with CUSTOM action");
    }
    List<AuthorizationPolicy.Rule> rules = new ArrayList<>();
    List<Fields> ruleFields = s.objects("rules");
    if (action.equals("DENY") && ruleFields.isEmpty()) {
      s.error("rules", "DENY action without `rules` is meaningless as it will never be triggered");
    }
    if (action.equals("CUSTOM") && ruleFields.isEmpty()) {
      s.error(
          "rules", "CUSTOM action without `rules` is meaningless as it will never be triggered");
    }
    for (int i = 0; i < ruleFields.size(); i++) {
      rules.add(rule(ruleFields.get(i), i));
    }
    // Istio's validateAuthorizationPolicy: the dry-run annotation must parse as a Go bool and is
    // only supported for ALLOW and DENY.
    String dryRun = annotations.get("istio.io/dry-run");
    if (dryRun != null) {
      if (!Set.of("1", "t", "T", "TRUE", "true", "True", "0", "f", "F", "FALSE", "false", "False")
          .contains(dryRun)) {
        s.problems()
            .add(
                "metadata.annotations",
                "has annotation istio.io/dry-run with invalid value \"" + dryRun + "\"");
      } else if (!action.equals("ALLOW") && !action.equals("DENY")) {
        s.problems()
            .add(
                "metadata.annotations",
                "istio.io/dry-run currently only supports action ALLOW/DENY, found " + action);
      }
    }
    s.end();
    return new AuthorizationPolicy(selector, refs, action, provider, List.copyOf(rules));
  }

  private static AuthorizationPolicy.Rule rule(Fields r, int index) {
    String at = ", found at rule " + index;
    List<AuthorizationPolicy.Source> from = new ArrayList<>();
    if (r.has("from") && r.list("from") != null && r.list("from").isEmpty()) {
      r.error("from", "`from` must not be empty" + at);
    }
    for (Fields f : r.objects("from")) {
      Fields src = f.object("source");
      if (src == null) {
        f.error("source", "`from.source` must not be nil" + at);
        f.end();
        continue;
      }
      if (src.map().isEmpty()) {
        src.error("`from.source` must not be empty" + at);
      }
      AuthorizationPolicy.Source s =
          new AuthorizationPolicy.Source(
              values(src, "principals", false),
              values(src, "notPrincipals", false),
              values(src, "requestPrincipals", false),
              values(src, "notRequestPrincipals", false),
              values(src, "namespaces", false),
              values(src, "notNamespaces", false),
              values(src, "serviceAccounts", false),
              values(src, "notServiceAccounts", false),
              ipValues(src, "ipBlocks"),
              ipValues(src, "notIpBlocks"),
              ipValues(src, "remoteIpBlocks"),
              ipValues(src, "notRemoteIpBlocks"),
              values(src, "trustDomains", false),
              values(src, "notTrustDomains", false));
      if ((!s.serviceAccounts().isEmpty() || !s.notServiceAccounts().isEmpty())
          && (!s.namespaces().isEmpty()
              || !s.notNamespaces().isEmpty()
              || !s.principals().isEmpty()
              || !s.notPrincipals().isEmpty())) {
        src.error("cannot set serviceAccounts with namespaces or principals" + at);
      }
      src.end();
      f.end();
      from.add(s);
    }
    List<AuthorizationPolicy.Operation> to = new ArrayList<>();
    if (r.has("to") && r.list("to") != null && r.list("to").isEmpty()) {
      r.error("to", "`to` must not be empty" + at);
    }
    for (Fields t : r.objects("to")) {
      Fields op = t.object("operation");
      if (op == null) {
        t.error("operation", "`to.operation` must not be nil" + at);
        t.end();
        continue;
      }
      if (op.map().isEmpty()) {
        op.error("`to.operation` must not be empty" + at);
      }
      AuthorizationPolicy.Operation o =
          new AuthorizationPolicy.Operation(
              values(op, "hosts", false),
              values(op, "notHosts", false),
              values(op, "ports", true),
              values(op, "notPorts", true),
              values(op, "methods", false),
              values(op, "notMethods", false),
              values(op, "paths", false),
              values(op, "notPaths", false));
      op.end();
      t.end();
      to.add(o);
    }
    List<AuthorizationPolicy.Condition> when = new ArrayList<>();
    for (Fields c : r.objects("when")) {
      String key = c.string("key");
      List<String> vals = values(c, "values", false);
      List<String> notVals = values(c, "notValues", false);
      if (key.isEmpty()) {
        c.error("key", "`key` must not be empty");
      } else if (!knownAttribute(key)) {
        c.error("key", "unknown attribute: " + key);
      } else {
        if (vals.isEmpty() && notVals.isEmpty()) {
          c.error("at least one of `values` or `notValues` must be set for key " + key);
        }
        for (String v : concat(vals, notVals)) {
          if (IP_ATTRIBUTES.contains(key) && !Names.isIpOrCidr(v)) {
            c.error("invalid `value` for `key` " + key + ": bad IP address (" + v + ")");
          } else if (key.equals("destination.port") && !isPort(v)) {
            c.error("invalid `value` for `key` " + key + ": bad port (" + v + ")");
          }
        }
      }
      c.end();
      when.add(new AuthorizationPolicy.Condition(key, vals, notVals));
    }
    r.end();
    return new AuthorizationPolicy.Rule(List.copyOf(from), List.copyOf(to), List.copyOf(when));
  }

  private static List<String> concat(List<String> a, List<String> b) {
    List<String> out = new ArrayList<>(a);
    out.addAll(b);
    return out;
  }

  private static boolean knownAttribute(String key) {
    return ATTRIBUTES.contains(key)
        || (key.startsWith("request.headers[") && key.endsWith("]") && key.length() > 17)
        || (key.startsWith("request.auth.claims[") && key.endsWith("]") && key.length() > 21)
        || key.startsWith("experimental.envoy.filters.");
  }

  private static boolean isPort(String v) {
    if (v.isEmpty() || v.length() > 5 || !v.chars().allMatch(Character::isDigit)) {
      return false;
    }
    int p = Integer.parseInt(v);
    return p >= 0 && p <= 65535;
  }

  private static List<String> values(Fields f, String key, boolean ports) {
    List<String> vals = f.strings(key);
    for (String v : vals) {
      if (v.isEmpty()) {
        f.error(key, "empty value not allowed, found in " + capitalize(key));
      } else if (ports && !isPort(v)) {
        f.error(key, "bad port (" + v + ")");
      }
    }
    return vals;
  }

  private static List<String> ipValues(Fields f, String key) {
    List<String> vals = values(f, key, false);
    for (String v : vals) {
      if (!v.isEmpty() && !Names.isIpOrCidr(v)) {
        f.error(key, "bad IP address (" + v + ")");
      }
    }
    return vals;
  }

  private static String capitalize(String s) {
    return Character.toUpperCase(s.charAt(0)) + s.substring(1);
  }

  static RequestAuthentication requestAuthentication(Fields s) {
    Map<String, String> selector = Checks.workloadSelector(s, "selector");
    List<PolicyTargetReference> refs = targetRefs(s, "selector");
    List<RequestAuthentication.JwtRule> rules = new ArrayList<>();
    List<Object> raw = s.list("jwtRules");
    if (raw != null) {
      for (int i = 0; i < raw.size(); i++) {
        if (raw.get(i) == null) {
          s.problems()
              .add(
                  Fields.index(s.path("jwtRules"), i),
                  Fields.index(s.path("jwtRules"), i) + " in body must be of type object");
        }
      }
    }
    for (Fields j : s.objects("jwtRules")) {
      rules.add(jwtRule(j));
    }
    s.end();
    return new RequestAuthentication(selector, refs, List.copyOf(rules));
  }

  private static RequestAuthentication.JwtRule jwtRule(Fields j) {
    String issuer = j.string("issuer");
    if (issuer.isEmpty()) {
      j.error("issuer", "issuer must be set");
    }
    List<String> audiences = nonEmpty(j, "audiences");
    String jwksUri = j.string("jwksUri");
    if (!jwksUri.isEmpty()) {
      try {
        URI u = new URI(jwksUri);
        if (u.getScheme() == null
            || !(u.getScheme().equalsIgnoreCase("http")
                || u.getScheme().equalsIgnoreCase("https"))) {
          j.error("jwksUri", "url must have scheme http:// or https://");
        }
      } catch (URISyntaxException e) {
        j.error("jwksUri", "invalid jwksUri: url must have scheme http:// or https://");
      }
    }
    String jwks = j.string("jwks");
    List<RequestAuthentication.JwtHeader> headers = new ArrayList<>();
    for (Fields h : j.objects("fromHeaders")) {
      if (h.raw("name") == null) {
        h.error("name", "Required value");
      }
      String name = h.string("name");
      if (name.isEmpty() && h.raw("name") != null) {
        h.error("name", h.path("name") + " in body should be at least 1 chars long");
      }
      String prefix = h.string("prefix");
      h.end();
      headers.add(new RequestAuthentication.JwtHeader(name, prefix));
    }
    List<String> params = nonEmpty(j, "fromParams");
    List<String> cookies = nonEmpty(j, "fromCookies");
    String payloadHeader = j.string("outputPayloadToHeader");
    boolean forward = j.bool("forwardOriginalToken");
    List<RequestAuthentication.ClaimToHeader> claims = new ArrayList<>();
    List<Object> rawClaims = j.list("outputClaimToHeaders");
    if (rawClaims != null) {
      for (int i = 0; i < rawClaims.size(); i++) {
        if (rawClaims.get(i) == null) {
          j.problems()
              .add(
                  Fields.index(j.path("outputClaimToHeaders"), i),
                  Fields.index(j.path("outputClaimToHeaders"), i)
                      + " in body must be of type object");
        }
      }
    }
    for (Fields c : j.objects("outputClaimToHeaders")) {
      String header = c.string("header");
      String claim = c.string("claim");
      if (header.isEmpty()) {
        c.error("header", "header in body should be at least 1 chars long");
      } else if (!HEADER_NAME.matcher(header).matches()) {
        c.error("header", "header in body should match '^[-_A-Za-z0-9]+$'");
      }
      if (claim.isEmpty()) {
        c.error("claim", c.path("claim") + " in body should be at least 1 chars long");
      }
      c.end();
      claims.add(new RequestAuthentication.ClaimToHeader(header, claim));
    }
    Duration timeout = null;
    if (j.has("timeout")) {
      Object raw = j.raw("timeout");
      Duration d = raw instanceof String str ? Durations.parse(str) : null;
      if (d == null || d.compareTo(Duration.ofMillis(1)) < 0) {
        j.error("timeout", "must be a valid duration greater than 1ms");
      } else {
        timeout = d;
      }
    }
    List<String> spaceDelimited = nonEmpty(j, "spaceDelimitedClaims");
    String presence = Checks.oneOf(j, "presence", Set.of("REQUIRED", "OPTIONAL"));
    j.end();
    return new RequestAuthentication.JwtRule(
        issuer,
        audiences,
        jwksUri,
        jwks,
        List.copyOf(headers),
        params,
        cookies,
        payloadHeader,
        forward,
        List.copyOf(claims),
        timeout,
        spaceDelimited,
        presence);
  }

  private static List<String> nonEmpty(Fields f, String key) {
    List<String> vals = f.strings(key);
    for (int i = 0; i < vals.size(); i++) {
      if (vals.get(i).isEmpty()) {
        f.problems()
            .add(
                Fields.index(f.path(key), i),
                key + "[" + i + "] in body should be at least 1 chars long");
      }
    }
    return vals;
  }
}
