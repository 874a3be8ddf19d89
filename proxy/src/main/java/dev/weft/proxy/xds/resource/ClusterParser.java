package dev.weft.proxy.xds.resource;

import dev.weft.proxy.config.ClusterConfig;
import dev.weft.proxy.config.ClusterPolicies;
import dev.weft.proxy.config.ClusterPolicy;
import dev.weft.proxy.config.ClusterTransport;
import dev.weft.proxy.config.Endpoint;
import dev.weft.proxy.config.InvalidResourceException;
import dev.weft.proxy.config.OriginalDestinations;
import dev.weft.proxy.config.UpstreamProtocol;
import dev.weft.proxy.tls.TlsContext;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * Parses an xDS {@code Cluster} (CDS) into a {@link ClusterConfig}: discovery type (EDS, STATIC,
 * STRICT_DNS, LOGICAL_DNS, ORIGINAL_DST), connect timeout, load-balancing and circuit-breaking
 * policy ({@link ClusterPolicies}), upstream protocol, and transport sockets (TLS contexts from
 * {@link TlsContexts}). As grpc-java's {@code XdsClusterResource}.
 */
public final class ClusterParser {
  static final int DEFAULT_CONNECT_TIMEOUT_MS = 5_000;

  private ClusterParser() {}

  /**
   * Parses a cluster into its complete, immutable {@link ClusterConfig}; an unexpected failure is
   * an error naming the cluster (never an exception of another kind).
   */
  public static ClusterConfig parse(Cluster c, ClusterConfig previous, ParseContext ctx)
      throws InvalidResourceException {
    return ProtoValues.guarded(
        "cluster " + c.getName() + ": ", () -> parseCluster(c, previous, ctx));
  }

  /**
   * {@link #parse} without the guard. STATIC and DNS clusters get their endpoints now; EDS clusters
   * start empty and get theirs when the configuration is built ({@link ConfigCompiler#build}).
   * {@code previous} (the same-named cluster of the current configuration, or null) lends its
   * round-robin cursor.
   */
  private static ClusterConfig parseCluster(Cluster c, ClusterConfig previous, ParseContext ctx)
      throws InvalidResourceException {
    String name = c.getName();
    if (name.isEmpty()) {
      throw new InvalidResourceException("cluster without a name");
    }
    String where = "cluster " + name + ": ";
    // Istio's istio.services metadata names the service in the standard metrics.
    ctx.stats().cluster(name).serviceMetadata(c.getMetadata());
    if (c.getClusterDiscoveryTypeCase() != Cluster.ClusterDiscoveryTypeCase.TYPE) {
      throw new InvalidResourceException(where + "custom cluster_type is not supported");
    }
    ClusterPolicy policy = ClusterPolicies.compile(where, c);
    ClusterTransport transport = clusterTransport(where, c, ctx);
    UpstreamProtocol protocol = UpstreamProtocol.of(where, c);
    int timeout = DEFAULT_CONNECT_TIMEOUT_MS;
    if (c.hasConnectTimeout()) {
      // Envoy: connect_timeout {gt: {}}.
      long ms = ProtoValues.durationMillis(where + "connect_timeout", c.getConnectTimeout());
      if (ms <= 0 || ms > Integer.MAX_VALUE) {
        throw new InvalidResourceException(
            where + "connect_timeout must be positive and at most " + Integer.MAX_VALUE + " ms");
      }
      timeout = (int) ms;
    }
    dev.weft.proxy.upstream.ClusterState state =
        previous != null
            ? previous.state()
            : new dev.weft.proxy.upstream.ClusterState(
                name, ctx.scheduler(), ctx.stats().cluster(name));
    switch (c.getType()) {
      case EDS -> {
        var eds = c.getEdsClusterConfig();
        if (eds.hasEdsConfig() && !eds.getEdsConfig().hasAds()) {
          throw new InvalidResourceException(where + "eds_config must be ads");
        }
        String service = eds.getServiceName().isEmpty() ? name : eds.getServiceName();
        return new ClusterConfig(
            name,
            "EDS",
            service,
            timeout,
            policy,
            List.of(),
            state,
            ctx.stats().cluster(name),
            transport,
            protocol);
      }
      case STATIC -> {
        // Envoy: a STATIC cluster without load_assignment has no hosts (Istio's BlackHoleCluster).
        List<Endpoint> endpoints =
            c.hasLoadAssignment()
                ? ClusterLoadAssignmentParser.endpoints(
                    name, where, c.getLoadAssignment(), transport, state, ctx.stats())
                : List.of();
        return new ClusterConfig(
            name,
            "STATIC",
            null,
            timeout,
            policy,
            endpoints,
            state,
            ctx.stats().cluster(name),
            transport,
            protocol);
      }
      case STRICT_DNS, LOGICAL_DNS -> {
        // Host names stay unresolved: each connect resolves them off the event loop
        // (upstream.OffLoopResolver), so a slow or failing DNS never stalls the xDS client or an
        // event loop, and an unknown name fails that connection only (503 UF), as in Envoy.
        List<Endpoint> endpoints =
            c.hasLoadAssignment()
                ? dnsEndpoints(name, where, c.getLoadAssignment(), transport, state, ctx)
                : List.of();
        if (c.getType() == Cluster.DiscoveryType.LOGICAL_DNS && endpoints.size() > 1) {
          throw new InvalidResourceException(
              where
                  + "LOGICAL_DNS clusters must have a single locality_lb_endpoint and a single"
                  + " lb_endpoint");
        }
        String type = c.getType().name();
        return new ClusterConfig(
            name,
            type,
            null,
            timeout,
            policy,
            endpoints,
            state,
            ctx.stats().cluster(name),
            transport,
            protocol);
      }
      case ORIGINAL_DST -> {
        if (c.hasLoadAssignment()) {
          throw new InvalidResourceException(
              where + "ORIGINAL_DST clusters must have no load assignment configured");
        }
        String header = null;
        if (c.hasOriginalDstLbConfig() && c.getOriginalDstLbConfig().getUseHttpHeader()) {
          header = c.getOriginalDstLbConfig().getHttpHeaderName();
          if (header.isEmpty()) {
            header = "x-envoy-original-dst-host";
          }
          header = header.toLowerCase(java.util.Locale.ROOT);
        }
        var hosts =
            new OriginalDestinations(
                name,
                ctx.stats()
                    .host(name, java.net.InetSocketAddress.createUnresolved("original_dst", 0)),
                header);
        return new ClusterConfig(
            name,
            "ORIGINAL_DST",
            null,
            timeout,
            policy,
            List.of(),
            state,
            ctx.stats().cluster(name),
            transport,
            protocol,
            hosts);
      }
      default ->
          throw new InvalidResourceException(
              where
                  + "cluster type "
                  + c.getType()
                  + " is not supported (EDS, STATIC, STRICT_DNS, LOGICAL_DNS or ORIGINAL_DST)");
    }
  }

  private static ClusterTransport clusterTransport(String where, Cluster c, ParseContext ctx)
      throws InvalidResourceException {
    if (!c.hasTransportSocket() && c.getTransportSocketMatchesCount() == 0) {
      return ClusterTransport.PLAINTEXT;
    }
    TlsContext def =
        c.hasTransportSocket()
            ? ctx.tlsContexts().upstream(where, c.getName(), c.getTransportSocket())
            : null;
    List<ClusterTransport.Match> matches = new ArrayList<>();
    for (Cluster.TransportSocketMatch m : c.getTransportSocketMatchesList()) {
      String w = where + "transport_socket_matches " + m.getName() + ": ";
      if (!m.hasTransportSocket()) {
        throw new InvalidResourceException(w + "transport_socket is required");
      }
      matches.add(
          new ClusterTransport.Match(
              m.getName(),
              m.getMatch().getFieldsMap(),
              ctx.tlsContexts().upstream(w, c.getName(), m.getTransportSocket())));
    }
    return new ClusterTransport(def, matches);
  }

  /** The endpoints of a DNS cluster's load assignment: host names kept unresolved. */
  private static List<Endpoint> dnsEndpoints(
      String cluster,
      String where,
      ClusterLoadAssignment cla,
      ClusterTransport transport,
      dev.weft.proxy.upstream.ClusterState state,
      ParseContext ctx)
      throws InvalidResourceException {
    List<Endpoint> out = new ArrayList<>();
    int locality = -1;
    for (LocalityLbEndpoints lle : cla.getEndpointsList()) {
      locality++;
      for (LbEndpoint le : lle.getLbEndpointsList()) {
        if (!le.hasEndpoint() || !le.getEndpoint().getAddress().hasSocketAddress()) {
          throw new InvalidResourceException(where + "endpoint without socket_address");
        }
        SocketAddress sa = le.getEndpoint().getAddress().getSocketAddress();
        if (sa.getPortSpecifierCase() != SocketAddress.PortSpecifierCase.PORT_VALUE
            || sa.getPortValue() <= 0
            || sa.getPortValue() > 65535) {
          throw new InvalidResourceException(where + "socket_address needs a valid port_value");
        }
        if (sa.getAddress().isEmpty()) {
          throw new InvalidResourceException(where + "socket_address.address is empty");
        }
        InetSocketAddress a = OriginalDestinations.parse(sa.getAddress() + ":" + sa.getPortValue());
        if (a == null) {
          a = InetSocketAddress.createUnresolved(sa.getAddress(), sa.getPortValue());
        }
        var md = le.getMetadata().getFilterMetadataMap().get(ClusterTransport.METADATA_KEY);
        TlsContext tls = transport.forEndpoint(md);
        out.add(
            new Endpoint(
                cluster,
                a,
                ctx.stats().host(cluster, a),
                tls,
                state.host(Endpoint.healthKey(cluster, a, tls)),
                lle.getPriority(),
                locality,
                lle.hasLoadBalancingWeight() ? lle.getLoadBalancingWeight().getValue() : 0));
      }
    }
    return List.copyOf(out);
  }
}
