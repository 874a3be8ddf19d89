package dev.weft.controlplane.gen;

import com.google.protobuf.Any;
import com.google.protobuf.Message;
import dev.weft.controlplane.push.PushContext;
import dev.weft.xds.ClusterName;
import dev.weft.xds.ResourceNames;
import dev.weft.xds.TypeUrls;
import dev.weft.xds.WellKnownPorts;
import io.envoyproxy.envoy.config.core.v3.TrafficDirection;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.Rds;
import java.util.ArrayList;
import java.util.List;

/**
 * LDS. A sidecar gets {@code <ip>_15001}, the application's HTTP proxy (HTTP connection manager
 * with RDS {@code http_proxy}), and {@code <ip>_T} for each inbound target port T, with an inline
 * route configuration {@code inbound|T||} that sends everything to the cluster {@code inbound|T||}
 * (HTTP ports only, for now). A router gets one listener per Gateway port, {@code <ip>_<bindPort>},
 * with RDS {@code http.<bindPort>}.
 */
public final class ListenerGenerator implements Generator {
  @Override
  public String typeUrl() {
    return TypeUrls.LISTENER;
  }

  @Override
  public List<Message> generate(PushContext context, Proxy proxy) {
    List<Message> out = new ArrayList<>();
    String ip = proxy.ip();
    if (proxy.isRouter()) {
      for (GatewayListener gl : GatewayListener.of(context, proxy)) {
        out.add(
            httpListener(
                ip,
                gl.bindPort(),
                TrafficDirection.OUTBOUND,
                "outbound_" + ip + "_" + gl.bindPort(),
                rds(ResourceNames.gatewayHttpRoute(gl.bindPort()))));
      }
      return out;
    }
    out.add(
        httpListener(
            ip,
            WellKnownPorts.OUTBOUND,
            TrafficDirection.OUTBOUND,
            "outbound_" + ip + "_" + WellKnownPorts.OUTBOUND,
            rds(ResourceNames.HTTP_PROXY_ROUTE)));
    for (InboundPort in : InboundPort.of(context, proxy)) {
      String cluster = ClusterName.inbound(in.port()).toString();
      String statPrefix = "inbound_" + ip + "_" + in.port();
      if (in.protocol().isHttp()) {
        RouteConfiguration routes =
            RouteConfiguration.newBuilder()
                .setName(cluster)
                .addVirtualHosts(
                    VirtualHost.newBuilder()
                        .setName("inbound|http|" + in.port())
                        .addDomains("*")
                        .addRoutes(
                            Route.newBuilder()
                                .setName("default")
                                .setMatch(RouteMatch.newBuilder().setPrefix("/"))
                                .setRoute(
                                    RouteAction.newBuilder()
                                        .setCluster(cluster)
                                        .setTimeout(EnvoyConfig.NO_TIMEOUT))))
                .build();
        out.add(
            httpListener(
                ip,
                in.port(),
                TrafficDirection.INBOUND,
                statPrefix,
                HttpConnectionManager.newBuilder().setRouteConfig(routes)));
      }
      // Non-HTTP (TCP, TLS...) inbound ports get no listener yet: Weft's proxy serves HTTP only,
      // and one listener it cannot compile would make it reject the whole LDS update.
    }
    return out;
  }

  private static HttpConnectionManager.Builder rds(String routeConfigName) {
    return HttpConnectionManager.newBuilder()
        .setRds(
            Rds.newBuilder()
                .setConfigSource(EnvoyConfig.ads())
                .setRouteConfigName(routeConfigName));
  }

  private static Listener httpListener(
      String ip,
      int port,
      TrafficDirection direction,
      String statPrefix,
      HttpConnectionManager.Builder hcm) {
    EnvoyConfig.downstreamProtections(hcm)
        .setStatPrefix(statPrefix)
        .addAllHttpFilters(TrafficFeatures.httpFilters()) // fault, cors (Istio's order)
        .addHttpFilters(EnvoyConfig.routerFilter());
    return Listener.newBuilder()
        .setName(ResourceNames.listener(ip, port))
        .setAddress(EnvoyConfig.address(ip, port))
        .setTrafficDirection(direction)
        .addFilterChains(
            FilterChain.newBuilder()
                .addFilters(
                    Filter.newBuilder()
                        .setName(EnvoyConfig.HTTP_CONNECTION_MANAGER)
                        .setTypedConfig(Any.pack(hcm.build()))))
        .build();
  }
}
