package dev.weft.cli.inspect;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import dev.weft.cli.common.CliException;
import dev.weft.proxy.admin.ConfigDumps;
import io.envoyproxy.envoy.admin.v3.BootstrapConfigDump;
import io.envoyproxy.envoy.admin.v3.ClustersConfigDump;
import io.envoyproxy.envoy.admin.v3.ConfigDump;
import io.envoyproxy.envoy.admin.v3.EndpointsConfigDump;
import io.envoyproxy.envoy.admin.v3.ListenersConfigDump;
import io.envoyproxy.envoy.admin.v3.RoutesConfigDump;
import io.envoyproxy.envoy.admin.v3.SecretsConfigDump;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A proxy's {@code /config_dump} (Envoy's {@code ConfigDump} JSON) parsed into Envoy's messages,
 * what {@code weft proxy-config} tables are made from. Immutable.
 *
 * @param dump the whole dump
 * @param bootstrap the bootstrap, when the dump has one
 * @param clusters the active clusters, in the dump's order
 * @param listeners the active listeners
 * @param routes the route configurations received over RDS
 * @param secrets the active secrets (private keys redacted by the proxy)
 * @param endpoints the cluster load assignments received over EDS
 */
record ConfigDumpView(
    ConfigDump dump,
    Optional<Bootstrap> bootstrap,
    List<Cluster> clusters,
    List<Listener> listeners,
    List<RouteConfiguration> routes,
    List<SecretsConfigDump.DynamicSecret> secrets,
    List<ClusterLoadAssignment> endpoints) {

  /**
   * Parses {@code json} as a proxy's {@code /config_dump}.
   *
   * @throws CliException in one line when it is not a config dump
   */
  static ConfigDumpView parse(String json) {
    ConfigDump.Builder b = ConfigDump.newBuilder();
    try {
      ConfigDumps.parser(json).ignoringUnknownFields().merge(json, b);
      return of(b.build());
    } catch (InvalidProtocolBufferException | RuntimeException e) {
      throw new CliException(
          "the proxy's config dump cannot be read: " + firstLine(e.getMessage()), e);
    }
  }

  private static String firstLine(String s) {
    return s == null ? "" : s.lines().findFirst().orElse("");
  }

  /** The view of {@code dump}. */
  static ConfigDumpView of(ConfigDump dump) throws InvalidProtocolBufferException {
    Bootstrap bootstrap = null;
    List<Cluster> clusters = new ArrayList<>();
    List<Listener> listeners = new ArrayList<>();
    List<RouteConfiguration> routes = new ArrayList<>();
    List<SecretsConfigDump.DynamicSecret> secrets = new ArrayList<>();
    List<ClusterLoadAssignment> endpoints = new ArrayList<>();
    for (Any a : dump.getConfigsList()) {
      if (a.is(BootstrapConfigDump.class)) {
        bootstrap = a.unpack(BootstrapConfigDump.class).getBootstrap();
      } else if (a.is(ClustersConfigDump.class)) {
        ClustersConfigDump c = a.unpack(ClustersConfigDump.class);
        for (ClustersConfigDump.StaticCluster s : c.getStaticClustersList()) {
          clusters.add(s.getCluster().unpack(Cluster.class));
        }
        for (ClustersConfigDump.DynamicCluster d : c.getDynamicActiveClustersList()) {
          clusters.add(d.getCluster().unpack(Cluster.class));
        }
      } else if (a.is(ListenersConfigDump.class)) {
        ListenersConfigDump l = a.unpack(ListenersConfigDump.class);
        for (ListenersConfigDump.StaticListener s : l.getStaticListenersList()) {
          listeners.add(s.getListener().unpack(Listener.class));
        }
        for (ListenersConfigDump.DynamicListener d : l.getDynamicListenersList()) {
          if (d.hasActiveState()) {
            listeners.add(d.getActiveState().getListener().unpack(Listener.class));
          }
        }
      } else if (a.is(RoutesConfigDump.class)) {
        RoutesConfigDump r = a.unpack(RoutesConfigDump.class);
        for (RoutesConfigDump.StaticRouteConfig s : r.getStaticRouteConfigsList()) {
          routes.add(s.getRouteConfig().unpack(RouteConfiguration.class));
        }
        for (RoutesConfigDump.DynamicRouteConfig d : r.getDynamicRouteConfigsList()) {
          routes.add(d.getRouteConfig().unpack(RouteConfiguration.class));
        }
      } else if (a.is(SecretsConfigDump.class)) {
        secrets.addAll(a.unpack(SecretsConfigDump.class).getDynamicActiveSecretsList());
      } else if (a.is(EndpointsConfigDump.class)) {
        for (EndpointsConfigDump.DynamicEndpointConfig d :
            a.unpack(EndpointsConfigDump.class).getDynamicEndpointConfigsList()) {
          endpoints.add(d.getEndpointConfig().unpack(ClusterLoadAssignment.class));
        }
      }
    }
    return new ConfigDumpView(
        dump,
        Optional.ofNullable(bootstrap),
        List.copyOf(clusters),
        List.copyOf(listeners),
        List.copyOf(routes),
        List.copyOf(secrets),
        List.copyOf(endpoints));
  }

  /** {@code message} as Envoy prints it (proto field names). */
  static String json(Message message) {
    try {
      return ConfigDumps.printer(message).print(message);
    } catch (InvalidProtocolBufferException e) {
      throw new CliException("cannot print " + message.getDescriptorForType().getName(), e);
    }
  }

  /** {@code messages} as a JSON array, each as Envoy prints it (istioctl's {@code -o json}). */
  static String jsonArray(List<? extends Message> messages) {
    StringBuilder sb = new StringBuilder("[");
    for (int i = 0; i < messages.size(); i++) {
      sb.append(i == 0 ? "\n" : ",\n").append(json(messages.get(i)).indent(2).stripTrailing());
    }
    return sb.append(messages.isEmpty() ? "]" : "\n]").toString();
  }
}
