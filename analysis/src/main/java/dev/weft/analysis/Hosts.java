package dev.weft.analysis;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Host names as Istio's analyzers compare them ({@code pkg/config/host}, {@code analyzers/util}).
 */
final class Hosts {
  static final String ALL = "*";
  static final String LOCAL = ".";
  private static final Pattern FQDN = Pattern.compile("^(.+)\\.(.+)\\.svc\\.cluster\\.local$");

  private Hosts() {}

  /** {@code util.ConvertHostToFQDN}: a short name becomes {@code name.ns.svc.cluster.local}. */
  static String fqdn(String namespace, String host) {
    return !host.startsWith("*") && !host.contains(".")
        ? host + "." + namespace + ".svc.cluster.local"
        : host;
  }

  /** {@code util.NewScopedFqdn}: {@code scope/fqdn}. */
  static String scoped(String scope, String namespace, String host) {
    return scope + "/" + fqdn(namespace, host);
  }

  /** {@code util.GetResourceNameFromHost}: {@code ns/name} of a service host. */
  static String resourceName(String defaultNamespace, String host) {
    Matcher m = FQDN.matcher(host);
    return m.matches() ? m.group(2) + "/" + m.group(1) : defaultNamespace + "/" + host;
  }

  /** {@code host.Name.Matches}: wildcard-aware suffix match. */
  static boolean matches(String n, String o) {
    boolean nw = n.startsWith("*");
    boolean ow = o.startsWith("*");
    if (nw) {
      if (ow) {
        return n.length() < o.length()
            ? o.substring(1).endsWith(n.substring(1))
            : n.substring(1).endsWith(o.substring(1));
      }
      return o.endsWith(n.substring(1));
    }
    if (ow) {
      return n.endsWith(o.substring(1));
    }
    return n.equals(o);
  }

  /** {@code host.NamesForNamespace}: hosts visible from {@code namespace}, the prefix removed. */
  static List<String> namesForNamespace(List<String> hosts, String namespace) {
    List<String> out = new ArrayList<>();
    for (String h : hosts) {
      int slash = h.indexOf('/');
      if (slash >= 0) {
        String ns = h.substring(0, slash);
        if (!ns.equals(namespace) && !ns.equals("*")) {
          continue;
        }
        h = h.substring(slash + 1);
      }
      out.add(h);
    }
    return out;
  }

  /** {@code util.IsExportToAllNamespaces}. */
  static boolean exportsToAll(List<String> exportTo) {
    return exportTo.isEmpty() || exportTo.contains(ALL);
  }
}
