package dev.weft.controlplane.gen;

import com.google.protobuf.UInt32Value;
import io.envoyproxy.envoy.config.core.v3.Locality;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Istio's localities: a workload's {@code region/zone/subzone} from its labels ({@code
 * topology.kubernetes.io/region}, {@code topology.kubernetes.io/zone}, {@code
 * topology.istio.io/subzone}), a WorkloadEntry's {@code locality} written into those labels as
 * Istio's {@code AugmentLabels} does, and the endpoint priorities of Istio's locality failover
 * ({@code loadbalancer.applyLocalityFailover}) relative to the calling proxy's locality.
 */
public final class Localities {
  public static final String REGION = "topology.kubernetes.io/region";
  public static final String ZONE = "topology.kubernetes.io/zone";
  public static final String SUBZONE = "topology.istio.io/subzone";

  private Localities() {}

  /** {@code labels} with the parts of {@code locality} ({@code region/zone/subzone}) added. */
  public static Map<String, String> augment(Map<String, String> labels, String locality) {
    if (locality == null || locality.isEmpty()) {
      return labels;
    }
    String[] parts = locality.split("/", -1);
    Map<String, String> out = new TreeMap<>(labels);
    put(out, REGION, parts, 0);
    put(out, ZONE, parts, 1);
    put(out, SUBZONE, parts, 2);
    return out;
  }

  private static void put(Map<String, String> out, String key, String[] parts, int i) {
    if (i < parts.length && !parts[i].isEmpty()) {
      out.put(key, parts[i]);
    }
  }

  /** The Envoy locality of a workload's labels (empty parts when unlabelled). */
  static Locality of(Map<String, String> labels) {
    return Locality.newBuilder()
        .setRegion(labels.getOrDefault(REGION, ""))
        .setZone(labels.getOrDefault(ZONE, ""))
        .setSubZone(labels.getOrDefault(SUBZONE, ""))
        .build();
  }

  /** {@code region/zone/subzone}. */
  static String key(Locality l) {
    return l.getRegion() + "/" + l.getZone() + "/" + l.getSubZone();
  }

  /**
   * Istio's {@code applyLocalityFailover}: each locality's priority relative to the proxy's
   * locality: 0 the same subzone, 1 the same zone, 2 the same region, 3 a region that a {@code
   * failover} entry names for the proxy's region ({@code from} → {@code to}), 4 any other; then
   * renumbered to be contiguous from 0 (Envoy requires it).
   *
   * @param failover {@code from} region → {@code to} regions
   */
  static int[] priorities(
      Locality proxy, List<Locality> localities, Map<String, List<String>> failover) {
    int[] raw = new int[localities.size()];
    for (int i = 0; i < raw.length; i++) {
      raw[i] = rawPriority(proxy, localities.get(i), failover);
    }
    return dense(raw);
  }

  private static int rawPriority(Locality proxy, Locality l, Map<String, List<String>> failover) {
    if (l.getRegion().equals(proxy.getRegion())) {
      if (l.getZone().equals(proxy.getZone())) {
        return l.getSubZone().equals(proxy.getSubZone()) ? 0 : 1;
      }
      return 2;
    }
    return failover.getOrDefault(proxy.getRegion(), List.of()).contains(l.getRegion()) ? 3 : 4;
  }

  /** The distinct values of {@code raw} in order become 0, 1, 2, ... (Envoy's contiguity). */
  private static int[] dense(int[] raw) {
    java.util.TreeSet<Integer> distinct = new java.util.TreeSet<>();
    for (int p : raw) {
      distinct.add(p);
    }
    Map<Integer, Integer> rank = new HashMap<>();
    for (int p : distinct) {
      rank.put(p, rank.size());
    }
    int[] out = new int[raw.length];
    for (int i = 0; i < raw.length; i++) {
      out[i] = rank.get(raw[i]);
    }
    return out;
  }

  /**
   * Istio's {@code util.LocalityMatch}: whether {@code locality} matches {@code rule} ({@code
   * region/zone/subzone}, each part {@code *} for any; a missing zone or subzone matches any).
   */
  static boolean matches(Locality locality, String rule) {
    String[] parts = rule.split("/", -1);
    String region = parts[0];
    String zone = parts.length > 1 ? parts[1] : "";
    String subzone = parts.length > 2 ? parts[2] : "";
    return (region.equals("*") || locality.getRegion().equals(region))
        && (zone.isEmpty() || zone.equals("*") || locality.getZone().equals(zone))
        && (subzone.isEmpty() || subzone.equals("*") || locality.getSubZone().equals(subzone));
  }

  /**
   * Istio's {@code applyLocalityWeights} for {@code localityLbSetting.distribute}: the first entry
   * whose {@code from} matches the proxy's locality sets each locality's {@code
   * load_balancing_weight}: for each {@code to} pattern (in order), the localities it matches (and
   * no earlier pattern did) share its weight in proportion to their endpoint counts, rounded up;
   * localities no pattern matches lose their endpoints. Without a matching entry, nothing changes
   * but the weights (each locality's endpoint count, as Istio's EDS sets them).
   *
   * @param groups the localities' endpoint groups, in the order of {@code localities}
   */
  static void applyWeights(
      Locality proxy,
      List<LocalityLbEndpoints.Builder> groups,
      List<Locality> localities,
      List<?> distribute) {
    for (LocalityLbEndpoints.Builder g : groups) {
      g.setLoadBalancingWeight(UInt32Value.of(g.getLbEndpointsCount()));
    }
    for (Object o : distribute) {
      if (!(o instanceof Map<?, ?> entry)
          || !(entry.get("from") instanceof String from)
          || !matches(proxy, from)) {
        continue;
      }
      Set<Integer> unmatched = new java.util.LinkedHashSet<>();
      for (int i = 0; i < groups.size(); i++) {
        unmatched.add(i);
      }
      if (entry.get("to") instanceof Map<?, ?> to) {
        for (Map.Entry<?, ?> t : to.entrySet()) {
          long weight = t.getValue() instanceof Number n ? n.longValue() : 0;
          Map<Integer, Long> original = new java.util.LinkedHashMap<>();
          long total = 0;
          for (int i : unmatched) {
            if (matches(localities.get(i), String.valueOf(t.getKey()))) {
              long w = groups.get(i).getLoadBalancingWeight().getValue();
              original.put(i, w);
              total += w;
            }
          }
          unmatched.removeAll(original.keySet());
          for (Map.Entry<Integer, Long> m : original.entrySet()) {
            double share = (double) m.getValue() * weight / total;
            if (share > 0) {
              groups.get(m.getKey()).setLoadBalancingWeight(UInt32Value.of((int) Math.ceil(share)));
            }
          }
        }
      }
      for (int i : unmatched) {
        groups.get(i).clearLbEndpoints();
      }
      return;
    }
  }

  /**
   * Endpoint groups after {@link #splitByLabels}, with the locality of each.
   *
   * @param groups the groups, each with its priority
   * @param localities the locality of each group
   */
  record Split(List<LocalityLbEndpoints.Builder> groups, List<Locality> localities) {}

  /**
   * Istio's {@code applyFailoverPriorities}: each locality's endpoints split by how many of the
   * {@code failoverPriority} labels (in order; {@code label=value} compares with that value rather
   * than the proxy's) they share with the proxy: all of them priority 0, else the number of labels
   * from the first mismatch on (a mismatch on the first label is the lowest priority); then the
   * priorities renumbered from 0. Each part keeps its locality, its weight the sum of its
   * endpoints' weights.
   *
   * @param endpointLabels each group's endpoints' labels, in the order of its endpoints
   */
  static Split splitByLabels(
      List<LocalityLbEndpoints.Builder> groups,
      List<List<Map<String, String>>> endpointLabels,
      List<Locality> localities,
      Map<String, String> proxyLabels,
      List<String> failoverPriority) {
    List<String> names = new ArrayList<>();
    Map<String, String> overrides = new HashMap<>();
    for (String entry : failoverPriority) {
      String[] kv = entry.split("=", 2);
      names.add(kv[0]);
      if (kv.length == 2) {
        overrides.put(kv[0], kv[1]);
      }
    }
    List<LocalityLbEndpoints.Builder> out = new ArrayList<>();
    List<Locality> outLocalities = new ArrayList<>();
    List<Integer> raw = new ArrayList<>();
    for (int g = 0; g < groups.size(); g++) {
      LocalityLbEndpoints.Builder group = groups.get(g);
      Map<Integer, LocalityLbEndpoints.Builder> byPriority = new TreeMap<>();
      for (int e = 0; e < group.getLbEndpointsCount(); e++) {
        Map<String, String> labels = endpointLabels.get(g).get(e);
        int priority = 0;
        for (int j = 0; j < names.size(); j++) {
          String name = names.get(j);
          String want = overrides.getOrDefault(name, proxyLabels.getOrDefault(name, ""));
          if (!want.equals(labels.getOrDefault(name, ""))) {
            priority = names.size() - j;
            break;
          }
        }
        byPriority
            .computeIfAbsent(priority, p -> group.clone().clearLbEndpoints())
            .addLbEndpoints(group.getLbEndpoints(e));
      }
      for (Map.Entry<Integer, LocalityLbEndpoints.Builder> part : byPriority.entrySet()) {
        out.add(part.getValue());
        outLocalities.add(localities.get(g));
        raw.add(part.getKey());
      }
    }
    int[] dense = dense(raw.stream().mapToInt(Integer::intValue).toArray());
    for (int i = 0; i < out.size(); i++) {
      out.get(i).setPriority(dense[i]);
    }
    return new Split(out, outLocalities);
  }

  /**
   * Istio's {@code applyLocalityFailover} over groups that already have priorities (from {@code
   * failoverPriority}): each becomes {@code 5 × its priority + its locality's priority}, then all
   * renumbered from 0.
   */
  static void applyFailover(
      Locality proxy,
      List<LocalityLbEndpoints.Builder> groups,
      List<Locality> localities,
      Map<String, List<String>> failover) {
    int[] raw = new int[groups.size()];
    for (int i = 0; i < raw.length; i++) {
      raw[i] = groups.get(i).getPriority() * 5 + rawPriority(proxy, localities.get(i), failover);
    }
    int[] dense = dense(raw);
    for (int i = 0; i < raw.length; i++) {
      groups.get(i).setPriority(dense[i]);
    }
  }

  /**
   * The label names any DestinationRule's {@code failoverPriority} names (EDS depends on the
   * proxy's values of these), once per push context.
   */
  static List<String> failoverPriorityLabels(dev.weft.controlplane.push.PushContext context) {
    return context.cached(
        "failover-priority-labels",
        () -> {
          java.util.TreeSet<String> out = new java.util.TreeSet<>();
          for (dev.weft.api.Resource r :
              context.config().byAge(dev.weft.api.ResourceKind.DESTINATION_RULE)) {
            collect(r.document().get("spec"), out);
          }
          return List.copyOf(out);
        });
  }

  private static void collect(Object node, Set<String> out) {
    if (node instanceof Map<?, ?> m) {
      for (Map.Entry<?, ?> e : m.entrySet()) {
        if ("failoverPriority".equals(e.getKey()) && e.getValue() instanceof List<?> l) {
          for (Object o : l) {
            out.add(String.valueOf(o).split("=", 2)[0]);
          }
        } else {
          collect(e.getValue(), out);
        }
      }
    } else if (node instanceof List<?> l) {
      for (Object o : l) {
        collect(o, out);
      }
    }
  }
}
