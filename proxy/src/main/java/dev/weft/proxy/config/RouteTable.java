package dev.weft.proxy.config;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A compiled route configuration with Envoy's virtual-host selection: an exact domain first, then
 * the longest {@code *suffix} wildcard, then the longest {@code prefix*} wildcard, then {@code *}.
 * The Host is compared case-insensitively and with its port, if any (Istio lists both {@code host}
 * and {@code host:port}).
 */
public final class RouteTable {
  private final String name;
  private final List<VirtualHost> virtualHosts;
  private final Map<String, VirtualHost> exact = new HashMap<>();
  private final List<Map.Entry<String, VirtualHost>> suffixes = new ArrayList<>();
  private final List<Map.Entry<String, VirtualHost>> prefixes = new ArrayList<>();
  private VirtualHost any;

  public RouteTable(String name, List<VirtualHost> virtualHosts) throws InvalidResourceException {
    this.name = name;
    this.virtualHosts = List.copyOf(virtualHosts);
    java.util.Set<String> seen = new java.util.HashSet<>();
    for (VirtualHost vh : virtualHosts) {
      for (String raw : vh.domains()) {
        String d = raw.toLowerCase(Locale.ROOT);
        if (!seen.add(d)) {
          // Envoy: "Only unique values for domains are permitted."
          throw new InvalidResourceException(
              "route " + name + ": domain '" + raw + "' appears in more than one virtual host");
        }
        if (d.equals("*")) {
          any = vh;
        } else if (d.startsWith("*")) {
          suffixes.add(Map.entry(d.substring(1), vh));
        } else if (d.endsWith("*")) {
          prefixes.add(Map.entry(d.substring(0, d.length() - 1), vh));
        } else if (d.isEmpty() || d.indexOf('*') >= 0) {
          throw new InvalidResourceException(
              "route " + name + ": virtual host " + vh.name() + ": invalid domain '" + raw + "'");
        } else {
          exact.put(d, vh);
        }
      }
    }
    Comparator<Map.Entry<String, VirtualHost>> longestFirst =
        Comparator.comparingInt((Map.Entry<String, VirtualHost> e) -> e.getKey().length())
            .reversed();
    suffixes.sort(longestFirst);
    prefixes.sort(longestFirst);
  }

  public String name() {
    return name;
  }

  public List<VirtualHost> virtualHosts() {
    return virtualHosts;
  }

  /** The virtual host for a request's authority (Host header), or null. */
  public VirtualHost virtualHost(String authority) {
    String host = authority.toLowerCase(Locale.ROOT);
    VirtualHost vh = exact.get(host);
    if (vh != null) {
      return vh;
    }
    for (int i = 0; i < suffixes.size(); i++) {
      Map.Entry<String, VirtualHost> e = suffixes.get(i);
      // A wildcard matches at least one character: "*.foo.com" does not match ".foo.com".
      if (host.length() > e.getKey().length() && host.endsWith(e.getKey())) {
        return e.getValue();
      }
    }
    for (int i = 0; i < prefixes.size(); i++) {
      Map.Entry<String, VirtualHost> e = prefixes.get(i);
      if (host.length() > e.getKey().length() && host.startsWith(e.getKey())) {
        return e.getValue();
      }
    }
    return any;
  }
}
