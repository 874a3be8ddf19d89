package dev.weft.proxy.xds.resource;

import dev.weft.proxy.config.ClusterTransport;
import dev.weft.proxy.config.Endpoint;
import dev.weft.proxy.config.InvalidResourceException;
import dev.weft.proxy.stats.ProxyStats;
import dev.weft.proxy.tls.TlsContext;
import io.envoyproxy.envoy.config.core.v3.HealthStatus;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * Parses an xDS {@code ClusterLoadAssignment} (EDS): validates it on arrival and turns it into a
 * cluster's {@link Endpoint}s (healthy hosts only, with priorities) when the configuration is
 * built. As grpc-java's {@code XdsEndpointResource}.
 */
public final class ClusterLoadAssignmentParser {
  private ClusterLoadAssignmentParser() {}

  /**
   * Validates a ClusterLoadAssignment (EDS) and returns it (see {@link #validate}); an unexpected
   * failure is an error naming the assignment (never an exception of another kind).
   */
  public static ClusterLoadAssignment parse(ClusterLoadAssignment cla, ParseContext ctx)
      throws InvalidResourceException {
    return ProtoValues.guarded(
        "endpoints " + cla.getClusterName() + ": ", () -> validate(cla, ctx));
  }

  /** {@link #parse} without the guard. */
  private static ClusterLoadAssignment validate(ClusterLoadAssignment cla, ParseContext ctx)
      throws InvalidResourceException {
    if (cla.getClusterName().isEmpty()) {
      throw new InvalidResourceException("cluster load assignment without cluster_name");
    }
    endpoints(
        cla.getClusterName(),
        "endpoints " + cla.getClusterName() + ": ",
        cla,
        ClusterTransport.PLAINTEXT,
        null,
        ctx.stats());
    return cla;
  }

  /**
   * The healthy endpoints of a load assignment, for cluster {@code cluster}, each with the
   * transport socket {@code transport} chooses by its {@code envoy.transport_socket_match} metadata
   * and its host state in {@code state} (null: a state of its own).
   */
  public static List<Endpoint> endpoints(
      String cluster,
      String where,
      ClusterLoadAssignment cla,
      ClusterTransport transport,
      dev.weft.proxy.upstream.ClusterState state,
      ProxyStats stats)
      throws InvalidResourceException {
    List<Endpoint> out = new ArrayList<>();
    int locality = -1;
    for (LocalityLbEndpoints lle : cla.getEndpointsList()) {
      locality++;
      // Envoy's bound on priorities; contiguity is not required here (empty levels are skipped).
      if (lle.getPriority() > 127) {
        throw new InvalidResourceException(where + "priority " + lle.getPriority() + " > 127");
      }
      for (LbEndpoint le : lle.getLbEndpointsList()) {
        if (!le.hasEndpoint() || !le.getEndpoint().getAddress().hasSocketAddress()) {
          throw new InvalidResourceException(where + "endpoint without socket_address");
        }
        HealthStatus hs = le.getHealthStatus();
        if (hs == HealthStatus.UNHEALTHY
            || hs == HealthStatus.DRAINING
            || hs == HealthStatus.TIMEOUT) {
          continue;
        }
        InetSocketAddress a =
            ProtoValues.socketAddress(where, le.getEndpoint().getAddress().getSocketAddress());
        var md = le.getMetadata().getFilterMetadataMap().get(ClusterTransport.METADATA_KEY);
        TlsContext tls = transport.forEndpoint(md);
        out.add(
            new Endpoint(
                cluster,
                a,
                stats.host(cluster, a),
                tls,
                state == null
                    ? new dev.weft.proxy.upstream.HostHealth()
                    : state.host(Endpoint.healthKey(cluster, a, tls)),
                lle.getPriority(),
                locality,
                lle.hasLoadBalancingWeight() ? lle.getLoadBalancingWeight().getValue() : 0));
      }
    }
    return List.copyOf(out);
  }
}
