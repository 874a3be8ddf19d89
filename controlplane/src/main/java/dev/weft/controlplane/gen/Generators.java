package dev.weft.controlplane.gen;

import com.google.protobuf.Message;
import dev.weft.xds.TypeUrls;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import java.util.List;

/** The generators, in Istio's push order: CDS, EDS, LDS, RDS, SDS. */
public final class Generators {
  /**
   * CDS → EDS → LDS → RDS → SDS: clusters before their endpoints, listeners before their routes,
   * secrets last (Istio's {@code PushOrder}).
   */
  public static final List<Generator> ALL =
      List.of(
          new ClusterGenerator(),
          new EndpointGenerator(),
          new ListenerGenerator(),
          new RouteGenerator(),
          new SecretGenerator());

  /** The type URLs in push order. */
  public static final List<String> TYPE_ORDER =
      List.of(
          TypeUrls.CLUSTER, TypeUrls.ENDPOINT, TypeUrls.LISTENER, TypeUrls.ROUTE, TypeUrls.SECRET);

  private Generators() {}

  /** The generator of {@code typeUrl}, or null. */
  public static Generator of(String typeUrl) {
    for (Generator g : ALL) {
      if (g.typeUrl().equals(typeUrl)) {
        return g;
      }
    }
    return null;
  }

  /** A resource's name as xDS subscriptions name it. */
  public static String name(Message resource) {
    return switch (resource) {
      case Cluster c -> c.getName();
      case ClusterLoadAssignment c -> c.getClusterName();
      case Listener l -> l.getName();
      case RouteConfiguration r -> r.getName();
      case io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret s -> s.getName();
      default -> "";
    };
  }
}
