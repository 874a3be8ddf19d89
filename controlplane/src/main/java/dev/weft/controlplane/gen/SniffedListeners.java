package dev.weft.controlplane.gen;

import com.google.protobuf.Any;
import com.google.protobuf.Duration;
import com.google.protobuf.UInt32Value;
import dev.weft.controlplane.push.ProxyScope;
import dev.weft.controlplane.push.PushContext;
import dev.weft.controlplane.registry.MeshService;
import dev.weft.xds.ClusterName;
import dev.weft.xds.IstioMtls;
import dev.weft.xds.ResourceNames;
import io.envoyproxy.envoy.config.core.v3.TrafficDirection;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.FilterChainMatch;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.listener.v3.ListenerFilter;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.extensions.filters.listener.http_inspector.v3.HttpInspector;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import java.util.ArrayList;
import java.util.List;

/**
 * Listeners for service ports of unknown protocol (no name prefix, no {@code appProtocol}), which
 * Istio serves with protocol sniffing: the TLS inspector and Envoy's {@code
 * envoy.filters.listener.http_inspector} find out what the client speaks, and each listener has a
 * filter chain per answer:
 *
 * <ul>
 *   <li>HTTP ({@code http/1.0}, {@code http/1.1}, {@code h2c} on {@code raw_buffer}: Istio's {@code
 *       plaintextHTTPALPNs}): an HTTP connection manager;
 *   <li>anything else, TLS included: the TCP proxy.
 * </ul>
 *
 * <p>Inbound ({@link #inbound}): Istio's {@code getFilterChainMatchOptions} for protocol auto per
 * PeerAuthentication mode, with Istio's inbound detection timeout ({@link #INBOUND_TIMEOUT}, its
 * {@code INBOUND_PROTOCOL_DETECTION_TIMEOUT}) and {@code continue_on_listener_filters_timeout}.
 * Outbound ({@link #outbound}): {@code <podIP>_P} as for a TCP port in local mode, with the mesh
 * VirtualService's {@code tls} routes by SNI ({@code transport_protocol: tls}), the HTTP chain
 * whose inline route configuration {@code P} routes any authority to the service's routes (the
 * client named the service by connecting to its port, as for TCP), and the {@code tcp} routes as
 * the {@code default_filter_chain}: under Envoy's match order a plaintext connection the HTTP
 * inspector did not recognise, or TLS without a matching SNI, matches no chain and takes the
 * default. The listener filters' timeout is MeshConfig {@code protocolDetectionTimeout} (Istio's
 * default 0s: no timeout), with {@code continue_on_listener_filters_timeout}, so a server-first
 * protocol gets through once it expires.
 */
final class SniffedListeners {
  /** Istio's {@code INBOUND_PROTOCOL_DETECTION_TIMEOUT} default. */
  static final Duration INBOUND_TIMEOUT = Duration.newBuilder().setSeconds(1).build();

  /** Istio's {@code plaintextHTTPALPNs}, as the HTTP inspector names them. */
  static final List<String> PLAINTEXT_HTTP = List.of("http/1.0", "http/1.1", "h2c");

  /** Istio's {@code mtlsHTTPALPNs}: what its sidecars offer for HTTP over mTLS. */
  static final List<String> MTLS_HTTP = List.of("istio-http/1.0", "istio-http/1.1", "istio-h2");

  static final String HTTP_INSPECTOR = "envoy.filters.listener.http_inspector";

  private SniffedListeners() {}

  static ListenerFilter httpInspector() {
    return ListenerFilter.newBuilder()
        .setName(HTTP_INSPECTOR)
        .setTypedConfig(Any.pack(HttpInspector.getDefaultInstance()))
        .build();
  }

  /**
   * A sidecar's inbound listener {@code <ip>_T} for a target port of unknown protocol: {@code http}
   * (the connection manager) and {@code tcp} (network RBAC and the TCP proxy) in Istio's chains for
   * {@code mode} (null: the proxy speaks no TLS, Istio's plaintext options):
   *
   * <ul>
   *   <li>STRICT: mTLS with {@code istio-http/*} ALPN → HTTP; other mTLS → TCP;
   *   <li>PERMISSIVE: those two, plaintext HTTP → HTTP, other plaintext → TCP, and TLS without
   *       Istio's ALPN (a client's own TLS) → TCP, not terminated;
   *   <li>DISABLE (or no TLS): plaintext HTTP → HTTP, other plaintext → TCP, TLS → TCP.
   * </ul>
   */
  static Listener inbound(String ip, int port, Filter http, List<Filter> tcp, MtlsMode mode) {
    Listener.Builder l =
        Listener.newBuilder()
            .setName(ResourceNames.listener(ip, port))
            .setAddress(EnvoyConfig.address(ip, port))
            .setTrafficDirection(TrafficDirection.INBOUND)
            .addListenerFilters(MeshTls.tlsInspector())
            .addListenerFilters(httpInspector())
            .setListenerFiltersTimeout(INBOUND_TIMEOUT)
            .setContinueOnListenerFiltersTimeout(true);
    FilterChainMatch.Builder m =
        FilterChainMatch.newBuilder().setDestinationPort(UInt32Value.of(port));
    FilterChainMatch tlsHttp =
        m.clone()
            .setTransportProtocol(IstioMtls.TRANSPORT_TLS)
            .addAllApplicationProtocols(MTLS_HTTP)
            .build();
    FilterChainMatch tlsTcp =
        m.clone()
            .setTransportProtocol(IstioMtls.TRANSPORT_TLS)
            .addAllApplicationProtocols(IstioMtls.ALPN_IN_MESH)
            .build();
    FilterChainMatch rawHttp =
        m.clone()
            .setTransportProtocol(IstioMtls.TRANSPORT_RAW_BUFFER)
            .addAllApplicationProtocols(PLAINTEXT_HTTP)
            .build();
    FilterChainMatch rawTcp =
        m.clone().setTransportProtocol(IstioMtls.TRANSPORT_RAW_BUFFER).build();
    FilterChainMatch anyTls = m.clone().setTransportProtocol(IstioMtls.TRANSPORT_TLS).build();
    if (mode == MtlsMode.STRICT) {
      l.addFilterChains(chain(tlsHttp, List.of(http), true));
      l.addFilterChains(chain(anyTls, tcp, true));
    } else if (mode == MtlsMode.PERMISSIVE) {
      l.addFilterChains(chain(tlsHttp, List.of(http), true));
      l.addFilterChains(chain(rawHttp, List.of(http), false));
      l.addFilterChains(chain(tlsTcp, tcp, true));
      l.addFilterChains(chain(rawTcp, tcp, false));
      l.addFilterChains(chain(anyTls, tcp, false));
    } else {
      l.addFilterChains(chain(rawHttp, List.of(http), false));
      l.addFilterChains(chain(rawTcp, tcp, false));
      l.addFilterChains(chain(anyTls, tcp, false));
    }
    return l.build();
  }

  private static FilterChain chain(FilterChainMatch match, List<Filter> filters, boolean mtls) {
    FilterChain.Builder c = FilterChain.newBuilder().setFilterChainMatch(match);
    c.addAllFilters(filters);
    if (mtls) {
      c.setTransportSocket(MeshTls.inbound());
    }
    return c.build();
  }

  /**
   * A sidecar's outbound listener {@code <podIP>_P} for {@code svc}'s port {@code port} of unknown
   * protocol (see the class comment); {@code httpFilter} completes a connection manager as a
   * network filter (the listener generator's).
   */
  static Listener outbound(
      PushContext context,
      Proxy proxy,
      ProxyScope scope,
      MeshService svc,
      MeshService.Port port,
      HttpConnectionManager telemetry,
      java.util.function.BiFunction<HttpConnectionManager.Builder, String, Filter> httpFilter) {
    String ip = proxy.ip();
    int p = port.number();
    List<FilterChain> chains = new ArrayList<>();
    for (FilterChain c : TcpRoutes.tlsRoutes(context, proxy, svc, port)) {
      chains.add(
          c.toBuilder()
              .setFilterChainMatch(
                  c.getFilterChainMatch().toBuilder().setTransportProtocol(IstioMtls.TRANSPORT_TLS))
              .build());
    }
    FilterChain fallThrough = null;
    for (FilterChain c : TcpRoutes.sidecar(context, proxy, svc, port)) {
      if (c.getFilterChainMatch().equals(FilterChainMatch.getDefaultInstance())) {
        fallThrough = c.toBuilder().clearFilterChainMatch().build();
      } else {
        chains.add(c);
      }
    }
    RouteConfiguration routes =
        RouteConfiguration.newBuilder()
            .setName(String.valueOf(p))
            .addVirtualHosts(
                VirtualHost.newBuilder()
                    .setName(ResourceNames.virtualHost(svc.hostname(), p))
                    .addDomains("*")
                    .addAllRoutes(
                        RouteGenerator.portRoutes(
                            context, scope, scope.virtualService(svc.hostname()), svc, port)))
            .build();
    HttpConnectionManager.Builder hcm =
        HttpConnectionManager.newBuilder().setRouteConfig(routes).mergeFrom(telemetry);
    chains.add(
        FilterChain.newBuilder()
            .setFilterChainMatch(
                FilterChainMatch.newBuilder()
                    .setTransportProtocol(IstioMtls.TRANSPORT_RAW_BUFFER)
                    .addAllApplicationProtocols(PLAINTEXT_HTTP))
            .addFilters(httpFilter.apply(hcm, "outbound_" + ip + "_" + p))
            .build());
    if (fallThrough == null) {
      fallThrough = TcpRoutes.single(ClusterName.outbound(p, "", svc.hostname()).toString());
    }
    java.time.Duration timeout = context.mesh().protocolDetectionTimeout();
    return Listener.newBuilder()
        .setName(ResourceNames.listener(ip, p))
        .setAddress(EnvoyConfig.address(ip, p))
        .setTrafficDirection(TrafficDirection.OUTBOUND)
        .addListenerFilters(MeshTls.tlsInspector())
        .addListenerFilters(httpInspector())
        .setListenerFiltersTimeout(
            Duration.newBuilder().setSeconds(timeout.getSeconds()).setNanos(timeout.getNano()))
        .setContinueOnListenerFiltersTimeout(true)
        .addAllFilterChains(chains)
        .setDefaultFilterChain(fallThrough)
        .build();
  }
}
