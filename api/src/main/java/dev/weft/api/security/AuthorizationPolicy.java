package dev.weft.api.security;

import dev.weft.api.Spec;
import java.util.List;
import java.util.Map;

/**
 * Istio's AuthorizationPolicy. Lists and maps are never null.
 *
 * @param selector labels of the workloads this applies to; empty means the namespace
 * @param targetRefs resources this attaches to instead of a selector ({@code targetRef} included)
 * @param action {@code ALLOW} (default), {@code DENY}, {@code AUDIT} or {@code CUSTOM}
 * @param provider the extension provider name for {@code CUSTOM}, or empty
 * @param rules the rules; an ALLOW policy with no rules allows nothing
 */
public record AuthorizationPolicy(
    Map<String, String> selector,
    List<PolicyTargetReference> targetRefs,
    String action,
    String provider,
    List<Rule> rules)
    implements Spec {

  /**
   * A rule: matches when any {@code from}, any {@code to} and all {@code when} match (empty lists
   * match everything).
   *
   * @param from sources
   * @param to operations
   * @param when conditions
   */
  public record Rule(List<Source> from, List<Operation> to, List<Condition> when) {}

  /** Istio's Source; each list is empty when not given. */
  public record Source(
      List<String> principals,
      List<String> notPrincipals,
      List<String> requestPrincipals,
      List<String> notRequestPrincipals,
      List<String> namespaces,
      List<String> notNamespaces,
      List<String> serviceAccounts,
      List<String> notServiceAccounts,
      List<String> ipBlocks,
      List<String> notIpBlocks,
      List<String> remoteIpBlocks,
      List<String> notRemoteIpBlocks,
      List<String> trustDomains,
      List<String> notTrustDomains) {}

  /** Istio's Operation; each list is empty when not given. */
  public record Operation(
      List<String> hosts,
      List<String> notHosts,
      List<String> ports,
      List<String> notPorts,
      List<String> methods,
      List<String> notMethods,
      List<String> paths,
      List<String> notPaths) {}

  /**
   * Istio's Condition.
   *
   * @param key the attribute, e.g. {@code request.headers[x-user]}
   * @param values values any of which must match
   * @param notValues values none of which may match
   */
  public record Condition(String key, List<String> values, List<String> notValues) {}
}
