package dev.weft.proxy.xds.resource;

import dev.weft.proxy.accesslog.AccessLogSinks;
import dev.weft.proxy.config.ClusterConfig;
import dev.weft.proxy.config.ClusterTransport;
import dev.weft.proxy.config.Endpoint;
import dev.weft.proxy.config.InvalidResourceException;
import dev.weft.proxy.config.ListenerConfig;
import dev.weft.proxy.config.RouteTable;
import dev.weft.proxy.config.RuntimeConfig;
import dev.weft.proxy.http.filter.HttpFilterRegistry;
import dev.weft.proxy.stats.ProxyStats;
import dev.weft.proxy.tls.SecretStore;
import dev.weft.proxy.upstream.ClusterState;
import dev.weft.proxy.upstream.Scheduler;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The proxy's xDS compiler: a facade over the per-resource parsers ({@link ListenerParser}, {@link
 * RouteConfigurationParser}, {@link ClusterParser}, {@link ClusterLoadAssignmentParser}, {@link
 * SecretParser}) with one {@link ParseContext}, and the step that binds the parsed pieces into one
 * {@link RuntimeConfig} ({@link #build}). Used by the xDS client and by {@code weft x simulate};
 * owned by one thread (the xDS executor).
 */
public final class ConfigCompiler {
  private ParseContext ctx;

  /** The cluster states of the last {@link #build}: those missing from the next one retire. */
  private Set<ClusterState> published = Set.of();

  public ConfigCompiler(ProxyStats stats) {
    this(ParseContext.builder(stats).build());
  }

  /** A compiler that knows the HTTP filters of {@code httpFilterRegistry}. */
  public ConfigCompiler(ProxyStats stats, HttpFilterRegistry httpFilterRegistry) {
    this(ParseContext.builder(stats).httpFilters(httpFilterRegistry).build());
  }

  /**
   * A compiler whose TLS contexts take their SDS secrets from {@code secrets}.
   *
   * @param secrets the proxy's secrets (in process and from ADS)
   */
  public ConfigCompiler(
      ProxyStats stats, HttpFilterRegistry httpFilterRegistry, SecretStore secrets) {
    this(ParseContext.builder(stats).httpFilters(httpFilterRegistry).secrets(secrets).build());
  }

  /** A compiler whose clusters' outlier detection runs on {@code scheduler}'s clock and thread. */
  public ConfigCompiler(
      ProxyStats stats,
      HttpFilterRegistry httpFilterRegistry,
      SecretStore secrets,
      Scheduler scheduler) {
    this(
        ParseContext.builder(stats)
            .httpFilters(httpFilterRegistry)
            .secrets(secrets)
            .scheduler(scheduler)
            .build());
  }

  /** A compiler over {@code ctx}. */
  public ConfigCompiler(ParseContext ctx) {
    this.ctx = ctx;
  }

  /**
   * Where connection managers' {@code access_log} entries write; without sinks they are ignored.
   * Returns this compiler.
   */
  public ConfigCompiler accessLogSinks(AccessLogSinks sinks) {
    ctx = ctx.withAccessLogSinks(sinks);
    return this;
  }

  /**
   * Tells the compiler the proxy is a router (gateway): its connection managers' spans are SERVER
   * spans whatever the listener's direction. Returns this compiler.
   */
  public ConfigCompiler router(boolean router) {
    ctx = ctx.withRouter(router);
    return this;
  }

  /** The secret store TLS contexts read. */
  public SecretStore secrets() {
    return ctx.secrets();
  }

  /** What the parsers get. */
  public ParseContext context() {
    return ctx;
  }

  /** {@link ListenerParser#parse}. */
  public ListenerConfig listener(Listener l) throws InvalidResourceException {
    return ListenerParser.parse(l, ctx);
  }

  /** {@link RouteConfigurationParser#parse}. */
  public RouteTable routes(RouteConfiguration rc) throws InvalidResourceException {
    return RouteConfigurationParser.parse(rc, ctx);
  }

  /** {@link ClusterParser#parse}. */
  public ClusterConfig cluster(Cluster c, ClusterConfig previous) throws InvalidResourceException {
    return ClusterParser.parse(c, previous, ctx);
  }

  /** {@link SecretParser#parse}. */
  public Secret secret(Secret s) throws InvalidResourceException {
    return SecretParser.parse(s);
  }

  /** {@link ClusterLoadAssignmentParser#parse}. */
  public void validate(ClusterLoadAssignment cla) throws InvalidResourceException {
    ClusterLoadAssignmentParser.parse(cla, ctx);
  }

  /** {@link ClusterLoadAssignmentParser#endpoints}, each endpoint with a host state of its own. */
  public List<Endpoint> endpoints(
      String cluster, String where, ClusterLoadAssignment cla, ClusterTransport transport)
      throws InvalidResourceException {
    return ClusterLoadAssignmentParser.endpoints(cluster, where, cla, transport, null, ctx.stats());
  }

  /** {@link ClusterLoadAssignmentParser#endpoints}. */
  public List<Endpoint> endpoints(
      String cluster,
      String where,
      ClusterLoadAssignment cla,
      ClusterTransport transport,
      ClusterState state)
      throws InvalidResourceException {
    return ClusterLoadAssignmentParser.endpoints(
        cluster, where, cla, transport, state, ctx.stats());
  }

  /**
   * Builds the runtime configuration from validated pieces: EDS clusters get the endpoints of their
   * load assignment (none yet if EDS has not delivered it: such a cluster answers UH).
   */
  public RuntimeConfig build(
      Map<String, ListenerConfig> listeners,
      Map<String, RouteTable> routes,
      Map<String, ClusterConfig> clusters,
      Map<String, ClusterLoadAssignment> assignments) {
    Map<String, ClusterConfig> out = new HashMap<>();
    for (ClusterConfig c : clusters.values()) {
      if (c.type().equals("EDS")) {
        ClusterLoadAssignment cla = assignments.get(c.edsServiceName());
        List<Endpoint> eps = List.of();
        if (cla != null) {
          try {
            eps =
                ClusterLoadAssignmentParser.endpoints(
                    c.name(),
                    "endpoints " + c.edsServiceName() + ": ",
                    cla,
                    c.transport(),
                    c.state(),
                    ctx.stats());
          } catch (InvalidResourceException e) {
            // validated on arrival; cannot happen
          }
        }
        out.put(c.name(), c.withEndpoints(eps));
      } else {
        out.put(c.name(), c);
      }
    }
    // Each cluster's state learns its new version (host set, outlier sweeps) before event loops
    // can see it; the states of clusters that left stop their sweeps.
    Set<ClusterState> live = new java.util.HashSet<>();
    for (ClusterConfig c : out.values()) {
      c.state().publish(c);
      live.add(c.state());
    }
    for (ClusterState old : published) {
      if (!live.contains(old)) {
        old.retire();
      }
    }
    published = live;
    return new RuntimeConfig(listeners, routes, out);
  }
}
