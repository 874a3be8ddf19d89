package dev.weft.controlplane.gen;

import com.google.protobuf.Any;
import com.google.protobuf.Message;
import com.google.protobuf.UInt32Value;
import dev.weft.api.Resource;
import dev.weft.controlplane.push.Endpoint;
import dev.weft.controlplane.push.PushContext;
import dev.weft.controlplane.registry.MeshService;
import dev.weft.xds.TypeUrls;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import io.envoyproxy.envoy.config.listener.v3.ApiListener;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.Rds;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;

/**
 * xDS for proxyless gRPC clients (grpc-java's {@code xds:///host:port}), as Istio's {@code
 * grpcgen}: only the resources the client names, never a wildcard (gRPC's A27 subscribes by name).
 *
 * <ul>
 *   <li>LDS {@code host:port} (the target's authority; {@code host} the FQDN, {@code name.ns},
 *       {@code name.ns.svc}, or the bare {@code name} in the client's namespace): an {@code
 *       api_listener} holding the HTTP connection manager with RDS (route configuration of the same
 *       name) and the filters {@code envoy.filters.http.fault} then {@code
 *       envoy.filters.http.router} (gRPC A39: the router last).
 *   <li>RDS {@code host:port}: one virtual host with the VirtualService's routes (weights, header
 *       matches, retries, fault injection) adapted to what grpc-java accepts: the route timeout
 *       becomes {@code max_stream_duration} (gRPC A31 ignores {@code timeout}), CORS per-filter
 *       configs are dropped and redirect/direct-response routes are left out (grpc-java NACKs a
 *       route whose action is not {@code route}).
 *   <li>CDS {@code outbound|P|subset|host}: type EDS over ADS, round robin, no TLS.
 *   <li>EDS: the endpoints in one locality whose {@code load_balancing_weight} is the endpoint
 *       count (gRPC A27 drops a locality without weight).
 * </ul>
 *
 * <p>Stateless; every method is a pure function of the push context and the requested names.
 */
public final class GrpcGenerator {
  /** Istio's name for the fault filter. */
  static final String FAULT = "envoy.filters.http.fault";

  private GrpcGenerator() {}

  /**
   * The resources of {@code typeUrl} named in {@code names} that exist in {@code context}; a name
   * that matches nothing is left out (gRPC then reports the resource as absent).
   *
   * @param namespace the client's namespace (its node's {@code NAMESPACE}), for bare names; may be
   *     empty
   */
  public static List<Message> generate(
      String typeUrl, PushContext context, Collection<String> names, String namespace) {
    List<Message> out = new ArrayList<>();
    for (String name : names) {
      Message m =
          switch (typeUrl) {
            case TypeUrls.LISTENER -> listener(context, name, namespace);
            case TypeUrls.ROUTE -> routes(context, name, namespace);
            case TypeUrls.CLUSTER -> cluster(context, name);
            case TypeUrls.ENDPOINT -> endpoints(context, name);
            default -> null;
          };
      if (m != null) {
        out.add(m);
      }
    }
    return out;
  }

  /** A service port a {@code host:port} target names. */
  record Target(MeshService service, MeshService.Port port) {}

  /** The service port {@code name} ({@code host:port}) names, or null. */
  static Target target(PushContext context, String name, String namespace) {
    int colon = name.lastIndexOf(':');
    if (colon <= 0 || colon == name.length() - 1) {
      return null;
    }
    int portNumber;
    try {
      portNumber = Integer.parseInt(name.substring(colon + 1));
    } catch (NumberFormatException e) {
      return null;
    }
    String host = name.substring(0, colon);
    String[] parts = host.split("\\.", -1);
    String fqdn;
    if (parts.length == 1) {
      if (namespace == null || namespace.isEmpty()) {
        return null;
      }
      fqdn = host + "." + namespace + ".svc.cluster.local";
    } else if (parts.length == 2) {
      fqdn = host + ".svc.cluster.local";
    } else if (parts.length == 3 && parts[2].equals("svc")) {
      fqdn = host + ".cluster.local";
    } else {
      fqdn = host;
    }
    MeshService svc = context.service(fqdn);
    if (svc == null) {
      return null;
    }
    MeshService.Port port = svc.port(portNumber);
    if (port == null || !port.protocol().isHttp()) {
      return null;
    }
    return new Target(svc, port);
  }

  private static Listener listener(PushContext context, String name, String namespace) {
    if (target(context, name, namespace) == null) {
      return null;
    }
    HttpConnectionManager hcm =
        HttpConnectionManager.newBuilder()
            .setStatPrefix(name)
            .setRds(Rds.newBuilder().setConfigSource(EnvoyConfig.ads()).setRouteConfigName(name))
            .addHttpFilters(TrafficFeatures.httpFilters().get(0))
            .addHttpFilters(EnvoyConfig.routerFilter())
            .build();
    return Listener.newBuilder()
        .setName(name)
        .setApiListener(ApiListener.newBuilder().setApiListener(Any.pack(hcm)))
        .build();
  }

  private static RouteConfiguration routes(PushContext context, String name, String namespace) {
    Target t = target(context, name, namespace);
    if (t == null) {
      return null;
    }
    List<Route> routes = new ArrayList<>();
    Resource vs = context.meshVirtualService(t.service().hostname());
    if (vs != null) {
      for (Route r :
          RouteTranslator.translate(
              context, vs, new RouteTranslator.Scope(Set.of("mesh"), t.port().number(), true))) {
        Route g = forGrpc(r);
        if (g != null) {
          routes.add(g);
        }
      }
    }
    if (routes.isEmpty()) {
      routes.add(
          Route.newBuilder()
              .setName("default")
              .setMatch(io.envoyproxy.envoy.config.route.v3.RouteMatch.newBuilder().setPrefix("/"))
              .setRoute(
                  RouteAction.newBuilder()
                      .setCluster(
                          dev.weft.xds.ClusterName.outbound(
                                  t.port().number(), "", t.service().hostname())
                              .toString())
                      .setRetryPolicy(RouteTranslator.retryPolicy(null)))
              .build());
    }
    String host = name.substring(0, name.lastIndexOf(':'));
    List<String> domains = new ArrayList<>(List.of(name, host));
    String fqdnPort = t.service().hostname() + ":" + t.port().number();
    if (!domains.contains(fqdnPort)) {
      domains.add(fqdnPort);
    }
    return RouteConfiguration.newBuilder()
        .setName(name)
        .addVirtualHosts(
            VirtualHost.newBuilder()
                .setName(
                    dev.weft.xds.ResourceNames.virtualHost(
                        t.service().hostname(), t.port().number()))
                .addAllDomains(domains)
                .addAllRoutes(routes))
        .build();
  }

  /**
   * A sidecar route as grpc-java accepts it, or null for one it would NACK (redirect, direct
   * response). gRPC A31: a route's deadline is {@code max_stream_duration}; {@code timeout} is not
   * read. gRPC A39: a per-filter config for a filter the client lacks (CORS) is an error.
   */
  static Route forGrpc(Route r) {
    if (!r.hasRoute()) {
      return null;
    }
    Route.Builder b = r.toBuilder();
    RouteAction.Builder a = b.getRouteBuilder();
    if (a.hasTimeout()) {
      com.google.protobuf.Duration timeout = a.getTimeout();
      a.clearTimeout();
      if (timeout.getSeconds() != 0 || timeout.getNanos() != 0) {
        a.setMaxStreamDuration(
            RouteAction.MaxStreamDuration.newBuilder().setMaxStreamDuration(timeout));
      }
    }
    // gRPC does not rewrite paths or authorities; leave nothing it would silently ignore.
    a.clearPrefixRewrite().clearRegexRewrite().clearHostRewriteLiteral();
    a.clearRequestMirrorPolicies();
    b.clearTypedPerFilterConfig();
    if (r.getTypedPerFilterConfigMap().containsKey(FAULT)) {
      b.putTypedPerFilterConfig(FAULT, r.getTypedPerFilterConfigMap().get(FAULT));
    }
    b.clearRequestHeadersToAdd()
        .clearRequestHeadersToRemove()
        .clearResponseHeadersToAdd()
        .clearResponseHeadersToRemove();
    return b.build();
  }

  private static Cluster cluster(PushContext context, String name) {
    for (OutboundCluster c : OutboundCluster.all(context)) {
      if (c.name().toString().equals(name)) {
        return Cluster.newBuilder()
            .setName(name)
            .setType(Cluster.DiscoveryType.EDS)
            .setEdsClusterConfig(
                Cluster.EdsClusterConfig.newBuilder()
                    .setEdsConfig(EnvoyConfig.ads())
                    .setServiceName(name))
            .setConnectTimeout(ClusterGenerator.CONNECT_TIMEOUT)
            .setLbPolicy(Cluster.LbPolicy.ROUND_ROBIN)
            .build();
      }
    }
    return null;
  }

  private static ClusterLoadAssignment endpoints(PushContext context, String name) {
    for (OutboundCluster c : OutboundCluster.all(context)) {
      if (!c.name().toString().equals(name)) {
        continue;
      }
      ClusterLoadAssignment.Builder cla = ClusterLoadAssignment.newBuilder().setClusterName(name);
      List<Endpoint> endpoints = context.endpoints(c.service(), c.port(), c.subsetLabels());
      if (!endpoints.isEmpty()) {
        LocalityLbEndpoints.Builder locality =
            LocalityLbEndpoints.newBuilder()
                .setLoadBalancingWeight(UInt32Value.of(endpoints.size()));
        for (Endpoint e : endpoints) {
          locality.addLbEndpoints(
              LbEndpoint.newBuilder()
                  .setLoadBalancingWeight(UInt32Value.of(1))
                  .setEndpoint(
                      io.envoyproxy.envoy.config.endpoint.v3.Endpoint.newBuilder()
                          .setAddress(EnvoyConfig.address(e.address(), e.port()))));
        }
        cla.addEndpoints(locality);
      }
      return cla.build();
    }
    return null;
  }
}
