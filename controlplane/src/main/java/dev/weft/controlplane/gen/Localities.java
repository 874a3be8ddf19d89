package dev.weft.controlplane.gen;

import io.envoyproxy.envoy.config.core.v3.Locality;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
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
      Locality l = localities.get(i);
      int p;
      if (l.getRegion().equals(proxy.getRegion())) {
        if (l.getZone().equals(proxy.getZone())) {
          p = l.getSubZone().equals(proxy.getSubZone()) ? 0 : 1;
        } else {
          p = 2;
        }
      } else {
        p = failover.getOrDefault(proxy.getRegion(), List.of()).contains(l.getRegion()) ? 3 : 4;
      }
      raw[i] = p;
    }
    // Renumber: the distinct priorities in order become 0, 1, 2, ...
    Map<Integer, Integer> dense = new HashMap<>();
    List<Integer> distinct = new ArrayList<>();
    for (int p : raw) {
      if (!distinct.contains(p)) {
        distinct.add(p);
      }
    }
    distinct.sort(null);
    for (int i = 0; i < distinct.size(); i++) {
      dense.put(distinct.get(i), i);
    }
    int[] out = new int[raw.length];
    for (int i = 0; i < raw.length; i++) {
      out[i] = dense.get(raw[i]);
    }
    return out;
  }
}
