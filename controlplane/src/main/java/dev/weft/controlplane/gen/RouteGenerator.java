package dev.weft.controlplane.gen;

import com.google.protobuf.Message;
import dev.weft.api.Resource;
import dev.weft.api.networking.VirtualService;
import dev.weft.controlplane.push.PushContext;
import dev.weft.controlplane.registry.Hosts;
import dev.weft.controlplane.registry.MeshService;
import dev.weft.xds.ClusterName;
import dev.weft.xds.ResourceNames;
import dev.weft.xds.TypeUrls;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * RDS. A sidecar gets {@code http_proxy}: a virtual host {@code host:port} per HTTP service port,
 * whose domains are the names the app may use for it (as Istio's virtual host domains), routed by
 * the first VirtualService that applies to the mesh for that host, else by a default route to
 * {@code outbound|P||host}. A router gets {@code http.<bindPort>} per gateway listener: a virtual
 * host per host of the VirtualServices bound to the listener's Gateways; with none, no virtual
 * hosts (the proxy answers 404 NR).
 */
public final class RouteGenerator implements Generator {
  @Override
  public String typeUrl() {
    return TypeUrls.ROUTE;
  }

  @Override
  public List<Message> generate(PushContext context, Proxy proxy) {
    List<Message> out = new ArrayList<>();
    if (proxy.isRouter()) {
      for (GatewayListener gl : GatewayListener.of(context, proxy)) {
        out.add(gatewayRoutes(context, gl, ResourceNames.gatewayHttpRoute(gl.bindPort())));
      }
      // A terminating HTTPS server routes its own hosts only (Istio's https.<port>.<name>...).
      for (GatewayListener gl : GatewayListener.tlsOf(context, proxy)) {
        for (GatewayListener.BoundServer s : gl.servers()) {
          if (GatewayTls.terminatesHttps(s.server())) {
            out.add(gatewayRoutes(context, gl.only(s), GatewayListener.httpsRouteName(s)));
          }
        }
      }
    } else {
      // A sidecar's routes depend on the push context and its namespace only (the short-name
      // domains): generated once per namespace and push, and shared (so also serialised once).
      out.add(
          context.cached("rds/sidecar/" + proxy.namespace(), () -> sidecarRoutes(context, proxy)));
    }
    return out;
  }

  private static RouteConfiguration sidecarRoutes(PushContext context, Proxy proxy) {
    RouteConfiguration.Builder rc =
        RouteConfiguration.newBuilder().setName(ResourceNames.HTTP_PROXY_ROUTE);
    Set<String> mesh = Set.of("mesh");
    Set<String> used = new java.util.HashSet<>();
    for (MeshService svc : context.services()) {
      Resource vs = context.meshVirtualService(svc.hostname());
      for (MeshService.Port port : svc.ports()) {
        if (!port.protocol().isHttp()) {
          continue;
        }
        List<Route> routes = List.of();
        if (vs != null) {
          routes =
              RouteTranslator.translate(
                  context, vs, new RouteTranslator.Scope(mesh, port.number(), true));
        }
        if (routes.isEmpty()) {
          routes = List.of(defaultRoute(svc, port));
        }
        // Envoy rejects a domain in two virtual hosts: the first service keeps it, as Istio's
        // dedupeDomains does.
        List<String> domains = new ArrayList<>();
        for (String d : domains(svc, port.number(), proxy.namespace())) {
          if (used.add(d)) {
            domains.add(d);
          }
        }
        if (domains.isEmpty()) {
          continue;
        }
        rc.addVirtualHosts(
            VirtualHost.newBuilder()
                .setName(ResourceNames.virtualHost(svc.hostname(), port.number()))
                .addAllDomains(domains)
                .addAllRoutes(routes));
      }
    }
    return rc.build();
  }

  /** Istio's default outbound route: the whole service, no timeout, Istio's default retries. */
  private static Route defaultRoute(MeshService svc, MeshService.Port port) {
    return Route.newBuilder()
        .setName("default")
        .setMatch(RouteMatch.newBuilder().setPrefix("/"))
        .setRoute(
            RouteAction.newBuilder()
                .setCluster(ClusterName.outbound(port.number(), "", svc.hostname()).toString())
                .setTimeout(EnvoyConfig.NO_TIMEOUT)
                .setRetryPolicy(RouteTranslator.retryPolicy(null)))
        .build();
  }

  /**
   * The names an app may call a service port by, as Istio's virtual host domains: the FQDN, {@code
   * name.ns} and {@code name.ns.svc}, and from the service's own namespace the bare {@code name},
   * each with {@code :port}; without a port only for port 80, the port a client leaves out of the
   * Host header (Istio's appendDomainPort).
   */
  static List<String> domains(MeshService svc, int port, String proxyNamespace) {
    List<String> hosts = new ArrayList<>();
    hosts.add(svc.hostname());
    if (svc.namespace().equals(proxyNamespace)) {
      hosts.add(svc.name());
    }
    hosts.add(svc.name() + "." + svc.namespace());
    hosts.add(svc.name() + "." + svc.namespace() + ".svc");
    List<String> out = new ArrayList<>();
    for (String h : hosts) {
      if (port == 80) {
        out.add(h);
      }
      out.add(h + ":" + port);
    }
    return out;
  }

  private static RouteConfiguration gatewayRoutes(
      PushContext context, GatewayListener gl, String routeName) {
    RouteConfiguration.Builder rc = RouteConfiguration.newBuilder().setName(routeName);
    Set<String> gatewayNames = gl.gatewayNames();
    Map<String, List<Route>> byHost = new LinkedHashMap<>();
    for (Resource r : context.virtualServices()) {
      VirtualService vs = r.spec(VirtualService.class);
      String ns = r.metadata().namespace();
      Set<String> bound = new LinkedHashSet<>();
      for (String g : vs.gateways()) {
        String name = RouteTranslator.resolveGateway(g, ns);
        if (gatewayNames.contains(name)) {
          bound.add(name);
        }
      }
      if (bound.isEmpty()) {
        continue;
      }
      Set<String> hosts = new LinkedHashSet<>();
      for (String h : vs.hosts()) {
        hosts.addAll(matchingHosts(gl, bound, Hosts.resolve(h, ns), ns));
      }
      if (hosts.isEmpty()) {
        continue;
      }
      List<Route> routes =
          RouteTranslator.translate(context, r, new RouteTranslator.Scope(bound, gl.port(), false));
      for (String host : hosts) {
        byHost.computeIfAbsent(host, k -> new ArrayList<>()).addAll(routes);
      }
    }
    // httpsRedirect (Istio: the server's virtual hosts get require_tls ALL, which answers a
    // plain-text request 301 to https): the hosts of such servers, with or without a route.
    Set<String> redirect = new LinkedHashSet<>();
    for (GatewayListener.BoundServer s : gl.servers()) {
      if (GatewayTls.httpsRedirect(s.server())) {
        for (String h : s.server().hosts()) {
          int slash = h.indexOf('/');
          redirect.add(slash < 0 ? h : h.substring(slash + 1));
        }
      }
    }
    for (String h : redirect) {
      byHost.computeIfAbsent(h, k -> new ArrayList<>());
    }
    byHost.forEach(
        (host, routes) -> {
          boolean requireTls = false;
          for (String r : redirect) {
            requireTls |= Hosts.matches(r, host);
          }
          if (routes.isEmpty() && !requireTls) {
            return;
          }
          VirtualHost.Builder vh =
              VirtualHost.newBuilder().setName(ResourceNames.virtualHost(host, gl.port()));
          if (host.equals("*")) {
            vh.addDomains("*");
          } else {
            // Istio: the host with any port.
            vh.addDomains(host).addDomains(host + ":*");
          }
          if (requireTls) {
            vh.setRequireTls(VirtualHost.TlsRequirementType.ALL);
          }
          rc.addVirtualHosts(vh.addAllRoutes(routes));
        });
    return rc.build();
  }

  /**
   * The virtual host names for VirtualService host {@code host} on this listener, as Istio's
   * pickMatchingGatewayHosts: for each server host of a bound Gateway that {@code namespace} may
   * use, the narrower of the two when one covers the other ({@code *} on a server {@code foo.com}
   * gives {@code foo.com}).
   */
  private static List<String> matchingHosts(
      GatewayListener gl, Set<String> bound, String host, String namespace) {
    List<String> out = new ArrayList<>();
    for (GatewayListener.BoundServer s : gl.servers()) {
      if (!bound.contains(s.gatewayName())) {
        continue;
      }
      for (String serverHost : s.hostsFor(namespace)) {
        String vh = null;
        if (Hosts.matches(serverHost, host)) {
          vh = host;
        } else if (Hosts.matches(host, serverHost)) {
          vh = serverHost;
        }
        if (vh != null && !out.contains(vh)) {
          out.add(vh);
        }
      }
    }
    return out;
  }
}
