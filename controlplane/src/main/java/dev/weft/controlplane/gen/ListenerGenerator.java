package dev.weft.controlplane.gen;

import com.google.protobuf.Any;
import com.google.protobuf.Message;
import com.google.protobuf.UInt32Value;
import dev.weft.api.Resource;
import dev.weft.api.networking.VirtualService;
import dev.weft.controlplane.gen.authz.AuthorizationGenerator;
import dev.weft.controlplane.push.ProxyScope;
import dev.weft.controlplane.push.PushContext;
import dev.weft.controlplane.registry.MeshService;
import dev.weft.controlplane.registry.Protocol;
import dev.weft.controlplane.registry.Visibility;
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
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * LDS. A sidecar gets {@code <ip>_15001}, the application's HTTP proxy (HTTP connection manager
 * with RDS {@code http_proxy}); {@code <ip>_T} for each inbound target port T: for an HTTP port an
 * inline route configuration {@code inbound|T||} that sends everything to the cluster {@code
 * inbound|T||}, for a TCP port a {@code tcp_proxy} to that cluster. When the sidecar speaks TLS, an
 * inbound listener has Istio's filter chains for the port's effective PeerAuthentication mode
 * ({@link #inboundMtlsListener}); otherwise its one plaintext chain. And {@code <ip>_P} for each
 * TCP port P of every service (local mode has no transparent capture: the app connects to its own
 * pod IP at the service port), {@code tcp_proxy} chains from the service's VirtualService {@code
 * tcp} routes ({@link TcpRoutes}); ports of unknown protocol get sniffing listeners ({@link
 * SniffedListeners}), inbound and outbound. A router gets one listener per HTTP Gateway port,
 * {@code <ip>_<bindPort>}, with RDS {@code http.<bindPort>}, and one per TCP Gateway port with the
 * {@code tcp} routes of the VirtualServices bound to it.
 */
public final class ListenerGenerator implements Generator {
  /** Ports below this need privileges to bind; sidecars get no outbound TCP listener on them. */
  static final int PRIVILEGED_PORTS = 1024;

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
    List<Filter> tcpSecurity = AuthorizationGenerator.networkFilters(context, proxy);
    // Tracing, access logs and metric overrides from the mesh config and the Telemetry API: a
    // gateway and a sidecar's outbound listener are the CLIENT side, inbound listeners SERVER.
    HttpConnectionManager telemetry = Observability.hcmExtras(context, proxy, true);
    HttpConnectionManager serverTelemetry =
        proxy.isRouter() ? telemetry : Observability.hcmExtras(context, proxy, false);
    if (proxy.isRouter()) {
      for (GatewayListener gl : GatewayListener.of(context, proxy)) {
        out.add(
            httpListener(
                ip,
                gl.bindPort(),
                TrafficDirection.OUTBOUND,
                "outbound_" + ip + "_" + gl.bindPort(),
                rds(ResourceNames.gatewayHttpRoute(gl.bindPort()))
                    .addAllHttpFilters(security)
                    .mergeFrom(telemetry)));
      }
      for (GatewayListener gl : GatewayListener.tlsOf(context, proxy)) {
        Listener l = gatewayTlsListener(context, proxy, gl, security);
        if (l != null) {
          out.add(l);
        }
      }
      for (GatewayListener gl : GatewayListener.tcpOf(context, proxy)) {
        List<FilterChain> chains =
            TcpRoutes.gateway(
                context, proxy, gl, boundVirtualServices(context, gl, proxy.namespace()));
        if (!chains.isEmpty()) {
          out.add(tcpListener(ip, gl.bindPort(), TrafficDirection.OUTBOUND, chains));
        }
      }
      Observability.addTcpStats(context, proxy, out);
      return out;
    }
    out.add(
        httpListener(
            ip,
            WellKnownPorts.OUTBOUND,
            TrafficDirection.OUTBOUND,
            "outbound_" + ip + "_" + WellKnownPorts.OUTBOUND,
            rds(ResourceNames.HTTP_PROXY_ROUTE)
                .mergeFrom(telemetry)
                // HTTP/1.1 CONNECT to TCP services (RouteGenerator's connect_matcher routes).
                .addUpgradeConfigs(
                    HttpConnectionManager.UpgradeConfig.newBuilder()
                        .setUpgradeType(RouteGenerator.CONNECT))));
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
            HttpConnectionManager.newBuilder()
                .setRouteConfig(routes)
                .addAllHttpFilters(security)
                .mergeFrom(serverTelemetry);
        if (in.protocol() == Protocol.UNSUPPORTED) {
          // Istio's protocol sniffing: an HTTP chain and a TCP chain, chosen per connection.
          List<Filter> tcp = new ArrayList<>(tcpSecurity);
          tcp.addAll(TcpRoutes.single(cluster).getFiltersList());
          out.add(
              SniffedListeners.inbound(
                  ip,
                  in.port(),
                  httpFilter(hcm, statPrefix),
                  tcp,
                  proxy.mtls() ? mtlsMode(context, proxy, in) : null));
        } else if (!proxy.mtls()) {
          out.add(httpListener(ip, in.port(), TrafficDirection.INBOUND, statPrefix, hcm));
        } else {
          out.add(
              inboundMtlsListener(
                  ip,
                  in.port(),
                  List.of(httpFilter(hcm, statPrefix)),
                  mtlsMode(context, proxy, in),
                  false));
        }
      } else if (in.protocol().isTcp() || in.protocol().isTls()) {
        // Istio's inbound TCP chain: a tcp_proxy to inbound|T|| (stat prefix the cluster), with
        // the same mTLS chains as an HTTP port; a TLS port's bytes pass through as they are.
        // AuthorizationPolicies: Istio's network RBAC filters go before the tcp_proxy.
        FilterChain single = TcpRoutes.single(cluster);
        List<Filter> filters = new ArrayList<>(tcpSecurity);
        filters.addAll(single.getFiltersList());
        if (!proxy.mtls()) {
          FilterChain chain = single.toBuilder().clearFilters().addAllFilters(filters).build();
          out.add(tcpListener(ip, in.port(), TrafficDirection.INBOUND, List.of(chain)));
        } else {
          out.add(inboundMtlsListener(ip, in.port(), filters, mtlsMode(context, proxy, in), true));
        }
      }
    }
    outboundTcp(context, proxy, out, telemetry);
    Observability.addTcpStats(context, proxy, out);
    return out;
  }

  private static MtlsMode mtlsMode(PushContext context, Proxy proxy, InboundPort in) {
    return PeerAuthentications.of(context)
        .forWorkload(proxy.namespace(), proxy.workload().labels())
        .forPort(in.port());
  }

  /**
   * A listener {@code <ip>_P} per TCP port P of every service in the proxy's scope (exportTo,
   * Sidecar egress), in host order; a port some listener already has (an inbound port, 15001, or an
   * earlier service's) is skipped: without service IPs, local mode has one address per sidecar to
   * listen on. Ports below 1024 are skipped too.
   */
  private static void outboundTcp(
      PushContext context, Proxy proxy, List<Message> out, HttpConnectionManager telemetry) {
    String ip = proxy.ip();
    Set<Integer> taken = new HashSet<>();
    taken.add(WellKnownPorts.OUTBOUND);
    taken.add(WellKnownPorts.INBOUND);
    taken.add(WellKnownPorts.PROXY_ADMIN);
    taken.add(WellKnownPorts.HEALTH);
    taken.add(WellKnownPorts.PROMETHEUS);
    for (InboundPort in : InboundPort.of(context, proxy)) {
      taken.add(in.port());
    }
    ProxyScope scope = context.scope(proxy.namespace(), proxy.labels(), false);
    for (MeshService svc : scope.routed()) {
      for (MeshService.Port port : svc.ports()) {
        // A port below 1024 is not bound: a sidecar runs unprivileged, and one listener it cannot
        // bind would keep it from ever being ready.
        boolean tls = port.protocol().isTls();
        boolean sniffed = port.protocol() == Protocol.UNSUPPORTED;
        if (!(port.protocol().isTcp() || tls || sniffed)
            || port.number() < PRIVILEGED_PORTS
            || !taken.add(port.number())) {
          continue;
        }
        if (sniffed) {
          out.add(
              SniffedListeners.outbound(
                  context,
                  proxy,
                  scope,
                  svc,
                  port,
                  telemetry,
                  ListenerGenerator::outboundHttpFilter));
          continue;
        }
        if (tls) {
          // Istio's outbound TLS chains: the tls routes by SNI, the service for the rest.
          Listener.Builder l =
              tcpListener(
                  ip,
                  port.number(),
                  TrafficDirection.OUTBOUND,
                  TcpRoutes.tlsSidecar(context, proxy, svc, port))
                  .toBuilder();
          out.add(l.addListenerFilters(MeshTls.tlsInspector()).build());
          continue;
        }
        out.add(
            tcpListener(
                ip,
                port.number(),
                TrafficDirection.OUTBOUND,
                TcpRoutes.sidecar(context, proxy, svc, port)));
      }
    }
  }

  /**
   * A gateway's listener for its HTTPS and TLS servers on one port, as Istio's gateway listener:
   * the TLS inspector reads the ClientHello's SNI, and each server gets its chains matching its
   * hosts as {@code server_names} ({@code *}: any), in server order. A terminating HTTPS server
   * (SIMPLE, MUTUAL, OPTIONAL_MUTUAL with a {@code credentialName}) gets one chain with its
   * DownstreamTlsContext ({@link GatewayTls#downstream}) and an HTTP connection manager whose RDS
   * is the server's own route configuration ({@link GatewayListener#httpsRouteName}); a PASSTHROUGH
   * server gets its {@code tls} routes' chains ({@link TcpRoutes#tlsGateway}). A chain whose match
   * an earlier chain already has is dropped (Envoy rejects equal matches; Istio keeps the first
   * server). Null when no chain is left.
   */
  private static Listener gatewayTlsListener(
      PushContext context, Proxy proxy, GatewayListener gl, List<HttpFilter> security) {
    String ip = proxy.ip();
    List<FilterChain> chains = new ArrayList<>();
    Set<FilterChainMatch> seen = new HashSet<>();
    for (GatewayListener.BoundServer s : gl.servers()) {
      List<FilterChain> serverChains = new ArrayList<>();
      if (GatewayTls.passthrough(s.server())) {
        serverChains.addAll(
            TcpRoutes.tlsGateway(
                context,
                proxy,
                gl,
                s,
                boundVirtualServices(context, gl.only(s), proxy.namespace())));
      } else if (GatewayTls.terminatesHttps(s.server())) {
        HttpConnectionManager.Builder hcm =
            rds(GatewayListener.httpsRouteName(s)).addAllHttpFilters(security);
        serverChains.add(
            FilterChain.newBuilder()
                .setFilterChainMatch(
                    FilterChainMatch.newBuilder()
                        .addAllServerNames(GatewayTls.serverNames(s.server())))
                .setTransportSocket(GatewayTls.downstream(s.server()))
                .addFilters(outboundHttpFilter(hcm, "outbound_" + ip + "_" + gl.bindPort()))
                .build());
      }
      for (FilterChain c : serverChains) {
        if (seen.add(c.getFilterChainMatch())) {
          chains.add(c);
        }
      }
    }
    if (chains.isEmpty()) {
      return null;
    }
    return tcpListener(ip, gl.bindPort(), TrafficDirection.OUTBOUND, chains).toBuilder()
        .addListenerFilters(MeshTls.tlsInspector())
        .build();
  }

  /**
   * The VirtualServices bound to one of the listener's Gateways and exported to the gateway's
   * namespace, oldest first.
   */
  private static List<Resource> boundVirtualServices(
      PushContext context, GatewayListener gl, String namespace) {
    Set<String> names = gl.gatewayNames();
    List<Resource> out = new ArrayList<>();
    for (Resource r : context.virtualServices()) {
      VirtualService vs = r.spec(VirtualService.class);
      if (!Visibility.visible(vs.exportTo(), r.metadata().namespace(), namespace)) {
        continue;
      }
      for (String g : vs.gateways()) {
        if (names.contains(RouteTranslator.resolveGateway(g, r.metadata().namespace()))) {
          out.add(r);
          break;
        }
      }
    }
    return out;
  }

  private static Listener tcpListener(
      String ip, int port, TrafficDirection direction, List<FilterChain> chains) {
    return Listener.newBuilder()
        .setName(ResourceNames.listener(ip, port))
        .setAddress(EnvoyConfig.address(ip, port))
        .setTrafficDirection(direction)
        .addAllFilterChains(chains)
        .build();
  }

  /**
   * An outbound (sidecar outbound or gateway) connection manager: with Istio's {@code istio.alpn}
   * filter, which Istio adds to every connection manager but a sidecar's inbound ones ({@code
   * buildHTTPConnectionManager}), then completed as {@link #httpFilter}.
   */
  static Filter outboundHttpFilter(HttpConnectionManager.Builder hcm, String statPrefix) {
    hcm.addHttpFilters(EnvoyConfig.alpnFilter());
    return httpFilter(hcm, statPrefix);
  }

  /** The connection manager, completed by {@link #completeHcm}, as a network filter. */
  private static Filter httpFilter(HttpConnectionManager.Builder hcm, String statPrefix) {
    completeHcm(hcm, statPrefix);
    return Filter.newBuilder()
        .setName(EnvoyConfig.HTTP_CONNECTION_MANAGER)
        .setTypedConfig(Any.pack(hcm.build()))
        .build();
  }

  private static HttpConnectionManager.Builder rds(String routeConfigName) {
    return HttpConnectionManager.newBuilder()
        .setRds(
            Rds.newBuilder()
                .setConfigSource(EnvoyConfig.ads())
                .setRouteConfigName(routeConfigName));
  }

  /**
   * A sidecar's inbound listener ({@code filters}: its connection manager, or its network RBAC
   * filters and TCP proxy) with Istio's filter chains for its effective PeerAuthentication mode
   * (Istio's {@code getFilterChainMatchOptions} for an HTTP port), each matching the port and a
   * transport protocol that the TLS inspector (present whenever a chain matches {@code tls})
   * detects:
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
      String ip, int port, List<Filter> filters, MtlsMode mode, boolean tcp) {
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
                  .addAllFilters(filters)
                  .setTransportSocket(MeshTls.inbound(tcp)));
      case PERMISSIVE -> {
        l.addFilterChains(
            FilterChain.newBuilder()
                .setFilterChainMatch(
                    portMatch
                        .clone()
                        .addAllApplicationProtocols(IstioMtls.ALPN_ISTIO_MTLS)
                        .setTransportProtocol(IstioMtls.TRANSPORT_TLS))
                .addAllFilters(filters)
                .setTransportSocket(MeshTls.inbound(tcp)));
        l.addFilterChains(
            FilterChain.newBuilder()
                .setFilterChainMatch(
                    portMatch.clone().setTransportProtocol(IstioMtls.TRANSPORT_RAW_BUFFER))
                .addAllFilters(filters));
      }
      default ->
          l.addFilterChains(
              FilterChain.newBuilder()
                  .setFilterChainMatch(
                      portMatch.clone().setTransportProtocol(IstioMtls.TRANSPORT_RAW_BUFFER))
                  .addAllFilters(filters));
    }
    if (mode == MtlsMode.STRICT || mode == MtlsMode.PERMISSIVE) {
      l.addListenerFilters(MeshTls.tlsInspector());
    }
    return l.build();
  }

  /**
   * Completes an HTTP connection manager whose security filters (jwt_authn, then RBAC) are already
   * in place: the downstream protections, WebSocket upgrades (Istio enables them on every
   * connection manager), then {@code fault} and {@code cors} and the router last, Istio's order
   * ({@code buildHTTPConnectionManager}: authn, authz, ..., fault, cors, ..., router).
   */
  private static void completeHcm(HttpConnectionManager.Builder hcm, String statPrefix) {
    EnvoyConfig.downstreamProtections(hcm)
        .addUpgradeConfigs(
            HttpConnectionManager.UpgradeConfig.newBuilder().setUpgradeType("websocket"))
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
    return Listener.newBuilder()
        .setName(ResourceNames.listener(ip, port))
        .setAddress(EnvoyConfig.address(ip, port))
        .setTrafficDirection(direction)
        .addFilterChains(
            FilterChain.newBuilder()
                .addFilters(
                    direction == TrafficDirection.OUTBOUND
                        ? outboundHttpFilter(hcm, statPrefix)
                        : httpFilter(hcm, statPrefix)))
        .build();
  }
}
