package dev.weft.controlplane.gen.authz;

import com.google.protobuf.Any;
import com.google.protobuf.UInt32Value;
import dev.weft.api.Resource;
import dev.weft.api.security.AuthorizationPolicy;
import dev.weft.api.security.AuthorizationPolicy.Condition;
import dev.weft.api.security.AuthorizationPolicy.Operation;
import dev.weft.api.security.AuthorizationPolicy.Rule;
import dev.weft.api.security.AuthorizationPolicy.Source;
import io.envoyproxy.envoy.config.core.v3.CidrRange;
import io.envoyproxy.envoy.config.rbac.v3.Permission;
import io.envoyproxy.envoy.config.rbac.v3.Policy;
import io.envoyproxy.envoy.config.rbac.v3.Principal;
import io.envoyproxy.envoy.config.rbac.v3.RBAC;
import io.envoyproxy.envoy.config.route.v3.HeaderMatcher;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.type.matcher.v3.ListMatcher;
import io.envoyproxy.envoy.type.matcher.v3.MetadataMatcher;
import io.envoyproxy.envoy.type.matcher.v3.PathMatcher;
import io.envoyproxy.envoy.type.matcher.v3.RegexMatcher;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import io.envoyproxy.envoy.type.matcher.v3.ValueMatcher;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * AuthorizationPolicies → one Envoy RBAC HTTP filter, as Istio's authz model builds it: one Envoy
 * policy per rule, named {@code ns[<namespace>]-policy[<name>]-rule[<index>]}; a rule's {@code to}
 * entries become its permissions (any of them), its {@code from} entries its principals (any of
 * them); within an entry every field must match (and_rules / and_ids), a field matches when one of
 * its values does (or_rules / or_ids) and none of its {@code not} values does (not_rule / not_id);
 * {@code when} conditions join every entry on the side Istio puts them (destination and SNI on
 * permissions, the rest on principals).
 *
 * <p>Values follow Istio's wildcards: {@code *} alone matches any present value, {@code *suffix}
 * and {@code prefix*} match by suffix and prefix. Hosts are case-insensitive and match with or
 * without a port. Principals carry the {@code spiffe://} prefix; namespaces and service accounts
 * match a principal's {@code /ns/<ns>/} and {@code /sa/<sa>} segments. Request principals and
 * claims match the {@code istio_authn} dynamic metadata the JWT filter leaves.
 */
public final class RbacTranslator {
  /** The HTTP filter's name. */
  public static final String FILTER_NAME = "envoy.filters.http.rbac";

  /** The network filter's name, for TCP ports. */
  public static final String NETWORK_FILTER_NAME = "envoy.filters.network.rbac";

  /** Istio's stat prefix of the TCP RBAC filter ({@code authzmodel.RBACTCPFilterStatPrefix}). */
  public static final String TCP_STAT_PREFIX = "tcp.";

  static final String AUTHN_FILTER = "istio_authn";

  private RbacTranslator() {}

  /** One RBAC filter with {@code action} and every rule of {@code policies}. */
  public static HttpFilter filter(RBAC.Action action, List<Resource> policies) {
    RBAC.Builder rbac = RBAC.newBuilder().setAction(action);
    for (Resource r : policies) {
      AuthorizationPolicy ap = r.spec(AuthorizationPolicy.class);
      for (int i = 0; i < ap.rules().size(); i++) {
        String name =
            "ns["
                + r.metadata().namespace()
                + "]-policy["
                + r.metadata().name()
                + "]-rule["
                + i
                + "]";
        rbac.putPolicies(name, policy(ap.rules().get(i)));
      }
    }
    return HttpFilter.newBuilder()
        .setName(FILTER_NAME)
        .setTypedConfig(
            Any.pack(
                io.envoyproxy
                    .envoy
                    .extensions
                    .filters
                    .http
                    .rbac
                    .v3
                    .RBAC
                    .newBuilder()
                    .setRules(rbac)
                    .build()))
        .build();
  }

  /**
   * One network RBAC filter with {@code action} and every rule of {@code policies} as Istio builds
   * them for TCP ({@code forTCP}): a rule with HTTP-only fields (hosts, methods, paths, request
   * principals, {@code request.*} and {@code experimental.*} conditions, and their {@code not}
   * forms) matches nothing in an ALLOW (or AUDIT) policy, so it is left out; in a DENY policy those
   * fields are ignored, so the rule denies on what remains (more restrictive).
   */
  public static io.envoyproxy.envoy.config.listener.v3.Filter networkFilter(
      RBAC.Action action, List<Resource> policies) {
    RBAC.Builder rbac = RBAC.newBuilder().setAction(action);
    for (Resource r : policies) {
      AuthorizationPolicy ap = r.spec(AuthorizationPolicy.class);
      for (int i = 0; i < ap.rules().size(); i++) {
        Rule tcp = forTcp(ap.rules().get(i), action == RBAC.Action.DENY);
        if (tcp == null) {
          continue;
        }
        String name =
            "ns["
                + r.metadata().namespace()
                + "]-policy["
                + r.metadata().name()
                + "]-rule["
                + i
                + "]";
        rbac.putPolicies(name, policy(tcp));
      }
    }
    return io.envoyproxy.envoy.config.listener.v3.Filter.newBuilder()
        .setName(NETWORK_FILTER_NAME)
        .setTypedConfig(
            Any.pack(
                io.envoyproxy
                    .envoy
                    .extensions
                    .filters
                    .network
                    .rbac
                    .v3
                    .RBAC
                    .newBuilder()
                    .setStatPrefix(TCP_STAT_PREFIX)
                    .setRules(rbac)
                    .build()))
        .build();
  }

  /**
   * A rule for a TCP port: null when it has HTTP-only fields and {@code deny} is false (Istio drops
   * it); otherwise the rule without its HTTP-only fields.
   */
  static Rule forTcp(Rule rule, boolean deny) {
    boolean http = false;
    List<Source> from = new ArrayList<>();
    for (Source s : rule.from()) {
      http |= !s.requestPrincipals().isEmpty() || !s.notRequestPrincipals().isEmpty();
      from.add(
          new Source(
              s.principals(),
              s.notPrincipals(),
              List.of(),
              List.of(),
              s.namespaces(),
              s.notNamespaces(),
              s.serviceAccounts(),
              s.notServiceAccounts(),
              s.ipBlocks(),
              s.notIpBlocks(),
              s.remoteIpBlocks(),
              s.notRemoteIpBlocks(),
              s.trustDomains(),
              s.notTrustDomains()));
    }
    List<Operation> to = new ArrayList<>();
    for (Operation o : rule.to()) {
      http |=
          !o.hosts().isEmpty()
              || !o.notHosts().isEmpty()
              || !o.methods().isEmpty()
              || !o.notMethods().isEmpty()
              || !o.paths().isEmpty()
              || !o.notPaths().isEmpty();
      to.add(
          new Operation(
              List.of(),
              List.of(),
              o.ports(),
              o.notPorts(),
              List.of(),
              List.of(),
              List.of(),
              List.of()));
    }
    List<Condition> when = new ArrayList<>();
    for (Condition c : rule.when()) {
      if (c.key().startsWith("request.") || c.key().startsWith("experimental.")) {
        http = true;
      } else {
        when.add(c);
      }
    }
    if (http && !deny) {
      return null;
    }
    return new Rule(from, to, when);
  }

  /** One rule as an Envoy policy. */
  public static Policy policy(Rule rule) {
    List<Permission> whenPerms = new ArrayList<>();
    List<Principal> whenIds = new ArrayList<>();
    for (Condition c : rule.when()) {
      condition(c, whenPerms, whenIds);
    }
    Policy.Builder p = Policy.newBuilder();
    List<Operation> tos = rule.to().isEmpty() ? List.of() : rule.to();
    if (tos.isEmpty()) {
      p.addPermissions(andPermissions(new ArrayList<>(whenPerms)));
    }
    for (Operation o : tos) {
      List<Permission> and = operation(o);
      and.addAll(whenPerms);
      p.addPermissions(andPermissions(and));
    }
    if (rule.from().isEmpty()) {
      p.addPrincipals(andPrincipals(new ArrayList<>(whenIds)));
    }
    for (Source s : rule.from()) {
      List<Principal> and = source(s);
      and.addAll(whenIds);
      p.addPrincipals(andPrincipals(and));
    }
    return p.build();
  }

  private static Permission andPermissions(List<Permission> l) {
    if (l.isEmpty()) {
      return Permission.newBuilder().setAny(true).build();
    }
    return Permission.newBuilder().setAndRules(Permission.Set.newBuilder().addAllRules(l)).build();
  }

  private static Principal andPrincipals(List<Principal> l) {
    if (l.isEmpty()) {
      return Principal.newBuilder().setAny(true).build();
    }
    return Principal.newBuilder().setAndIds(Principal.Set.newBuilder().addAllIds(l)).build();
  }

  // ------------------------------------------------------------------ to (operations)

  private static List<Permission> operation(Operation o) {
    List<Permission> and = new ArrayList<>();
    perm(and, o.hosts(), o.notHosts(), RbacTranslator::host);
    perm(and, o.ports(), o.notPorts(), v -> port(Integer.parseInt(v)));
    perm(and, o.methods(), o.notMethods(), v -> headerPerm(":method", exact(v)));
    perm(and, o.paths(), o.notPaths(), RbacTranslator::path);
    return and;
  }

  private static void perm(
      List<Permission> and,
      List<String> values,
      List<String> notValues,
      Function<String, Permission> f) {
    if (!values.isEmpty()) {
      and.add(orPerm(values, f));
    }
    if (!notValues.isEmpty()) {
      and.add(Permission.newBuilder().setNotRule(orPerm(notValues, f)).build());
    }
  }

  private static Permission orPerm(List<String> values, Function<String, Permission> f) {
    Permission.Set.Builder or = Permission.Set.newBuilder();
    for (String v : values) {
      or.addRules(f.apply(v));
    }
    return Permission.newBuilder().setOrRules(or).build();
  }

  /** Istio's host match: case-insensitive, with or without the request's port. */
  private static Permission host(String v) {
    if (v.equals("*")) {
      return headerPerm(":authority", null);
    }
    if (v.startsWith("*")) {
      // *.example.com also matches *.example.com:8080.
      return orOf(
          headerPerm(":authority", suffix(v.substring(1), true)),
          headerPerm(":authority", regex("(?i).*" + quote(v.substring(1)) + ":[0-9]+")));
    }
    if (v.endsWith("*")) {
      return headerPerm(":authority", prefix(v.substring(0, v.length() - 1), true));
    }
    return orOf(
        headerPerm(":authority", exactIc(v)),
        headerPerm(":authority", regex("(?i)" + quote(v) + ":[0-9]+")));
  }

  private static Permission orOf(Permission a, Permission b) {
    return Permission.newBuilder()
        .setOrRules(Permission.Set.newBuilder().addRules(a).addRules(b))
        .build();
  }

  private static Permission port(int p) {
    return Permission.newBuilder().setDestinationPort(p).build();
  }

  private static Permission path(String v) {
    return Permission.newBuilder()
        .setUrlPath(PathMatcher.newBuilder().setPath(wildcard(v, "")))
        .build();
  }

  private static Permission headerPerm(String name, StringMatcher m) {
    return Permission.newBuilder().setHeader(header(name, m)).build();
  }

  // ------------------------------------------------------------------ from (sources)

  private static List<Principal> source(Source s) {
    List<Principal> and = new ArrayList<>();
    id(and, s.principals(), s.notPrincipals(), RbacTranslator::principal);
    id(and, s.requestPrincipals(), s.notRequestPrincipals(), RbacTranslator::requestPrincipal);
    id(and, s.namespaces(), s.notNamespaces(), RbacTranslator::namespace);
    id(and, s.serviceAccounts(), s.notServiceAccounts(), RbacTranslator::serviceAccount);
    id(and, s.ipBlocks(), s.notIpBlocks(), v -> directIp(v));
    id(and, s.remoteIpBlocks(), s.notRemoteIpBlocks(), v -> remoteIp(v));
    id(and, s.trustDomains(), s.notTrustDomains(), RbacTranslator::trustDomain);
    return and;
  }

  private static void id(
      List<Principal> and,
      List<String> values,
      List<String> notValues,
      Function<String, Principal> f) {
    if (!values.isEmpty()) {
      and.add(orId(values, f));
    }
    if (!notValues.isEmpty()) {
      and.add(Principal.newBuilder().setNotId(orId(notValues, f)).build());
    }
  }

  private static Principal orId(List<String> values, Function<String, Principal> f) {
    Principal.Set.Builder or = Principal.Set.newBuilder();
    for (String v : values) {
      or.addIds(f.apply(v));
    }
    return Principal.newBuilder().setOrIds(or).build();
  }

  /** The mTLS peer's SPIFFE id; {@code *} any authenticated peer. */
  private static Principal principal(String v) {
    return authenticated(v.equals("*") ? regex(".+") : wildcard(v, "spiffe://"));
  }

  private static Principal namespace(String v) {
    return authenticated(regex(".*/ns/" + globRegex(v) + "/.*"));
  }

  /** {@code ns/sa}: the principal's namespace and service account segments. */
  private static Principal serviceAccount(String v) {
    int slash = v.indexOf('/');
    String ns = slash < 0 ? "*" : v.substring(0, slash);
    String sa = slash < 0 ? v : v.substring(slash + 1);
    return authenticated(regex(".*/ns/" + globRegex(ns) + "/sa/" + globRegex(sa)));
  }

  private static Principal trustDomain(String v) {
    return authenticated(regex("spiffe://" + globRegex(v) + "/.*"));
  }

  private static Principal authenticated(StringMatcher m) {
    return Principal.newBuilder()
        .setAuthenticated(Principal.Authenticated.newBuilder().setPrincipalName(m))
        .build();
  }

  private static Principal requestPrincipal(String v) {
    return metadata(
        List.of("request.auth.principal"),
        ValueMatcher.newBuilder()
            .setStringMatch(v.equals("*") ? regex(".+") : wildcard(v, ""))
            .build());
  }

  private static Principal metadata(List<String> path, ValueMatcher value) {
    MetadataMatcher.Builder m = MetadataMatcher.newBuilder().setFilter(AUTHN_FILTER);
    for (String k : path) {
      m.addPath(MetadataMatcher.PathSegment.newBuilder().setKey(k));
    }
    return Principal.newBuilder().setMetadata(m.setValue(value)).build();
  }

  private static Principal directIp(String v) {
    return Principal.newBuilder().setDirectRemoteIp(cidr(v)).build();
  }

  private static Principal remoteIp(String v) {
    return Principal.newBuilder().setRemoteIp(cidr(v)).build();
  }

  // ------------------------------------------------------------------ when

  private static void condition(Condition c, List<Permission> perms, List<Principal> ids) {
    String key = c.key();
    switch (key) {
      case "destination.ip" ->
          perm(
              perms,
              c.values(),
              c.notValues(),
              v -> Permission.newBuilder().setDestinationIp(cidr(v)).build());
      case "destination.port" ->
          perm(perms, c.values(), c.notValues(), v -> port(Integer.parseInt(v)));
      case "connection.sni" ->
          perm(
              perms,
              c.values(),
              c.notValues(),
              v -> Permission.newBuilder().setRequestedServerName(wildcard(v, "")).build());
      case "source.ip" -> id(ids, c.values(), c.notValues(), RbacTranslator::directIp);
      case "remote.ip" -> id(ids, c.values(), c.notValues(), RbacTranslator::remoteIp);
      case "source.namespace" -> id(ids, c.values(), c.notValues(), RbacTranslator::namespace);
      case "source.principal" -> id(ids, c.values(), c.notValues(), RbacTranslator::principal);
      case "source.serviceAccount" ->
          id(ids, c.values(), c.notValues(), RbacTranslator::serviceAccount);
      case "source.trustDomain" -> id(ids, c.values(), c.notValues(), RbacTranslator::trustDomain);
      case "request.auth.principal" ->
          id(ids, c.values(), c.notValues(), RbacTranslator::requestPrincipal);
      case "request.auth.audiences", "request.auth.presenter" ->
          id(
              ids,
              c.values(),
              c.notValues(),
              v ->
                  metadata(
                      List.of(key),
                      ValueMatcher.newBuilder().setStringMatch(wildcard(v, "")).build()));
      default -> {
        if (key.startsWith("request.headers[")) {
          String name = key.substring("request.headers[".length(), key.length() - 1);
          id(
              ids,
              c.values(),
              c.notValues(),
              v -> Principal.newBuilder().setHeader(header(name, headerValue(v))).build());
        } else if (key.startsWith("request.auth.claims[")) {
          List<String> path = new ArrayList<>();
          path.add("request.auth.claims");
          path.addAll(claimPath(key.substring("request.auth.claims".length())));
          id(
              ids,
              c.values(),
              c.notValues(),
              v ->
                  metadata(
                      path,
                      ValueMatcher.newBuilder()
                          .setListMatch(
                              ListMatcher.newBuilder()
                                  .setOneOf(
                                      ValueMatcher.newBuilder().setStringMatch(wildcard(v, ""))))
                          .build()));
        }
        // experimental.envoy.filters.* is not generated (Enforcement warns): the condition is
        // left out, which makes an ALLOW rule broader; such policies are reported at apply time.
      }
    }
  }

  /** {@code [a][b]} → {@code a, b}; Istio also accepts {@code [a.b]} as one key. */
  static List<String> claimPath(String brackets) {
    List<String> out = new ArrayList<>();
    int i = 0;
    while (i < brackets.length() && brackets.charAt(i) == '[') {
      int end = brackets.indexOf(']', i);
      if (end < 0) {
        break;
      }
      out.add(brackets.substring(i + 1, end));
      i = end + 1;
    }
    return out;
  }

  // ------------------------------------------------------------------ matchers

  /** Istio's header value: {@code *} present, {@code *x} suffix, {@code x*} prefix, exact. */
  private static StringMatcher headerValue(String v) {
    return v.equals("*") ? null : wildcard(v, "");
  }

  private static HeaderMatcher header(String name, StringMatcher m) {
    HeaderMatcher.Builder h = HeaderMatcher.newBuilder().setName(name);
    if (m == null) {
      h.setPresentMatch(true);
    } else {
      h.setStringMatch(m);
    }
    return h.build();
  }

  /** Istio's {@code StringMatcherWithPrefix}. */
  static StringMatcher wildcard(String v, String prefix) {
    if (v.equals("*")) {
      return regex(".+");
    }
    if (v.startsWith("*")) {
      return suffix(v.substring(1), false);
    }
    if (v.endsWith("*")) {
      return prefix(prefix + v.substring(0, v.length() - 1), false);
    }
    return exact(prefix + v);
  }

  private static StringMatcher exact(String v) {
    return StringMatcher.newBuilder().setExact(v).build();
  }

  private static StringMatcher exactIc(String v) {
    return StringMatcher.newBuilder().setExact(v).setIgnoreCase(true).build();
  }

  private static StringMatcher prefix(String v, boolean ic) {
    return StringMatcher.newBuilder().setPrefix(v).setIgnoreCase(ic).build();
  }

  private static StringMatcher suffix(String v, boolean ic) {
    return StringMatcher.newBuilder().setSuffix(v).setIgnoreCase(ic).build();
  }

  private static StringMatcher regex(String re) {
    return StringMatcher.newBuilder().setSafeRegex(RegexMatcher.newBuilder().setRegex(re)).build();
  }

  /** A glob with {@code *} wildcards as an RE2 regex; everything else literal. */
  private static String globRegex(String glob) {
    if (glob.equals("*")) {
      return "[^/]+";
    }
    List<String> parts = new ArrayList<>();
    for (String part : glob.split("\\*", -1)) {
      parts.add(quote(part));
    }
    return String.join(".*", parts);
  }

  /** Escapes RE2 metacharacters. */
  static String quote(String s) {
    StringBuilder b = new StringBuilder();
    for (char ch : s.toCharArray()) {
      if ("\\.+*?()|[]{}^$".indexOf(ch) >= 0) {
        b.append('\\');
      }
      b.append(ch);
    }
    return b.toString();
  }

  /** {@code 10.0.0.0/8} or a bare address ({@code /32} or {@code /128}). */
  static CidrRange cidr(String v) {
    int slash = v.indexOf('/');
    String addr = slash < 0 ? v : v.substring(0, slash);
    int len =
        slash < 0 ? (addr.contains(":") ? 128 : 32) : Integer.parseInt(v.substring(slash + 1));
    return CidrRange.newBuilder().setAddressPrefix(addr).setPrefixLen(UInt32Value.of(len)).build();
  }
}
