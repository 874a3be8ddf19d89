package dev.weft.controlplane.gen;

import com.google.protobuf.Message;
import dev.weft.xds.TypeUrls;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import java.util.List;

/** The four generators, in the order Envoy wants its updates: CDS, EDS, LDS, RDS. */
public final class Generators {
  /** CDS → EDS → LDS → RDS: clusters before their endpoints, listeners before their routes. */
  public static final List<Generator> ALL =
      List.of(
          new ClusterGenerator(),
          new EndpointGenerator(),
          new ListenerGenerator(),
          new RouteGenerator());

  /** The type URLs in push order. */
  public static final List<String> TYPE_ORDER =
      List.of(TypeUrls.CLUSTER, TypeUrls.ENDPOINT, TypeUrls.LISTENER, TypeUrls.ROUTE);

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
      default -> "";
    };
  }
}
