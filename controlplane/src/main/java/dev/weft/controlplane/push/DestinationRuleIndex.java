package dev.weft.controlplane.push;

import dev.weft.api.Resource;
import dev.weft.api.ResourceKey;
import dev.weft.api.ResourceKind;
import dev.weft.api.networking.DestinationRule;
import dev.weft.api.networking.Subset;
import dev.weft.api.networking.TrafficPolicy;
import dev.weft.controlplane.registry.Hosts;
import dev.weft.controlplane.registry.Labels;
import dev.weft.controlplane.store.ConfigSnapshot;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Istio's DestinationRule index ({@code PushContext.setDestinationRules} and {@code
 * mergeDestinationRule} in {@code pilot/pkg/model}, with {@code
 * ENABLE_ENHANCED_DESTINATIONRULE_MERGE} on, its default): the rules sorted with a {@code
 * workloadSelector} first, then by age; per namespace three pools (the rules its own proxies see,
 * the rules it exports, the root namespace's private rules), in each a list of
 * <em>consolidated</em> rules per host. A rule merges into an earlier one of its pool for the same
 * host when their {@code exportTo} sets are equal (or its set is a superset of the earlier's, when
 * it is also kept on its own) and their selectors are both absent or equal; a rule with a selector
 * never merges into one with another selector. Merging appends the later rule's subsets whose names
 * are new (a duplicate is dropped: {@link #duplicates}) and takes its top-level {@code
 * trafficPolicy} only if the merged rule has none ({@link #shadowedPolicies}); everything else
 * stays the first rule's.
 *
 * <p>Built once per config snapshot ({@link #of}); immutable afterwards. The merged rules are new
 * {@link Resource}s with the first rule's metadata and document and the merged spec; a rule that
 * nothing merged into is the stored resource itself.
 */
public final class DestinationRuleIndex {
  private final String rootNamespace;
  private final Map<String, Pool> namespaceLocal = new HashMap<>();
  private final Map<String, Pool> exported = new HashMap<>();
  private final Pool rootLocal = new Pool();
  private final Map<ResourceKey, Map<String, ResourceKey>> duplicates = new HashMap<>();
  private final Map<ResourceKey, ResourceKey> shadowedPolicies = new HashMap<>();
  private final Map<Resource, String> keys = new IdentityHashMap<>();

  private static final Object DERIVED = new Object();

  /** The index of {@code config}'s DestinationRules, computed once per snapshot and root. */
  public static DestinationRuleIndex of(ConfigSnapshot config, String rootNamespace) {
    Map<String, DestinationRuleIndex> byRoot =
        config.derived(DERIVED, c -> new java.util.concurrent.ConcurrentHashMap<>());
    return byRoot.computeIfAbsent(rootNamespace, r -> new DestinationRuleIndex(config, r));
  }

  /** One consolidated rule while the index is built. */
  private static final class Merged {
    final Resource first;
    final Set<String> exportTo;
    final Map<String, String> selector;
    final List<ResourceKey> from = new ArrayList<>();
    final List<Subset> subsets;
    TrafficPolicy policy;
    ResourceKey policyFrom;
    Resource built;

    Merged(Resource first, Set<String> exportTo) {
      DestinationRule dr = first.spec(DestinationRule.class);
      this.first = first;
      this.exportTo = exportTo;
      this.selector = dr.workloadSelector();
      this.subsets = new ArrayList<>(dr.subsets() == null ? List.of() : dr.subsets());
      this.policy = dr.trafficPolicy();
      this.policyFrom = dr.trafficPolicy() == null ? null : first.key();
      from.add(first.key());
    }

    Resource resource() {
      if (built == null) {
        DestinationRule dr = first.spec(DestinationRule.class);
        built =
            from.size() == 1
                ? first
                : new Resource(
                    first.apiVersion(),
                    first.kind(),
                    first.metadata(),
                    dr.merged(subsets, policy),
                    first.document());
      }
      return built;
    }
  }

  /** Per host, its consolidated rules, exact hosts and wildcards apart (Istio's two maps). */
  private static final class Pool {
    final Map<String, List<Merged>> specific = new LinkedHashMap<>();
    final Map<String, List<Merged>> wildcard = new LinkedHashMap<>();

    Map<String, List<Merged>> forHost(String host) {
      return host.startsWith("*") ? wildcard : specific;
    }

    /** Istio's {@code MostSpecificHostMatch}: the exact host, else the longest wildcard. */
    List<Merged> match(String host) {
      if (!host.startsWith("*")) {
        List<Merged> exact = specific.get(host);
        if (exact != null) {
          return exact;
        }
      } else if (wildcard.get(host) != null) {
        return wildcard.get(host);
      }
      String best = null;
      for (String pattern : wildcard.keySet()) {
        if (Hosts.matches(pattern, host) && (best == null || pattern.length() > best.length())) {
          best = pattern;
        }
      }
      return best == null ? null : wildcard.get(best);
    }
  }

  private DestinationRuleIndex(ConfigSnapshot config, String rootNamespace) {
    this.rootNamespace = rootNamespace;
    List<Resource> rules = new ArrayList<>(config.byAge(ResourceKind.DESTINATION_RULE));
    // Istio's sortConfigBySelectorAndCreationTime: rules with a selector first, then by age.
    rules.sort(
        java.util.Comparator.comparingInt(
            r -> r.spec(DestinationRule.class).workloadSelector().isEmpty() ? 1 : 0));
    for (Resource r : rules) {
      DestinationRule dr = r.spec(DestinationRule.class);
      String ns = r.metadata().namespace();
      String host = Hosts.resolve(dr.host(), ns);
      // Rules with a workloadSelector are not exported to other namespaces.
      Set<String> exportTo =
          dr.workloadSelector().isEmpty()
              ? new LinkedHashSet<>(dr.exportTo() == null ? List.of() : dr.exportTo())
              : Set.of(".");
      if (exportTo.isEmpty()
          || exportTo.contains("*")
          || exportTo.contains(".")
          || exportTo.contains(ns)) {
        merge(namespaceLocal.computeIfAbsent(ns, k -> new Pool()), r, host, exportTo);
      }
      // Weft's mesh default defaultDestinationRuleExportTo is "*": an empty exportTo exports.
      boolean privateOnly =
          exportTo.size() == 1 && (exportTo.contains(".") || exportTo.contains(ns));
      if (!privateOnly) {
        merge(exported.computeIfAbsent(ns, k -> new Pool()), r, host, exportTo);
      } else if (ns.equals(rootNamespace)) {
        merge(rootLocal, r, host, exportTo);
      }
    }
    for (Pool p : allPools()) {
      for (Map<String, List<Merged>> m : List.of(p.specific, p.wildcard)) {
        for (List<Merged> list : m.values()) {
          for (Merged merged : list) {
            StringBuilder k = new StringBuilder();
            for (ResourceKey from : merged.from) {
              k.append(from.namespace()).append('/').append(from.name()).append('+');
            }
            keys.put(merged.resource(), k.toString());
          }
        }
      }
    }
  }

  private List<Pool> allPools() {
    List<Pool> out = new ArrayList<>(namespaceLocal.values());
    out.addAll(exported.values());
    out.add(rootLocal);
    return out;
  }

  /** Istio's {@code mergeDestinationRule}, with its enhanced (exportTo-aware) merge. */
  private void merge(Pool pool, Resource rule, String host, Set<String> exportTo) {
    Map<String, List<Merged>> byHost = pool.forHost(host);
    List<Merged> list = byHost.get(host);
    if (list == null) {
      byHost.computeIfAbsent(host, k -> new ArrayList<>()).add(new Merged(rule, exportTo));
      return;
    }
    DestinationRule dr = rule.spec(DestinationRule.class);
    Map<String, String> selector = dr.workloadSelector();
    boolean appendSeparately = true;
    for (Merged m : list) {
      if (exportTo.equals(m.exportTo)) {
        appendSeparately = false;
      } else if (!m.exportTo.isEmpty() && exportTo.containsAll(m.exportTo)) {
        // A wider exportTo: merged into the earlier rule, and kept on its own as well.
        appendSeparately = true;
      } else {
        appendSeparately = true;
        continue;
      }
      boolean bothWithout = selector.isEmpty() && m.selector.isEmpty();
      boolean bothWith = !selector.isEmpty() && !m.selector.isEmpty();
      boolean selectorsMatch = selector.equals(m.selector);
      if (bothWith && !selectorsMatch) {
        appendSeparately = true;
        continue;
      }
      if (bothWithout || bothWith) {
        appendSeparately = false;
      }
      m.from.add(rule.key());
      m.built = null;
      Set<String> names = new java.util.HashSet<>();
      for (Subset s : m.subsets) {
        names.add(s.name());
      }
      for (Subset s : dr.subsets() == null ? List.<Subset>of() : dr.subsets()) {
        if (names.add(s.name())) {
          m.subsets.add(s);
        } else {
          duplicates
              .computeIfAbsent(rule.key(), k -> new LinkedHashMap<>())
              .putIfAbsent(s.name(), m.first.key());
        }
      }
      if (m.policy == null && dr.trafficPolicy() != null) {
        m.policy = dr.trafficPolicy();
        m.policyFrom = rule.key();
      } else if (dr.trafficPolicy() != null && m.policyFrom != null) {
        shadowedPolicies.putIfAbsent(rule.key(), m.policyFrom);
      }
    }
    if (appendSeparately) {
      list.add(new Merged(rule, exportTo));
    }
  }

  /**
   * The consolidated rules for {@code host} that a proxy in {@code proxyNamespace} may use, as
   * Istio's {@code PushContext.destinationRule}: those of the proxy's namespace (for a proxy in the
   * root namespace, the root namespace's private ones), else those the service's namespace exports
   * to it, else those the root namespace exports to it; the most specific host in each.
   */
  public List<Resource> candidates(String proxyNamespace, String serviceNamespace, String host) {
    if (!proxyNamespace.equals(rootNamespace)) {
      Pool local = namespaceLocal.get(proxyNamespace);
      List<Merged> found = local == null ? null : local.match(host);
      if (found != null) {
        return resources(found);
      }
    } else {
      List<Merged> found = rootLocal.match(host);
      if (found != null) {
        return resources(found);
      }
    }
    List<Resource> out = exportedFrom(serviceNamespace, host, proxyNamespace);
    if (out.isEmpty()) {
      out = exportedFrom(rootNamespace, host, proxyNamespace);
    }
    return out;
  }

  private List<Resource> exportedFrom(String owner, String host, String client) {
    Pool pool = owner == null ? null : exported.get(owner);
    List<Merged> found = pool == null ? null : pool.match(host);
    if (found == null) {
      return List.of();
    }
    List<Resource> out = new ArrayList<>();
    for (Merged m : found) {
      if (m.exportTo.isEmpty() || m.exportTo.contains("*") || m.exportTo.contains(client)) {
        out.add(m.resource());
      }
    }
    return out;
  }

  private static List<Resource> resources(List<Merged> list) {
    List<Resource> out = new ArrayList<>(list.size());
    for (Merged m : list) {
      out.add(m.resource());
    }
    return out;
  }

  /**
   * Istio's {@code SidecarScope.DestinationRule} (outbound): among {@code candidates}, the first
   * rule of the proxy's namespace whose selector selects the proxy's labels; else the last rule
   * without a selector; else null.
   */
  public static Resource select(
      List<Resource> candidates, String proxyNamespace, Map<String, String> labels) {
    Resource catchAll = null;
    for (Resource r : candidates) {
      Map<String, String> selector = r.spec(DestinationRule.class).workloadSelector();
      if (selector.isEmpty()) {
        catchAll = r;
      } else if (r.metadata().namespace().equals(proxyNamespace)
          && Labels.matches(selector, labels)) {
        return r;
      }
    }
    return catchAll;
  }

  /**
   * A key naming the rules a consolidated rule was merged from ({@code ns/a+ns/b+}), equal for
   * equal merges; for a resource not from this index, its own {@code ns/name+}.
   */
  public String key(Resource rule) {
    String k = keys.get(rule);
    return k != null ? k : rule.metadata().namespace() + "/" + rule.metadata().name() + "+";
  }

  /**
   * The subsets of {@code rule} that merging dropped because an earlier rule for the host (the
   * value) already defines one of that name.
   */
  public Map<String, ResourceKey> duplicates(ResourceKey rule) {
    return duplicates.getOrDefault(rule, Map.of());
  }

  /**
   * The earlier rule whose top-level {@code trafficPolicy} is used instead of {@code rule}'s where
   * they were merged, or null.
   */
  public ResourceKey shadowedPolicy(ResourceKey rule) {
    return shadowedPolicies.get(rule);
  }
}
