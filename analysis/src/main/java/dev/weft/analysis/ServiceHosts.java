package dev.weft.analysis;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The hosts services and ServiceEntries make visible, by scope: Istio's {@code
 * util.InitServiceEntryHostMap} and {@code util.GetDestinationHost}.
 */
final class ServiceHosts {
  /**
   * What a destination host resolves to.
   *
   * @param ports the port numbers
   * @param workloadSelector a ServiceEntry's workload selector labels (empty for a Service)
   */
  record Entry(List<Integer> ports, Map<String, String> workloadSelector) {}

  private final Map<String, Entry> byScopedFqdn = new LinkedHashMap<>();

  /** The wildcard hosts' entries ({@code scope/*.suffix}), so lookups don't scan every host. */
  private final Map<String, Entry> wildcards = new LinkedHashMap<>();

  ServiceHosts(AnalysisInput in) {
    for (Obj se : in.all("ServiceEntry")) {
      List<Integer> ports = new ArrayList<>();
      for (Map<String, Object> p : Docs.maps(se.spec(), "ports")) {
        ports.add(Docs.integer(p, "number"));
      }
      Entry e = new Entry(ports, Docs.labels(se.spec(), "workloadSelector", "labels"));
      List<String> exportTo = Docs.strs(se.spec(), "exportTo");
      for (String h : Docs.strs(se.spec(), "hosts")) {
        if (Hosts.exportsToAll(exportTo)) {
          put(Hosts.scoped(Hosts.ALL, se.namespace(), h), e);
          continue;
        }
        for (String ns : exportTo) {
          String scope = ns.equals(Hosts.LOCAL) ? se.namespace() : ns;
          put(Hosts.scoped(scope, se.namespace(), h), e);
        }
      }
    }
    for (Obj svc : in.all("Service")) {
      List<Integer> ports = new ArrayList<>();
      for (Map<String, Object> p : Docs.maps(svc.spec(), "ports")) {
        ports.add(Docs.integer(p, "port"));
      }
      Entry e = new Entry(ports, Map.of());
      String anno =
          String.valueOf(svc.annotations().getOrDefault("networking.istio.io/exportTo", ""));
      List<String> scopes = new ArrayList<>();
      if (anno.isEmpty()) {
        scopes.add(Hosts.ALL);
      } else {
        for (String ns : anno.split(",")) {
          ns = ns.strip();
          scopes.add(ns.equals(Hosts.LOCAL) ? svc.namespace() : ns);
        }
      }
      for (String scope : scopes) {
        put(Hosts.scoped(scope, svc.namespace(), svc.name()), e);
      }
    }
  }

  private void put(String scopedFqdn, Entry e) {
    byScopedFqdn.put(scopedFqdn, e);
    if (scopedFqdn.substring(scopedFqdn.indexOf('/') + 1).startsWith("*")) {
      wildcards.put(scopedFqdn, e);
    }
  }

  /** {@code util.GetDestinationHost}: what {@code host} means from {@code sourceNs}, or null. */
  Entry destination(String sourceNs, List<String> exportTo, String host) {
    Entry e = byScopedFqdn.get(Hosts.scoped(Hosts.ALL, sourceNs, host));
    if (e != null) {
      return e;
    }
    if (exportTo.isEmpty()) {
      e = byScopedFqdn.get(Hosts.scoped(sourceNs, sourceNs, host));
      if (e != null) {
        return e;
      }
    } else {
      for (String x : exportTo) {
        String scope = x.equals(Hosts.LOCAL) ? sourceNs : x;
        e = byScopedFqdn.get(Hosts.scoped(scope, sourceNs, host));
        if (e != null) {
          return e;
        }
      }
    }
    for (Map.Entry<String, Entry> s : wildcards.entrySet()) {
      String[] parts = s.getKey().split("/", 2);
      String scope = parts[0];
      String seHost = parts[1];
      if (!seHost.startsWith("*")) {
        continue;
      }
      if (!scope.equals(Hosts.ALL) && !scope.equals(sourceNs)) {
        continue;
      }
      String h = host.startsWith("*") ? host.substring(1) : host;
      if (h.endsWith(seHost.substring(1))) {
        return s.getValue();
      }
    }
    return null;
  }
}
