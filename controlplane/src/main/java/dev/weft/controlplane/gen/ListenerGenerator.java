package dev.weft.controlplane.gen;

import com.google.protobuf.Any;
import com.google.protobuf.Message;
import com.google.protobuf.UInt32Value;
import dev.weft.controlplane.gen.authz.AuthorizationGenerator;
import dev.weft.controlplane.push.PushContext;
import dev.weft.xds.ClusterName;
import dev.weft.xds.IstioMtls;
import dev.weft.xds.ResourceNames;
import dev.weft.xds.TypeUrls;
import dev.weft.xds.WellKnownPorts;
import io.envoyproxy.envoy.config.core.v3.TrafficDirection;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.FilterChainMatch;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.Rds;
import java.util.ArrayList;
import java.util.List;

/**
 * LDS. A sidecar gets {@code <ip>_15001}, the application's HTTP proxy (HTTP connection manager
 * with RDS {@code http_proxy}), and {@code <ip>_T} for each inbound target port T, with an inline
 * route configuration {@code inbound|T||} that sends everything to the cluster {@code inbound|T||}
 * (HTTP ports only, for now). When the sidecar speaks TLS, an inbound listener has Istio's filter
 * chains for the port's effective PeerAuthentication mode ({@link #inboundMtlsListener}); otherwise
 * its one plaintext chain. A router gets one listener per Gateway port, {@code <ip>_<bindPort>},
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
    // jwt_authn and RBAC from the RequestAuthentications and AuthorizationPolicies that select
    // this proxy: on its inbound listeners (sidecar) or its gateway listeners, not on 15001.
    List<HttpFilter> security = AuthorizationGenerator.httpFilters(context, proxy);
    if (proxy.isRouter()) {
      for (GatewayListener gl : GatewayListener.of(context, proxy)) {
        out.add(
            httpListener(
                ip,
                gl.bindPort(),
                TrafficDirection.OUTBOUND,
                "outbound_" + ip + "_" + gl.bindPort(),
                rds(ResourceNames.gatewayHttpRoute(gl.bindPort())).addAllHttpFilters(security)));
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
        HttpConnectionManager.Builder hcm =
            HttpConnectionManager.newBuilder().setRouteConfig(routes).addAllHttpFilters(security);
        if (!proxy.mtls()) {
          out.add(httpListener(ip, in.port(), TrafficDirection.INBOUND, statPrefix, hcm));
        } else {
          MtlsMode mode =
              PeerAuthentications.of(context)
                  .forWorkload(proxy.namespace(), proxy.workload().labels())
                  .forPort(in.port());
          out.add(inboundMtlsListener(ip, in.port(), statPrefix, hcm, mode));
        }
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

  /**
   * A sidecar's inbound HTTP listener with Istio's filter chains for its effective
   * PeerAuthentication mode (Istio's {@code getFilterChainMatchOptions} for an HTTP port), each
   * matching the port and a transport protocol that the TLS inspector (present whenever a chain
   * matches {@code tls}) detects:
   *
   * <ul>
   *   <li>STRICT: one chain, {@code transport_protocol: tls}, terminating mTLS; a plaintext
   *       connection matches no chain and is closed;
   *   <li>PERMISSIVE: mTLS for a ClientHello offering one of Istio's ALPN values ({@code istio},
   *       {@code istio-peer-exchange}, {@code istio-http/1.0}, {@code istio-http/1.1}, {@code
   *       istio-h2}), and a plaintext chain ({@code raw_buffer}); anything else matches neither;
   *   <li>DISABLE: the plaintext chain only, no listener filter.
   * </ul>
   */
  private static Listener inboundMtlsListener(
      String ip, int port, String statPrefix, HttpConnectionManager.Builder hcm, MtlsMode mode) {
    completeHcm(hcm, statPrefix);
    Filter filter =
        Filter.newBuilder()
            .setName(EnvoyConfig.HTTP_CONNECTION_MANAGER)
            .setTypedConfig(Any.pack(hcm.build()))
            .build();
    Listener.Builder l =
        Listener.newBuilder()
            .setName(ResourceNames.listener(ip, port))
            .setAddress(EnvoyConfig.address(ip, port))
            .setTrafficDirection(TrafficDirection.INBOUND);
    FilterChainMatch.Builder portMatch =
        FilterChainMatch.newBuilder().setDestinationPort(UInt32Value.of(port));
    switch (mode) {
      case STRICT ->
          l.addFilterChains(
              FilterChain.newBuilder()
                  .setFilterChainMatch(
                      portMatch.clone().setTransportProtocol(IstioMtls.TRANSPORT_TLS))
                  .addFilters(filter)
                  .setTransportSocket(MeshTls.inbound()));
      case PERMISSIVE -> {
        l.addFilterChains(
            FilterChain.newBuilder()
                .setFilterChainMatch(
                    portMatch
                        .clone()
                        .addAllApplicationProtocols(IstioMtls.ALPN_ISTIO_MTLS)
                        .setTransportProtocol(IstioMtls.TRANSPORT_TLS))
                .addFilters(filter)
                .setTransportSocket(MeshTls.inbound()));
        l.addFilterChains(
            FilterChain.newBuilder()
                .setFilterChainMatch(
                    portMatch.clone().setTransportProtocol(IstioMtls.TRANSPORT_RAW_BUFFER))
                .addFilters(filter));
      }
      default ->
          l.addFilterChains(
              FilterChain.newBuilder()
                  .setFilterChainMatch(
                      portMatch.clone().setTransportProtocol(IstioMtls.TRANSPORT_RAW_BUFFER))
                  .addFilters(filter));
    }
    if (mode == MtlsMode.STRICT || mode == MtlsMode.PERMISSIVE) {
      l.addListenerFilters(MeshTls.tlsInspector());
    }
    return l.build();
  }

  /**
   * Completes an HTTP connection manager whose security filters (jwt_authn, then RBAC) are already
   * in place: the downstream protections, then {@code fault} and {@code cors} and the router last,
   * Istio's order ({@code buildHTTPConnectionManager}: authn, authz, ..., fault, cors, ...,
   * router).
   */
  private static void completeHcm(HttpConnectionManager.Builder hcm, String statPrefix) {
    EnvoyConfig.downstreamProtections(hcm)
        .setStatPrefix(statPrefix)
        .addAllHttpFilters(TrafficFeatures.httpFilters())
        .addHttpFilters(EnvoyConfig.routerFilter());
  }

  private static Listener httpListener(
      String ip,
      int port,
      TrafficDirection direction,
      String statPrefix,
      HttpConnectionManager.Builder hcm) {
    completeHcm(hcm, statPrefix);
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
