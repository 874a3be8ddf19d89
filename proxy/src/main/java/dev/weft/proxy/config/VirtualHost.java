package dev.weft.proxy.config;

import java.util.List;

/**
 * A compiled virtual host: its routes, tried in order.
 *
 * @param name e.g. {@code podinfo.demo.svc.cluster.local:80}
 * @param domains the domains as configured
 * @param routes the routes in order
 */
public record VirtualHost(String name, List<String> domains, Route[] routes) {}
