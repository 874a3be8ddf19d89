package dev.weft.cli.inspect;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.weft.cli.common.CliException;
import dev.weft.proxy.config.ClusterConfig;
import dev.weft.proxy.config.Endpoint;
import dev.weft.proxy.config.FilterChainConfig;
import dev.weft.proxy.config.InvalidResourceException;
import dev.weft.proxy.config.ListenerConfig;
import dev.weft.proxy.config.Route;
import dev.weft.proxy.config.RouteAction;
import dev.weft.proxy.config.RouteTable;
import dev.weft.proxy.config.RuntimeConfig;
import dev.weft.proxy.config.VirtualHost;
import dev.weft.proxy.filters.rbac.RbacFilterFactory;
import dev.weft.proxy.http.filter.HttpConnectionManagerConfig;
import dev.weft.proxy.router.Router;
import dev.weft.proxy.stats.ProxyStats;
import dev.weft.proxy.xds.resource.ConfigCompiler;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.HeaderMatcher;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code weft x simulate}'s engine: compiles a proxy's xDS with the proxy's own {@link
 * ConfigCompiler} and runs the proxy's own virtual-host selection ({@link RouteTable#virtualHost})
 * and route matching ({@link Router#match}) on a synthetic request, to say which listener, route,
 * cluster(s) and endpoints the request would meet. Pure: no I/O.
 */
final class Simulator {
  private static final ObjectMapper JSON = new ObjectMapper();

  private Simulator() {}

  /**
   * A synthetic request.
   *
   * @param method e.g. GET
   * @param authority the Host the app sends ({@code host} or {@code host:port})
   * @param path the origin-form path with its query
   * @param port the URL's port (80 when it has none)
   * @param headers the request headers (lower-case names)
   */
  record Request(
      String method, String authority, String path, int port, Map<String, String> headers) {

    /**
     * The request for {@code url} ({@code http://host[:port]/path?query}).
     *
     * @throws CliException in one line when it is not an absolute http URL
     */
    static Request of(String method, String url, Map<String, String> headers) {
      URI u;
      try {
        u = new URI(url);
      } catch (URISyntaxException e) {
        throw new CliException("bad URL \"" + url + "\": " + e.getReason());
      }
      if (!"http".equalsIgnoreCase(u.getScheme()) || u.getHost() == null) {
        throw new CliException(
            "bad URL \"" + url + "\": give an absolute http URL, e.g. http://podinfo.demo:9898/");
      }
      int port = u.getPort() < 0 ? 80 : u.getPort();
      String authority = u.getPort() < 0 ? u.getHost() : u.getHost() + ":" + u.getPort();
      String path = u.getRawPath() == null || u.getRawPath().isEmpty() ? "/" : u.getRawPath();
      if (u.getRawQuery() != null) {
        path += "?" + u.getRawQuery();
      }
      return new Request(method, authority, path, port, Map.copyOf(headers));
    }
  }

  /**
   * One cluster the request may go to.
   *
   * @param name the cluster's name
   * @param weight its weight, of {@code totalWeight}
   * @param totalWeight the sum of the route's weights (equal to {@code weight} for one cluster)
   * @param endpoints the cluster's healthy endpoints ({@code ip:port})
   */
  record Destination(String name, int weight, int totalWeight, List<String> endpoints) {}

  /**
   * What a request meets.
   *
   * @param listener the listener's name
   * @param listenerKind e.g. {@code outbound HTTP proxy}
   * @param routeConfig the route configuration's name
   * @param virtualHost the virtual host's name, or null (no virtual host: 404 NR)
   * @param routeIndex the route's index in the virtual host, or -1 (no route: 404 NR)
   * @param routeName the route's name, or ""
   * @param match the route's match, as a phrase
   * @param virtualService the VirtualService ({@code ns/name}) the route came from, or null
   * @param destinations the clusters, with weights; empty for a direct response or redirect
   * @param direct {@code 200 direct response}, {@code 301 redirect}, or null
   * @param policy the policy decision, as a phrase
   */
  record Prediction(
      String listener,
      String listenerKind,
      String routeConfig,
      String virtualHost,
      int routeIndex,
      String routeName,
      String match,
      String virtualService,
      List<Destination> destinations,
      String direct,
      String policy) {

    /** Whether no route matched (the proxy answers 404 NR). */
    boolean noRoute() {
      return routeIndex < 0;
    }

    /** The cluster names the request may go to. */
    List<String> clusters() {
      return destinations.stream().map(Destination::name).toList();
    }

    /** The prediction as lines a person reads. */
    String text() {
      StringBuilder sb = new StringBuilder();
      sb.append("Listener: ").append(listener).append(" (").append(listenerKind).append(")\n");
      if (virtualHost == null) {
        sb.append("No route: 404 NR (no virtual host of ")
            .append(routeConfig)
            .append(" matches the request's authority)\n");
      } else if (routeIndex < 0) {
        sb.append("No route: 404 NR (no route of virtual host ")
            .append(virtualHost)
            .append(" matches)\n");
      } else {
        sb.append("Route: ")
            .append(routeConfig)
            .append(" / vhost ")
            .append(virtualHost)
            .append(" / route ")
            .append(routeName.isEmpty() ? Integer.toString(routeIndex) : routeName)
            .append(" (")
            .append(
                virtualService == null ? "no VirtualService" : "VirtualService " + virtualService)
            .append(", match: ")
            .append(match)
            .append(")\n");
        if (direct != null) {
          sb.append("Answer: ").append(direct).append('\n');
        }
        for (Destination d : destinations) {
          sb.append("Cluster: ").append(d.name()).append(" (weight ").append(d.weight());
          if (d.totalWeight() != d.weight()) {
            sb.append(" of ").append(d.totalWeight());
          }
          sb.append(")\n");
          sb.append("  Endpoints: ")
              .append(d.endpoints().isEmpty() ? "none (503 UH)" : String.join(", ", d.endpoints()))
              .append('\n');
        }
      }
      sb.append("Policy: ").append(policy).append('\n');
      return sb.toString();
    }

    /** The prediction as JSON ({@code -o json}). */
    String json() {
      ObjectNode o = JSON.createObjectNode();
      o.put("listener", listener);
      o.put("listenerKind", listenerKind);
      o.put("routeConfig", routeConfig);
      o.put("virtualHost", virtualHost);
      o.put("noRoute", noRoute());
      if (!noRoute()) {
        o.put("routeIndex", routeIndex);
        o.put("routeName", routeName);
        o.put("match", match);
        o.put("virtualService", virtualService);
      }
      o.put("direct", direct);
      ArrayNode arr = o.putArray("clusters");
      for (Destination d : destinations) {
        ObjectNode c = arr.addObject();
        c.put("name", d.name());
        c.put("weight", d.weight());
        c.put("totalWeight", d.totalWeight());
        ArrayNode eps = c.putArray("endpoints");
        d.endpoints().forEach(eps::add);
      }
      o.put("policy", policy);
      try {
        return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(o) + "\n";
      } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
        throw new CliException("cannot print the prediction: " + e.getMessage(), e);
      }
    }
  }

  /**
   * What {@code request} meets on the proxy whose xDS is {@code view}.
   *
   * @param router whether the proxy is a gateway (its listener is the one on the URL's port)
   * @param virtualServices each virtual host's VirtualService ({@code ns/name})
   * @throws CliException when the proxy would reject its configuration, or has no listener for the
   *     request
   */
  static Prediction predict(
      ConfigDumpView view, boolean router, Map<String, String> virtualServices, Request request) {
    ConfigCompiler compiler = new ConfigCompiler(new ProxyStats());
    Map<String, ListenerConfig> listeners = new LinkedHashMap<>();
    Map<String, RouteTable> routes = new HashMap<>();
    Map<String, ClusterConfig> clusters = new HashMap<>();
    Map<String, ClusterLoadAssignment> assignments = new HashMap<>();
    try {
      for (Listener l : view.listeners()) {
        listeners.put(l.getName(), compiler.listener(l));
      }
      for (RouteConfiguration rc : view.routes()) {
        routes.put(rc.getName(), compiler.routes(rc));
      }
      for (Cluster c : view.clusters()) {
        clusters.put(c.getName(), compiler.cluster(c, null));
      }
      for (ClusterLoadAssignment cla : view.endpoints()) {
        compiler.validate(cla);
        assignments.put(cla.getClusterName(), cla);
      }
    } catch (InvalidResourceException e) {
      throw new CliException("the proxy would reject its configuration: " + e.getMessage(), e);
    }
    RuntimeConfig runtime = compiler.build(listeners, routes, clusters, assignments);

    ListenerConfig listener = null;
    HttpConnectionManagerConfig hcm = null;
    for (ListenerConfig l : runtime.listeners().values()) {
      for (FilterChainConfig fc : l.filterChains()) {
        if (!(fc.networkFilter() instanceof HttpConnectionManagerConfig h)) {
          continue;
        }
        boolean hit =
            router ? l.address().getPort() == request.port() : "http_proxy".equals(h.rdsName());
        if (hit && listener == null) {
          listener = l;
          hcm = h;
        }
      }
    }
    if (listener == null) {
      throw new CliException(
          router
              ? "the gateway has no HTTP listener on port " + request.port()
              : "the proxy has no outbound HTTP proxy listener (route http_proxy)");
    }
    String kind = router ? "gateway HTTP listener" : "outbound HTTP proxy";
    String policy = policy(hcm);
    String routeConfig = hcm.rdsName() != null ? hcm.rdsName() : hcm.inlineRoutes().name();
    RouteTable table =
        hcm.inlineRoutes() != null ? hcm.inlineRoutes() : runtime.routes().get(hcm.rdsName());
    VirtualHost vh = table == null ? null : table.virtualHost(request.authority());
    if (vh == null) {
      return new Prediction(
          listener.name(), kind, routeConfig, null, -1, "", "", null, List.of(), null, policy);
    }
    HttpHeaders headers = new DefaultHttpHeaders();
    request.headers().forEach(headers::add);
    headers.set("host", request.authority());
    Route route = Router.match(vh, request.path(), request.method(), request.authority(), headers);
    if (route == null) {
      return new Prediction(
          listener.name(), kind, routeConfig, vh.name(), -1, "", "", null, List.of(), null, policy);
    }
    int index = indexOf(vh.routes(), route);
    String match = describeMatch(view, routeConfig, vh.name(), index);
    List<Destination> destinations = new ArrayList<>();
    String direct = null;
    switch (route.action()) {
      case RouteAction.ToCluster c ->
          destinations.add(new Destination(c.cluster(), 100, 100, endpoints(runtime, c.cluster())));
      case RouteAction.Weighted w -> {
        int previous = 0;
        for (int i = 0; i < w.clusters().length; i++) {
          int weight = w.cumulative()[i] - previous;
          previous = w.cumulative()[i];
          destinations.add(
              new Destination(
                  w.clusters()[i], weight, w.totalWeight(), endpoints(runtime, w.clusters()[i])));
        }
      }
      case RouteAction.DirectResponse d -> direct = d.status() + " direct response";
      case RouteAction.Redirect r -> direct = r.status() + " redirect";
    }
    return new Prediction(
        listener.name(),
        kind,
        routeConfig,
        vh.name(),
        index,
        route.name() == null ? "" : route.name(),
        match,
        virtualServices.get(vh.name()),
        List.copyOf(destinations),
        direct,
        policy);
  }

  private static int indexOf(Route[] routes, Route route) {
    for (int i = 0; i < routes.length; i++) {
      if (routes[i] == route) {
        return i;
      }
    }
    return -1;
  }

  private static List<String> endpoints(RuntimeConfig runtime, String cluster) {
    ClusterConfig c = runtime.clusters().get(cluster);
    if (c == null) {
      return List.of();
    }
    return c.endpoints().stream().map(Endpoint::hostPort).toList();
  }

  /**
   * The listener's RBAC decision as a phrase. A sidecar's outbound listener has no RBAC filter:
   * Istio's AuthorizationPolicies are enforced by the destination's inbound listener, which this
   * simulation of the caller's proxy does not reach.
   */
  private static String policy(HttpConnectionManagerConfig hcm) {
    for (int i = 0; i < hcm.httpFilters().size(); i++) {
      if (hcm.httpFilters().filter(i) instanceof RbacFilterFactory rbac) {
        return "an RBAC filter ("
            + rbac.engine().action()
            + ", "
            + rbac.engine().size()
            + " policies) is in this listener's chain; its decision depends on the caller's"
            + " identity and is not simulated";
      }
    }
    return "no RBAC filter on this listener (AuthorizationPolicies are enforced by the"
        + " destination's inbound listener)";
  }

  /** The xDS route's match at {@code index} of virtual host {@code vhost}, as a phrase. */
  private static String describeMatch(
      ConfigDumpView view, String routeConfig, String vhost, int index) {
    for (RouteConfiguration rc : view.routes()) {
      if (!rc.getName().equals(routeConfig)) {
        continue;
      }
      for (var vh : rc.getVirtualHostsList()) {
        if (vh.getName().equals(vhost) && index >= 0 && index < vh.getRoutesCount()) {
          return describe(vh.getRoutes(index).getMatch());
        }
      }
    }
    return "?";
  }

  static String describe(RouteMatch m) {
    List<String> parts = new ArrayList<>();
    switch (m.getPathSpecifierCase()) {
      case PREFIX -> parts.add("prefix \"" + m.getPrefix() + "\"");
      case PATH -> parts.add("path \"" + m.getPath() + "\"");
      case SAFE_REGEX -> parts.add("path regex \"" + m.getSafeRegex().getRegex() + "\"");
      case PATH_SEPARATED_PREFIX -> parts.add("path prefix \"" + m.getPathSeparatedPrefix() + "\"");
      default -> {}
    }
    for (HeaderMatcher h : m.getHeadersList()) {
      parts.add("headers " + h.getName() + " " + (h.getInvertMatch() ? "not " : "") + describe(h));
    }
    for (var q : m.getQueryParametersList()) {
      parts.add("query " + q.getName() + " " + describe(q.getStringMatch()));
    }
    return parts.isEmpty() ? "any" : String.join(", ", parts);
  }

  private static String describe(HeaderMatcher h) {
    return switch (h.getHeaderMatchSpecifierCase()) {
      case STRING_MATCH -> describe(h.getStringMatch());
      case PRESENT_MATCH -> "present";
      case EXACT_MATCH -> "exact \"" + h.getExactMatch() + "\"";
      case PREFIX_MATCH -> "prefix \"" + h.getPrefixMatch() + "\"";
      case SAFE_REGEX_MATCH -> "regex \"" + h.getSafeRegexMatch().getRegex() + "\"";
      default -> h.getHeaderMatchSpecifierCase().name().toLowerCase(java.util.Locale.ROOT);
    };
  }

  private static String describe(StringMatcher s) {
    return switch (s.getMatchPatternCase()) {
      case EXACT -> "exact \"" + s.getExact() + "\"";
      case PREFIX -> "prefix \"" + s.getPrefix() + "\"";
      case SUFFIX -> "suffix \"" + s.getSuffix() + "\"";
      case SAFE_REGEX -> "regex \"" + s.getSafeRegex().getRegex() + "\"";
      case CONTAINS -> "contains \"" + s.getContains() + "\"";
      default -> s.getMatchPatternCase().name().toLowerCase(java.util.Locale.ROOT);
    };
  }
}
