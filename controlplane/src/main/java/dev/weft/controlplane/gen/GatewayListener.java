package dev.weft.controlplane.gen;

import dev.weft.api.Resource;
import dev.weft.api.core.Service;
import dev.weft.api.networking.Gateway;
import dev.weft.api.networking.Server;
import dev.weft.controlplane.push.PushContext;
import dev.weft.controlplane.registry.Hosts;
import dev.weft.controlplane.registry.Labels;
import dev.weft.controlplane.registry.MeshService;
import dev.weft.controlplane.registry.Workload;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * One listener of a gateway (router) proxy: a Gateway server port and the port the proxy binds for
 * it, with the servers of every Gateway that selects the proxy on that port.
 *
 * @param port the Gateway port number ({@code 80})
 * @param bindPort the port the proxy listens on: the targetPort of its own Service's port (80 →
 *     8080), as in Istio, else the port itself
 * @param servers the servers on this port, with their Gateways
 */
record GatewayListener(int port, int bindPort, List<BoundServer> servers) {

  /** The ingress gateway Service that maps Gateway ports to the gateway's ports. */
  static final String INGRESS_SERVICE_HOST =
      Hosts.serviceHost("istio-ingressgateway", "istio-system");

  /**
   * A Gateway server.
   *
   * @param gateway the Gateway resource
   * @param server the server
   */
  record BoundServer(Resource gateway, Server server) {
    /** The Gateway's {@code namespace/name}. */
    String gatewayName() {
      return gateway.metadata().namespace() + "/" + gateway.metadata().name();
    }

    /**
     * The server's hosts that a VirtualService in {@code namespace} may bind, without their {@code
     * namespace/} prefix: {@code ns/host} only from {@code ns}, {@code ./host} only from the
     * Gateway's namespace, {@code *}{@code /host} and {@code host} from any.
     */
    List<String> hostsFor(String namespace) {
      List<String> out = new ArrayList<>();
      if (server.hosts() != null) {
        for (String h : server.hosts()) {
          int slash = h.indexOf('/');
          if (slash < 0) {
            out.add(h);
            continue;
          }
          String ns = h.substring(0, slash);
          if (ns.equals("*")
              || ns.equals(namespace)
              || (ns.equals(".") && namespace.equals(gateway.metadata().namespace()))) {
            out.add(h.substring(slash + 1));
          }
        }
      }
      return out;
    }
  }

  /** The {@code namespace/name}s of the Gateways with servers on this listener. */
  Set<String> gatewayNames() {
    Set<String> names = new LinkedHashSet<>();
    for (BoundServer s : servers) {
      names.add(s.gatewayName());
    }
    return names;
  }

  /**
   * The HTTP listeners of a router proxy: one per port of the HTTP servers of the Gateways whose
   * {@code selector} matches the proxy's labels (an empty selector matches every gateway), ordered
   * by bind port. HTTPS and TLS servers are {@link #tlsOf}; TCP servers are {@link #tcpOf}.
   */
  static List<GatewayListener> of(PushContext context, Proxy proxy) {
    return of(context, proxy, Kind.HTTP);
  }

  /**
   * The TLS listeners of a router proxy: one per port of the HTTPS and TLS servers whose bind port
   * no HTTP listener takes. Their chains are chosen by SNI: a terminating HTTPS server's ({@link
   * GatewayTls#terminatesHttps}), or the {@code tls} routes of a PASSTHROUGH server.
   */
  static List<GatewayListener> tlsOf(PushContext context, Proxy proxy) {
    Set<Integer> taken = new java.util.HashSet<>();
    for (GatewayListener gl : of(context, proxy, Kind.HTTP)) {
      taken.add(gl.bindPort());
    }
    List<GatewayListener> out = new ArrayList<>();
    for (GatewayListener gl : of(context, proxy, Kind.TLS)) {
      if (!taken.contains(gl.bindPort())) {
        out.add(gl);
      }
    }
    return out;
  }

  /**
   * The TCP listeners of a router proxy: one per port of the servers with protocol TCP (or MONGO,
   * REDIS, MYSQL, which Istio also serves with a TCP proxy), whose bind port no HTTP or TLS
   * listener takes.
   */
  static List<GatewayListener> tcpOf(PushContext context, Proxy proxy) {
    Set<Integer> taken = new java.util.HashSet<>();
    for (GatewayListener gl : of(context, proxy, Kind.HTTP)) {
      taken.add(gl.bindPort());
    }
    for (GatewayListener gl : of(context, proxy, Kind.TLS)) {
      taken.add(gl.bindPort());
    }
    List<GatewayListener> out = new ArrayList<>();
    for (GatewayListener gl : of(context, proxy, Kind.TCP)) {
      if (!taken.contains(gl.bindPort())) {
        out.add(gl);
      }
    }
    return out;
  }

  /**
   * Istio's route configuration name for a terminating HTTPS server ({@code gatewayRDSRouteName}):
   * {@code https.<port>.<portName>.<gateway>.<namespace>}, one per server, so a connection that
   * chose a server by SNI routes only that server's hosts.
   */
  static String httpsRouteName(BoundServer s) {
    return "https."
        + s.server().port().number()
        + "."
        + s.server().port().name()
        + "."
        + s.gateway().metadata().name()
        + "."
        + s.gateway().metadata().namespace();
  }

  /** This listener with only {@code s}: what one server's chain routes. */
  GatewayListener only(BoundServer s) {
    return new GatewayListener(port, bindPort, List.of(s));
  }

  private enum Kind {
    HTTP,
    TLS,
    TCP
  }

  private static List<GatewayListener> of(PushContext context, Proxy proxy, Kind kind) {
    if (!proxy.isRouter()) {
      return List.of();
    }
    Map<Integer, List<BoundServer>> byPort = new TreeMap<>();
    Map<Integer, Integer> bindPorts = new TreeMap<>();
    for (Resource g : context.gateways()) {
      Gateway gw = g.spec(Gateway.class);
      Map<String, String> selector = gw.selector() == null ? Map.of() : gw.selector();
      if (!Labels.matches(selector, proxy.labels())) {
        continue;
      }
      if (gw.servers() == null) {
        continue;
      }
      for (Server s : gw.servers()) {
        if (s.port() == null) {
          continue;
        }
        String protocol = s.port().protocol();
        boolean wanted =
            switch (kind) {
              case HTTP -> isHttp(protocol);
              case TLS -> isTls(protocol);
              case TCP -> isTcp(protocol);
            };
        if (!wanted) {
          continue;
        }
        int port = s.port().number();
        int bind = bindPort(context, proxy, port);
        bindPorts.putIfAbsent(bind, port);
        if (bindPorts.get(bind) != port) {
          continue; // two Gateway ports that map to the same proxy port: the first wins
        }
        byPort.computeIfAbsent(bind, k -> new ArrayList<>()).add(new BoundServer(g, s));
      }
    }
    List<GatewayListener> out = new ArrayList<>();
    byPort.forEach(
        (bind, servers) -> out.add(new GatewayListener(bindPorts.get(bind), bind, servers)));
    return out;
  }

  private static boolean isTls(String protocol) {
    return protocol != null
        && (protocol.equalsIgnoreCase("HTTPS") || protocol.equalsIgnoreCase("TLS"));
  }

  private static boolean isHttp(String protocol) {
    if (protocol == null) {
      return false;
    }
    return switch (protocol.toUpperCase(Locale.ROOT)) {
      case "HTTP", "HTTP2", "GRPC" -> true;
      default -> false;
    };
  }

  static boolean isTcp(String protocol) {
    if (protocol == null) {
      return false;
    }
    return switch (protocol.toUpperCase(Locale.ROOT)) {
      case "TCP", "MONGO", "REDIS", "MYSQL" -> true;
      default -> false;
    };
  }

  /**
   * The port the gateway proxy binds for Gateway port {@code port}: the targetPort of that port of
   * a Service selecting the gateway, else of {@code istio-system/istio-ingressgateway}, else the
   * port itself.
   */
  private static int bindPort(PushContext context, Proxy proxy, int port) {
    Workload self = proxy.workload();
    List<MeshService> candidates = new ArrayList<>(context.servicesSelecting(self));
    MeshService ingress = context.service(INGRESS_SERVICE_HOST);
    if (ingress != null) {
      candidates.add(ingress);
    }
    for (MeshService svc : candidates) {
      MeshService.Port p = svc.port(port);
      if (p == null) {
        continue;
      }
      Service.TargetPort target = p.spec().targetPort();
      if (target != null && target.number() > 0) {
        return target.number();
      }
      int resolved = self.targetPort(p.spec());
      if (resolved > 0) {
        return resolved;
      }
    }
    return port;
  }
}
