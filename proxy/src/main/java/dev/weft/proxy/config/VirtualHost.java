package dev.weft.proxy.config;

import java.util.List;

/**
 * A compiled virtual host: its routes, tried in order.
 *
 * @param name e.g. {@code podinfo.demo.svc.cluster.local:80}
 * @param domains the domains as configured
 * @param routes the routes in order
 * @param requireTls Envoy's {@code require_tls}: {@code NONE}, {@code ALL} or {@code EXTERNAL_ONLY}
 */
public record VirtualHost(String name, List<String> domains, Route[] routes, String requireTls) {
  public VirtualHost(String name, List<String> domains, Route[] routes) {
    this(name, domains, routes, "NONE");
  }
}
