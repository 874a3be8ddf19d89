package dev.weft.proxy.filters.rbac;

import dev.weft.proxy.config.InvalidResourceException;
import dev.weft.proxy.config.Matchers;
import io.envoyproxy.envoy.config.rbac.v3.Permission;
import io.envoyproxy.envoy.config.rbac.v3.Policy;
import io.envoyproxy.envoy.config.rbac.v3.Principal;
import io.envoyproxy.envoy.config.rbac.v3.RBAC;
import io.envoyproxy.envoy.type.matcher.v3.MetadataMatcher;
import io.envoyproxy.envoy.type.matcher.v3.ValueMatcher;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A compiled Envoy RBAC engine ({@code envoy.config.rbac.v3.RBAC}): an action and named policies,
 * each matching when one of its permissions and one of its principals match. Immutable; compiled
 * once per listener. Policies are tried in name order so that the matched policy's name (reported
 * in the response details) does not depend on map iteration.
 */
public final class RbacEngine {
  /** Envoy's RBAC actions. */
  public enum Action {
    ALLOW,
    DENY,
    LOG
  }

  /**
   * One compiled policy.
   *
   * @param name the policy's name, e.g. {@code ns[foo]-policy[deny-get]-rule[0]}
   * @param permissions any of these
   * @param principals and any of these
   */
  record CompiledPolicy(String name, RbacMatcher permissions, RbacMatcher principals) {
    boolean matches(RbacRequest r) {
      return permissions.matches(r) && principals.matches(r);
    }
  }

  private final Action action;
  private final CompiledPolicy[] policies;

  private RbacEngine(Action action, CompiledPolicy[] policies) {
    this.action = action;
    this.policies = policies;
  }

  public Action action() {
    return action;
  }

  /** How many policies the engine has. */
  public int size() {
    return policies.length;
  }

  /** The name of the first policy that matches {@code r}, or null when none does. */
  public String firstMatch(RbacRequest r) {
    for (CompiledPolicy p : policies) {
      if (p.matches(r)) {
        return p.name();
      }
    }
    return null;
  }

  /**
   * Compiles an RBAC configuration.
   *
   * @throws InvalidResourceException naming the policy and what is not supported (CEL conditions,
   *     filter state, custom matchers)
   */
  public static RbacEngine compile(RBAC rbac) throws InvalidResourceException {
    Action action =
        switch (rbac.getAction()) {
          case ALLOW -> Action.ALLOW;
          case DENY -> Action.DENY;
          case LOG -> Action.LOG;
          default ->
              throw new InvalidResourceException("rbac: unsupported action " + rbac.getAction());
        };
    List<CompiledPolicy> out = new ArrayList<>();
    for (Map.Entry<String, Policy> e : new TreeMap<>(rbac.getPoliciesMap()).entrySet()) {
      String where = "rbac policy " + e.getKey() + ": ";
      Policy p = e.getValue();
      if (p.hasCondition() || p.hasCheckedCondition()) {
        throw new InvalidResourceException(where + "CEL conditions are not supported");
      }
      try {
        List<RbacMatcher> perms = new ArrayList<>();
        for (Permission perm : p.getPermissionsList()) {
          perms.add(permission(perm));
        }
        List<RbacMatcher> ids = new ArrayList<>();
        for (Principal id : p.getPrincipalsList()) {
          ids.add(principal(id));
        }
        // Envoy: a policy with no permissions or no principals never matches.
        out.add(new CompiledPolicy(e.getKey(), or(perms), or(ids)));
      } catch (InvalidResourceException ex) {
        throw new InvalidResourceException(where + ex.getMessage());
      }
    }
    return new RbacEngine(action, out.toArray(new CompiledPolicy[0]));
  }

  private static RbacMatcher or(List<RbacMatcher> list) {
    return list.size() == 1 ? list.get(0) : new RbacMatcher.Or(list.toArray(new RbacMatcher[0]));
  }

  private static RbacMatcher and(List<RbacMatcher> list) {
    return list.size() == 1 ? list.get(0) : new RbacMatcher.And(list.toArray(new RbacMatcher[0]));
  }

  static RbacMatcher permission(Permission p) throws InvalidResourceException {
    return switch (p.getRuleCase()) {
      case ANY -> new RbacMatcher.Any();
      case AND_RULES -> {
        List<RbacMatcher> l = new ArrayList<>();
        for (Permission c : p.getAndRules().getRulesList()) {
          l.add(permission(c));
        }
        yield l.isEmpty() ? new RbacMatcher.Any() : and(l);
      }
      case OR_RULES -> {
        List<RbacMatcher> l = new ArrayList<>();
        for (Permission c : p.getOrRules().getRulesList()) {
          l.add(permission(c));
        }
        yield or(l);
      }
      case NOT_RULE -> new RbacMatcher.Not(permission(p.getNotRule()));
      case HEADER -> new RbacMatcher.Header(Matchers.header("", p.getHeader()));
      case URL_PATH -> urlPath(p.getUrlPath());
      case DESTINATION_IP -> new RbacMatcher.DestinationIp(Cidr.of(p.getDestinationIp()));
      case DESTINATION_PORT ->
          new RbacMatcher.DestinationPort(p.getDestinationPort(), p.getDestinationPort() + 1);
      case DESTINATION_PORT_RANGE ->
          new RbacMatcher.DestinationPort(
              p.getDestinationPortRange().getStart(), p.getDestinationPortRange().getEnd());
      case METADATA -> metadata(p.getMetadata());
      case REQUESTED_SERVER_NAME ->
          new RbacMatcher.ServerName(Matchers.string(p.getRequestedServerName()));
      default ->
          throw new InvalidResourceException(
              "permission " + p.getRuleCase().name().toLowerCase() + " is not supported");
    };
  }

  static RbacMatcher principal(Principal p) throws InvalidResourceException {
    return switch (p.getIdentifierCase()) {
      case ANY -> new RbacMatcher.Any();
      case AND_IDS -> {
        List<RbacMatcher> l = new ArrayList<>();
        for (Principal c : p.getAndIds().getIdsList()) {
          l.add(principal(c));
        }
        yield l.isEmpty() ? new RbacMatcher.Any() : and(l);
      }
      case OR_IDS -> {
        List<RbacMatcher> l = new ArrayList<>();
        for (Principal c : p.getOrIds().getIdsList()) {
          l.add(principal(c));
        }
        yield or(l);
      }
      case NOT_ID -> new RbacMatcher.Not(principal(p.getNotId()));
      case AUTHENTICATED ->
          new RbacMatcher.Authenticated(
              p.getAuthenticated().hasPrincipalName()
                  ? Matchers.string(p.getAuthenticated().getPrincipalName())
                  : null);
      case SOURCE_IP -> new RbacMatcher.SourceIp(Cidr.of(p.getSourceIp()));
      case DIRECT_REMOTE_IP -> new RbacMatcher.SourceIp(Cidr.of(p.getDirectRemoteIp()));
      case REMOTE_IP -> new RbacMatcher.SourceIp(Cidr.of(p.getRemoteIp()));
      case HEADER -> new RbacMatcher.Header(Matchers.header("", p.getHeader()));
      case URL_PATH -> urlPath(p.getUrlPath());
      case METADATA -> metadata(p.getMetadata());
      default ->
          throw new InvalidResourceException(
              "principal " + p.getIdentifierCase().name().toLowerCase() + " is not supported");
    };
  }

  private static RbacMatcher urlPath(io.envoyproxy.envoy.type.matcher.v3.PathMatcher m)
      throws InvalidResourceException {
    if (!m.hasPath()) {
      throw new InvalidResourceException("url_path without a path matcher");
    }
    return new RbacMatcher.UrlPath(Matchers.string(m.getPath()));
  }

  private static RbacMatcher metadata(MetadataMatcher m) throws InvalidResourceException {
    if (m.getFilter().isEmpty() || m.getPathCount() == 0 || !m.hasValue()) {
      throw new InvalidResourceException("metadata matcher needs a filter, a path and a value");
    }
    String[] path = new String[m.getPathCount()];
    for (int i = 0; i < path.length; i++) {
      path[i] = m.getPath(i).getKey();
    }
    return new RbacMatcher.Metadata(m.getFilter(), path, value(m.getValue()), m.getInvert());
  }

  private static RbacMatcher.ValueMatch value(ValueMatcher v) throws InvalidResourceException {
    return switch (v.getMatchPatternCase()) {
      case STRING_MATCH -> new RbacMatcher.ValueMatch.Str(Matchers.string(v.getStringMatch()));
      case PRESENT_MATCH -> new RbacMatcher.ValueMatch.Present(v.getPresentMatch());
      case BOOL_MATCH -> new RbacMatcher.ValueMatch.Bool(v.getBoolMatch());
      case NULL_MATCH -> new RbacMatcher.ValueMatch.Null();
      case DOUBLE_MATCH -> {
        if (v.getDoubleMatch().getMatchPatternCase()
            != io.envoyproxy.envoy.type.matcher.v3.DoubleMatcher.MatchPatternCase.EXACT) {
          throw new InvalidResourceException("double_match supports exact only");
        }
        yield new RbacMatcher.ValueMatch.Num(v.getDoubleMatch().getExact());
      }
      case LIST_MATCH -> new RbacMatcher.ValueMatch.OneOf(value(v.getListMatch().getOneOf()));
      case OR_MATCH -> {
        List<RbacMatcher.ValueMatch> l = new ArrayList<>();
        for (ValueMatcher c : v.getOrMatch().getValueMatchersList()) {
          l.add(value(c));
        }
        yield new RbacMatcher.ValueMatch.AnyOf(l.toArray(new RbacMatcher.ValueMatch[0]));
      }
      default ->
          throw new InvalidResourceException(
              "metadata value matcher " + v.getMatchPatternCase() + " is not supported");
    };
  }
}
