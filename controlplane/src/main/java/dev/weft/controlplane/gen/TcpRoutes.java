package dev.weft.controlplane.gen;

import com.google.protobuf.Any;
import com.google.protobuf.UInt32Value;
import dev.weft.api.Resource;
import dev.weft.api.networking.VirtualService;
import dev.weft.controlplane.push.PushContext;
import dev.weft.controlplane.registry.Hosts;
import dev.weft.controlplane.registry.Labels;
import dev.weft.controlplane.registry.MeshService;
import dev.weft.xds.ClusterName;
import io.envoyproxy.envoy.config.core.v3.CidrRange;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.FilterChainMatch;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * VirtualService {@code tcp} routes as {@code envoy.filters.network.tcp_proxy} filter chains, as
 * Istio builds them for a TCP listener: routes are tried in order (VirtualServices oldest first); a
 * route applies when one of its {@code match} entries fits the listener (its {@code port}, the
 * proxy's labels and namespace for {@code sourceLabels}/{@code sourceNamespace}, its {@code
 * gateways}), or when it has none. A match with {@code destinationSubnets} becomes a chain whose
 * {@code filter_chain_match.prefix_ranges} are those subnets; the first applicable route without
 * subnets is the listener's default chain and ends the search. Without one, a sidecar's default is
 * the whole service ({@code outbound|P||host}); a gateway has none. A route's destinations become
 * {@code cluster} (one) or {@code weighted_clusters} (several with weights; weight 0 drops one).
 */
final class TcpRoutes {
  private TcpRoutes() {}

  /**
   * Where the chains are for: which matches apply ({@code labels}, {@code namespace}: the proxy's).
   */
  record Scope(
      int port,
      Map<String, String> labels,
      String namespace,
      Set<String> gateways,
      boolean sidecar) {
    Scope(int port, Proxy proxy, Set<String> gateways, boolean sidecar) {
      this(port, proxy.labels(), proxy.namespace(), gateways, sidecar);
    }
  }

  /**
   * The route action of {@code http_proxy}'s CONNECT route to {@code svc}'s TCP port, as a TCP
   * proxy on that port would route: the mesh VirtualService's first applicable {@code tcp} route
   * without {@code destinationSubnets} (a tunnel has no destination address to match), its
   * destinations as {@code cluster} or {@code weighted_clusters}; without one, the whole service.
   */
  static io.envoyproxy.envoy.config.route.v3.RouteAction.Builder connect(
      PushContext context,
      dev.weft.controlplane.push.ProxyScope proxies,
      MeshService svc,
      MeshService.Port port) {
    List<Resource> vss = new ArrayList<>();
    Resource vs = proxies.virtualService(svc.hostname());
    if (vs != null) {
      vss.add(vs);
    }
    String whole = ClusterName.outbound(port.number(), "", svc.hostname()).toString();
    Scope scope =
        new Scope(port.number(), proxies.labels(), proxies.namespace(), Set.of("mesh"), true);
    TcpProxy tcp = null;
    for (FilterChain c : chains(context, vss, scope, whole, whole)) {
      if (c.getFilterChainMatch().getPrefixRangesCount() == 0) {
        try {
          tcp = c.getFilters(0).getTypedConfig().unpack(TcpProxy.class);
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
          throw new IllegalStateException("generated tcp_proxy does not parse", e);
        }
        break;
      }
    }
    var action = io.envoyproxy.envoy.config.route.v3.RouteAction.newBuilder();
    if (tcp == null || !tcp.hasWeightedClusters()) {
      return action.setCluster(tcp == null ? whole : tcp.getCluster());
    }
    var wc = io.envoyproxy.envoy.config.route.v3.WeightedCluster.newBuilder();
    for (TcpProxy.WeightedCluster.ClusterWeight w : tcp.getWeightedClusters().getClustersList()) {
      wc.addClusters(
          io.envoyproxy.envoy.config.route.v3.WeightedCluster.ClusterWeight.newBuilder()
              .setName(w.getName())
              .setWeight(UInt32Value.of(w.getWeight())));
    }
    return action.setWeightedClusters(wc);
  }

  /**
   * The chains of a sidecar's outbound listener for {@code svc}'s TCP port {@code port}: the mesh
   * VirtualService's tcp routes, else the whole service.
   */
  static List<FilterChain> sidecar(
      PushContext context, Proxy proxy, MeshService svc, MeshService.Port port) {
    List<Resource> vss = new ArrayList<>();
    Resource vs = context.meshVirtualService(svc.hostname(), proxy.namespace());
    if (vs != null) {
      vss.add(vs);
    }
    String whole = ClusterName.outbound(port.number(), "", svc.hostname()).toString();
    return chains(
        context, vss, new Scope(port.number(), proxy, Set.of("mesh"), true), whole, whole);
  }

  /** The chains of a gateway's TCP listener: the tcp routes of the VirtualServices bound to it. */
  static List<FilterChain> gateway(
      PushContext context, Proxy proxy, GatewayListener gl, List<Resource> bound) {
    return chains(
        context, bound, new Scope(gl.port(), proxy, gl.gatewayNames(), false), null, null);
  }

  private static List<FilterChain> chains(
      PushContext context,
      List<Resource> vss,
      Scope scope,
      String defaultCluster,
      String statPrefix) {
    List<FilterChain> out = new ArrayList<>();
    Set<List<String>> seen = new HashSet<>();
    FilterChain fallback = null;
    search:
    for (Resource r : vss) {
      VirtualService vs = r.spec(VirtualService.class);
      String ns = r.metadata().namespace();
      for (Map<String, Object> route : vs.tcp()) {
        List<Map<String, Object>> matches = maps(route.get("match"));
        List<List<String>> subnetSets = new ArrayList<>();
        boolean any = matches.isEmpty();
        for (Map<String, Object> m : matches) {
          if (!applies(m, scope, ns)) {
            continue;
          }
          List<String> subnets = strings(m.get("destinationSubnets"));
          if (subnets.isEmpty()) {
            any = true;
          } else {
            subnetSets.add(subnets);
          }
        }
        TcpProxy proxy = tcpProxy(context, route, ns, scope, statPrefix);
        if (proxy == null) {
          continue;
        }
        for (List<String> subnets : subnetSets) {
          if (seen.add(subnets)) {
            out.add(chain(subnets, proxy));
          }
        }
        if (any) {
          fallback = chain(List.of(), proxy);
          break search;
        }
      }
    }
    if (fallback == null && defaultCluster != null) {
      fallback =
          chain(
              List.of(),
              TcpProxy.newBuilder()
                  .setStatPrefix(defaultCluster)
                  .setCluster(defaultCluster)
                  .build());
    }
    if (fallback != null) {
      out.add(fallback);
    }
    return out;
  }

  /**
   * The chains of a gateway's PASSTHROUGH server: the {@code tls} routes of the VirtualServices
   * bound to its Gateway, each applicable match a chain whose {@code server_names} are its {@code
   * sniHosts} that the server exposes (the narrower name where a server host and an SNI host are
   * wildcards of each other, as Istio's gateway SNI matching), relaying the still encrypted bytes.
   * No applicable route, no chain.
   */
  static List<FilterChain> tlsGateway(
      PushContext context,
      Proxy proxy,
      GatewayListener gl,
      GatewayListener.BoundServer server,
      List<Resource> bound) {
    GatewayListener one = gl.only(server);
    return tlsChains(
        context, bound, new Scope(gl.port(), proxy, one.gatewayNames(), false), server, null);
  }

  /**
   * The chains of a sidecar's outbound listener for {@code svc}'s TLS (or HTTPS) port: the mesh
   * VirtualService's {@code tls} routes by SNI, then the whole service for any other connection.
   */
  static List<FilterChain> tlsSidecar(
      PushContext context, Proxy proxy, MeshService svc, MeshService.Port port) {
    List<Resource> vss = new ArrayList<>();
    Resource vs = context.meshVirtualService(svc.hostname());
    if (vs != null) {
      vss.add(vs);
    }
    String whole = ClusterName.outbound(port.number(), "", svc.hostname()).toString();
    return tlsChains(
        context, vss, new Scope(port.number(), proxy, Set.of("mesh"), true), null, whole);
  }

  /**
   * The chains of the mesh VirtualService's {@code tls} routes by SNI for {@code svc}'s port,
   * without a chain for other connections (a sniffed port's TCP chain takes those).
   */
  static List<FilterChain> tlsRoutes(
      PushContext context, Proxy proxy, MeshService svc, MeshService.Port port) {
    List<Resource> vss = new ArrayList<>();
    Resource vs = context.meshVirtualService(svc.hostname());
    if (vs != null) {
      vss.add(vs);
    }
    return tlsChains(
        context, vss, new Scope(port.number(), proxy, Set.of("mesh"), true), null, null);
  }

  private static List<FilterChain> tlsChains(
      PushContext context,
      List<Resource> vss,
      Scope scope,
      GatewayListener.BoundServer server,
      String defaultCluster) {
    List<FilterChain> out = new ArrayList<>();
    Set<List<Object>> seen = new HashSet<>();
    for (Resource r : vss) {
      VirtualService vs = r.spec(VirtualService.class);
      String ns = r.metadata().namespace();
      for (Map<String, Object> route : vs.tls()) {
        TcpProxy proxy = null;
        for (Map<String, Object> m : maps(route.get("match"))) {
          if (!applies(m, scope, ns)) {
            continue;
          }
          List<String> names = new ArrayList<>();
          for (String sni : strings(m.get("sniHosts"))) {
            if (server == null) {
              if (!names.contains(sni)) {
                names.add(sni);
              }
              continue;
            }
            for (String serverHost : server.hostsFor(ns)) {
              String name =
                  Hosts.matches(serverHost, sni)
                      ? sni
                      : Hosts.matches(sni, serverHost) ? serverHost : null;
              if (name != null && !names.contains(name)) {
                names.add(name);
              }
            }
          }
          if (names.contains("*")) {
            names = List.of(); // any name
          }
          List<String> subnets = strings(m.get("destinationSubnets"));
          if (!seen.add(List.of(new java.util.TreeSet<>(names), subnets))) {
            continue; // an earlier route has this match: Envoy rejects equal chains
          }
          if (proxy == null) {
            proxy = tcpProxy(context, route, ns, scope, null);
            if (proxy == null) {
              break;
            }
          }
          FilterChain c = chain(subnets, proxy);
          FilterChainMatch.Builder fm =
              c.getFilterChainMatch().toBuilder().addAllServerNames(names);
          out.add(c.toBuilder().setFilterChainMatch(fm).build());
        }
      }
    }
    if (defaultCluster != null && seen.add(List.of(new java.util.TreeSet<String>(), List.of()))) {
      out.add(single(defaultCluster));
    }
    return out;
  }

  /** A chain that relays every connection to {@code cluster} (stat prefix: the cluster). */
  static FilterChain single(String cluster) {
    return chain(
        List.of(), TcpProxy.newBuilder().setStatPrefix(cluster).setCluster(cluster).build());
  }

  /** Whether a tcp route match fits the listener (Istio's L4 match rules). */
  private static boolean applies(Map<String, Object> m, Scope scope, String namespace) {
    Object port = m.get("port");
    if (port instanceof Number n && n.intValue() != 0 && n.intValue() != scope.port()) {
      return false;
    }
    List<String> gateways = strings(m.get("gateways"));
    if (!gateways.isEmpty()) {
      boolean hit = false;
      for (String g : gateways) {
        String name = g.equals("mesh") ? g : RouteTranslator.resolveGateway(g, namespace);
        hit |= scope.gateways().contains(name);
      }
      if (!hit) {
        return false;
      }
    }
    if (m.get("sourceLabels") instanceof Map<?, ?> labels && !labels.isEmpty()) {
      Map<String, String> required = new java.util.TreeMap<>();
      labels.forEach((k, v) -> required.put(String.valueOf(k), String.valueOf(v)));
      if (!Labels.matches(required, scope.labels())) {
        return false;
      }
    }
    if (m.get("sourceNamespace") instanceof String sn
        && !sn.isEmpty()
        && !sn.equals(scope.namespace())) {
      return false;
    }
    return true;
  }

  /** The route's tcp_proxy, or null when it has no destination with weight. */
  private static TcpProxy tcpProxy(
      PushContext context,
      Map<String, Object> route,
      String namespace,
      Scope scope,
      String statPrefix) {
    List<Map<String, Object>> dests = maps(route.get("route"));
    List<String> clusters = new ArrayList<>();
    List<Integer> weights = new ArrayList<>();
    for (Map<String, Object> d : dests) {
      if (!(d.get("destination") instanceof Map<?, ?> dest)) {
        continue;
      }
      int weight = d.get("weight") instanceof Number n ? n.intValue() : 0;
      if (dests.size() > 1 && weight <= 0) {
        continue; // Istio drops a weight-0 destination of several
      }
      clusters.add(cluster(context, dest, namespace, scope));
      weights.add(weight);
    }
    if (clusters.isEmpty()) {
      return null;
    }
    TcpProxy.Builder t = TcpProxy.newBuilder();
    if (clusters.size() == 1) {
      return t.setStatPrefix(clusters.get(0)).setCluster(clusters.get(0)).build();
    }
    TcpProxy.WeightedCluster.Builder wc = TcpProxy.WeightedCluster.newBuilder();
    for (int i = 0; i < clusters.size(); i++) {
      wc.addClusters(
          TcpProxy.WeightedCluster.ClusterWeight.newBuilder()
              .setName(clusters.get(i))
              .setWeight(weights.get(i)));
    }
    return t.setStatPrefix(statPrefix != null ? statPrefix : clusters.get(0))
        .setWeightedClusters(wc)
        .build();
  }

  /** The cluster of a destination, as {@link RouteTranslator#cluster} for HTTP. */
  private static String cluster(PushContext context, Map<?, ?> d, String namespace, Scope scope) {
    String host = Hosts.resolve(String.valueOf(d.get("host")), namespace);
    String subset = d.get("subset") instanceof String s ? s : "";
    MeshService svc = context.service(host);
    int port = 0;
    if (d.get("port") instanceof Map<?, ?> p && p.get("number") instanceof Number n) {
      port = n.intValue();
    }
    if (port <= 0) {
      if (svc != null && svc.ports().size() == 1) {
        port = svc.ports().get(0).number();
      } else if (scope.sidecar()) {
        port = scope.port();
      } else if (svc != null && !svc.ports().isEmpty()) {
        port = svc.ports().get(0).number();
      } else {
        port = scope.port();
      }
    }
    return ClusterName.outbound(port, subset, host).toString();
  }

  private static FilterChain chain(List<String> subnets, TcpProxy proxy) {
    FilterChain.Builder c = FilterChain.newBuilder();
    if (!subnets.isEmpty()) {
      FilterChainMatch.Builder m = FilterChainMatch.newBuilder();
      for (String s : subnets) {
        m.addPrefixRanges(cidr(s));
      }
      c.setFilterChainMatch(m);
    }
    return c.addFilters(
            Filter.newBuilder().setName(EnvoyConfig.TCP_PROXY).setTypedConfig(Any.pack(proxy)))
        .build();
  }

  /**
   * Istio's {@code util.ConvertAddressToCidr}: {@code a.b.c.d/n}, or a bare address (/32, /128).
   */
  static CidrRange cidr(String subnet) {
    int slash = subnet.indexOf('/');
    String address = slash < 0 ? subnet : subnet.substring(0, slash);
    int len =
        slash < 0
            ? (address.contains(":") ? 128 : 32)
            : Integer.parseInt(subnet.substring(slash + 1));
    return CidrRange.newBuilder()
        .setAddressPrefix(address)
        .setPrefixLen(UInt32Value.of(len))
        .build();
  }

  @SuppressWarnings("unchecked")
  private static List<Map<String, Object>> maps(Object o) {
    List<Map<String, Object>> out = new ArrayList<>();
    if (o instanceof List<?> l) {
      for (Object e : l) {
        if (e instanceof Map<?, ?> m) {
          out.add((Map<String, Object>) m);
        }
      }
    }
    return out;
  }

  private static List<String> strings(Object o) {
    List<String> out = new ArrayList<>();
    if (o instanceof List<?> l) {
      for (Object e : l) {
        out.add(String.valueOf(e));
      }
    }
    return out;
  }
}
