package dev.weft.controlplane.registry;

/** Istio's host names: FQDNs of Services and resolution of short names. */
public final class Hosts {
  /** The cluster's DNS domain. */
  public static final String DOMAIN = "cluster.local";

  private Hosts() {}

  /** {@code name.namespace.svc.cluster.local}. */
  public static String serviceHost(String name, String namespace) {
    return name + "." + namespace + ".svc." + DOMAIN;
  }

  /**
   * Resolves a host as written in Istio config in {@code namespace}, as Istio's
   * ResolveShortnameToFQDN does: a name without dots ({@code podinfo}) becomes {@code
   * podinfo.<namespace>.svc.cluster.local}; anything else (FQDNs, wildcards, {@code *}) is kept.
   */
  public static String resolve(String host, String namespace) {
    if (host.isEmpty() || host.contains(".") || host.contains("*")) {
      return host;
    }
    return serviceHost(host, namespace);
  }

  /**
   * Whether a (possibly wildcard) config host, {@code *}, {@code *.example.com}, covers {@code
   * host}.
   */
  public static boolean matches(String pattern, String host) {
    if (pattern.equals("*") || pattern.equals(host)) {
      return true;
    }
    if (pattern.startsWith("*")) {
      return host.endsWith(pattern.substring(1));
    }
    return false;
  }

  /** Whether two (possibly wildcard) hosts have a host in common, as Istio's host intersection. */
  public static boolean intersect(String a, String b) {
    return matches(a, b) || matches(b, a);
  }
}
