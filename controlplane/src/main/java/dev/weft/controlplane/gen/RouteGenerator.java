package dev.weft.controlplane.gen;

import com.google.protobuf.Message;
import dev.weft.api.Resource;
import dev.weft.api.networking.VirtualService;
import dev.weft.controlplane.push.ProxyScope;
import dev.weft.controlplane.push.PushContext;
import dev.weft.controlplane.push.RouteChanges;
import dev.weft.controlplane.registry.Hosts;
import dev.weft.controlplane.registry.MeshService;
import dev.weft.controlplane.registry.Visibility;
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
 * RDS. A sidecar gets {@code http_proxy}: a virtual host {@code host:port} per HTTP port (and, for
 * CONNECT tunnels only, per TCP port: {@link #connectVirtualHost}) of each service its scope routes
 * ({@link ProxyScope#routed}: exportTo, Sidecar egress hosts; Services and ServiceEntry hosts),
 * whose domains are the names the app may use for it (as Istio's virtual host domains), routed by
 * the first VirtualService exported to it that applies to the mesh for that host (matches whose
 * {@code sourceLabels}/{@code sourceNamespace} the proxy fails left out), else by a default route
 * to {@code outbound|P||host}; then Istio's catch-all {@code allow_any} or {@code block_all}
 * ({@link #catchAll}). A router gets {@code http.<bindPort>} per gateway listener: a virtual host
 * per host of the VirtualServices bound to the listener's Gateways; with none, no virtual hosts
 * (the proxy answers 404 NR).
 */
public final class RouteGenerator implements Generator {
  @Override
  public String typeUrl() {
    return TypeUrls.ROUTE;
  }

  @Override
  public List<Message> generate(PushContext context, Proxy proxy) {
    List<Message> out = new ArrayList<>();
    ProxyScope scope = context.scope(proxy.namespace(), proxy.labels(), proxy.isRouter());
    if (proxy.isRouter()) {
      for (GatewayListener gl : GatewayListener.of(context, proxy)) {
        out.add(gatewayRoutes(context, gl, ResourceNames.gatewayHttpRoute(gl.bindPort()), scope));
      }
      // A terminating HTTPS server routes its own hosts only (Istio's https.<port>.<name>...).
      for (GatewayListener gl : GatewayListener.tlsOf(context, proxy)) {
        for (GatewayListener.BoundServer s : gl.servers()) {
          if (GatewayTls.terminatesHttps(s.server())) {
            out.add(gatewayRoutes(context, gl.only(s), GatewayListener.httpsRouteName(s), scope));
          }
        }
      }
    } else {
      // A sidecar's routes depend on the push context and its scope only (its namespace's short
      // names, its Sidecar, its sourceLabels outcomes): generated once per scope and push, and
      // shared (so also serialised once).
      out.add(
          context.cached(
              PushContext.SIDECAR_ROUTES + scope.key(), () -> sidecarRoutes(context, scope)));
    }
    return out;
  }

  /**
   * A sidecar scope's {@code http_proxy}: after a change of VirtualServices only, the previous
   * push's configuration with the virtual hosts of the changed hosts regenerated ({@link
   * #updatedSidecarRoutes}); else generated whole.
   */
  static RouteConfiguration sidecarRoutes(PushContext context, ProxyScope scope) {
    RouteChanges changed = context.changes().routes();
    if (changed != null
        && context.previousSidecarRoutes(scope.key()) instanceof RouteConfiguration previous) {
      return updatedSidecarRoutes(context, scope, previous, changed);
    }
    return fullSidecarRoutes(context, scope);
  }

  /**
   * {@code previous} (this scope's routes in the previous push context, which differs from this one
   * in VirtualServices and Gateways only) with the virtual hosts of the hosts {@code changed}
   * affects regenerated, as Istio regenerates only the XdsCache entries a change invalidates. The
   * services, their order, ports and domains are the previous context's, so every other virtual
   * host is the previous object itself (its encoding and version are then found, not computed
   * again: {@code ResourceCache}). Equal to {@link #fullSidecarRoutes} (tested).
   */
  static RouteConfiguration updatedSidecarRoutes(
      PushContext context, ProxyScope scope, RouteConfiguration previous, RouteChanges changed) {
    RouteConfiguration.Builder rc = RouteConfiguration.newBuilder().setName(previous.getName());
    for (VirtualHost vh : previous.getVirtualHostsList()) {
      String name = vh.getName();
      int colon = name.lastIndexOf(':');
      MeshService svc = colon < 0 ? null : context.service(name.substring(0, colon));
      if (svc == null || !changed.affects(svc.hostname())) {
        rc.addVirtualHosts(vh);
        continue;
      }
      int number = Integer.parseInt(name.substring(colon + 1));
      MeshService.Port port = null;
      for (MeshService.Port p : svc.ports()) {
        if (p.number() == number) {
          port = p;
          break;
        }
      }
      if (port == null) {
        return fullSidecarRoutes(context, scope); // not a service port's virtual host after all
      }
      List<Route> routes =
          port.protocol().isTcp()
              ? List.of(connectRoute(context, scope, svc, port))
              : portRoutes(context, scope, scope.virtualService(svc.hostname()), svc, port);
      rc.addVirtualHosts(vh.toBuilder().clearRoutes().addAllRoutes(routes).build());
    }
    return rc.build();
  }

  /** A sidecar scope's {@code http_proxy}, every virtual host generated. */
  static RouteConfiguration fullSidecarRoutes(PushContext context, ProxyScope scope) {
    RouteConfiguration.Builder rc =
        RouteConfiguration.newBuilder().setName(ResourceNames.HTTP_PROXY_ROUTE);
    Set<String> used = new java.util.HashSet<>();
    for (MeshService svc : scope.routed()) {
      Resource vs = scope.virtualService(svc.hostname());
      for (MeshService.Port port : svc.ports()) {
        if (port.protocol().isTcp()) {
          connectVirtualHost(context, scope, rc, used, svc, port);
          continue;
        }
        if (!port.protocol().isHttp()) {
          continue;
        }
        List<Route> routes = portRoutes(context, scope, vs, svc, port);
        // Envoy rejects a domain in two virtual hosts: the first service keeps it, as Istio's
        // dedupeDomains does.
        List<String> domains = new ArrayList<>();
        for (String d : domains(svc, port.number(), scope.namespace())) {
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
    rc.addVirtualHosts(catchAll(scope.registryOnly()));
    return rc.build();
  }

  /**
   * The routes of a sidecar's virtual host for {@code svc}'s HTTP port: its mesh VirtualService's
   * {@code http} routes ({@code vs}, may be null) for that port, else the default route to the
   * whole service.
   */
  static List<Route> portRoutes(
      PushContext context, ProxyScope scope, Resource vs, MeshService svc, MeshService.Port port) {
    List<Route> routes = List.of();
    if (vs != null) {
      routes =
          RouteTranslator.translate(
              context, vs, new RouteTranslator.Scope(Set.of("mesh"), port.number(), true, scope));
    }
    return routes.isEmpty() ? List.of(defaultRoute(svc, port)) : routes;
  }

  /**
   * Istio's last virtual host of {@code http_proxy} ({@code httproute.go}), for hosts outside the
   * registry: under {@code ALLOW_ANY}, {@code allow_any} routing every path to {@code
   * PassthroughCluster} (no timeout); under {@code REGISTRY_ONLY}, {@code block_all} answering 502
   * itself (a direct response, so no upstream and no response flag).
   */
  static VirtualHost catchAll(boolean registryOnly) {
    RouteMatch all = RouteMatch.newBuilder().setPrefix("/").build();
    if (registryOnly) {
      return VirtualHost.newBuilder()
          .setName(ResourceNames.BLACK_HOLE_ROUTE)
          .addDomains("*")
          .addRoutes(
              Route.newBuilder()
                  .setName(ResourceNames.BLACK_HOLE_ROUTE)
                  .setMatch(all)
                  .setDirectResponse(
                      io.envoyproxy.envoy.config.route.v3.DirectResponseAction.newBuilder()
                          .setStatus(502)))
          .build();
    }
    return VirtualHost.newBuilder()
        .setName(ResourceNames.PASSTHROUGH_ROUTE)
        .addDomains("*")
        .addRoutes(
            Route.newBuilder()
                .setName(ResourceNames.PASSTHROUGH_ROUTE)
                .setMatch(all)
                .setRoute(
                    RouteAction.newBuilder()
                        .setCluster(ResourceNames.PASSTHROUGH_CLUSTER)
                        .setTimeout(EnvoyConfig.NO_TIMEOUT)))
        .build();
  }

  /**
   * Local mode's way in for TCP clients (docs/architecture.md): a virtual host {@code host:port}
   * for a TCP service port (tcp, mongo, redis, mysql) whose one route takes HTTP/1.1 {@code CONNECT
   * host:port} (Envoy's {@code connect_matcher}) and terminates it, tunnelling the bytes where the
   * port's TCP listener would send them ({@link TcpRoutes#connect}: the VirtualService's {@code
   * tcp} routes, weighted, else {@code outbound|P||host}) (Envoy's route {@code upgrade_configs}
   * CONNECT with a {@code connect_config}; the outbound connection manager enables CONNECT).
   * CONNECT always names a port, so only the {@code :port} domains.
   */
  private static void connectVirtualHost(
      PushContext context,
      ProxyScope scope,
      RouteConfiguration.Builder rc,
      Set<String> used,
      MeshService svc,
      MeshService.Port port) {
    List<String> domains = new ArrayList<>();
    for (String d : domains(svc, port.number(), scope.namespace())) {
      if (d.indexOf(':') > 0 && used.add(d)) {
        domains.add(d);
      }
    }
    if (domains.isEmpty()) {
      return;
    }
    rc.addVirtualHosts(
        VirtualHost.newBuilder()
            .setName(ResourceNames.virtualHost(svc.hostname(), port.number()))
            .addAllDomains(domains)
            .addRoutes(connectRoute(context, scope, svc, port)));
  }

  /** The one route of a TCP port's CONNECT virtual host. */
  private static Route connectRoute(
      PushContext context, ProxyScope scope, MeshService svc, MeshService.Port port) {
    return Route.newBuilder()
        .setName("connect")
        .setMatch(
            RouteMatch.newBuilder()
                .setConnectMatcher(RouteMatch.ConnectMatcher.getDefaultInstance()))
        .setRoute(
            // The port's VirtualService tcp routes (weights), as its TCP listener.
            TcpRoutes.connect(context, scope, svc, port)
                .setTimeout(EnvoyConfig.NO_TIMEOUT)
                .addUpgradeConfigs(
                    RouteAction.UpgradeConfig.newBuilder()
                        .setUpgradeType(CONNECT)
                        .setConnectConfig(
                            RouteAction.UpgradeConfig.ConnectConfig.getDefaultInstance())))
        .build();
  }

  /** Envoy's upgrade type of HTTP CONNECT. */
  static final String CONNECT = "CONNECT";

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
    if (svc.isServiceEntry()) {
      // A ServiceEntry host has no short names (Istio's generateVirtualHostDomains for hosts
      // outside the cluster domain); a wildcard host stays a wildcard domain.
      // Its IP addresses too, as Istio adds a service's VIPs.
      for (String a : svc.addresses()) {
        if (!a.contains("/")) {
          hosts.add(a.contains(":") ? "[" + a + "]" : a);
        }
      }
      List<String> out = new ArrayList<>();
      for (String h : hosts) {
        if (port == 80) {
          out.add(h);
        }
        out.add(h + ":" + port);
      }
      return out;
    }
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
      PushContext context, GatewayListener gl, String routeName, ProxyScope scope) {
    RouteConfiguration.Builder rc = RouteConfiguration.newBuilder().setName(routeName);
    Set<String> gatewayNames = gl.gatewayNames();
    Map<String, List<Route>> byHost = new LinkedHashMap<>();
    for (Resource r : context.virtualServices()) {
      VirtualService vs = r.spec(VirtualService.class);
      String ns = r.metadata().namespace();
      // Istio: a gateway sees the VirtualServices exported to its namespace.
      if (!Visibility.visible(vs.exportTo(), ns, scope.namespace())) {
        continue;
      }
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
          RouteTranslator.translate(
              context, r, new RouteTranslator.Scope(bound, gl.port(), false, scope));
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
