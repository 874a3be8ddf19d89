package dev.weft.proxy.admin;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Timestamp;
import com.google.protobuf.util.JsonFormat;
import dev.weft.proxy.xds.XdsSnapshot;
import dev.weft.xds.TypeUrls;
import io.envoyproxy.envoy.admin.v3.ClustersConfigDump;
import io.envoyproxy.envoy.admin.v3.ConfigDump;
import io.envoyproxy.envoy.admin.v3.EndpointsConfigDump;
import io.envoyproxy.envoy.admin.v3.ListenersConfigDump;
import io.envoyproxy.envoy.admin.v3.RoutesConfigDump;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import java.time.Instant;
import java.util.Map;

/**
 * Envoy's {@code /config_dump}: the accepted xDS resources as a {@code ConfigDump} with
 * ListenersConfigDump, RoutesConfigDump, ClustersConfigDump and EndpointsConfigDump, printed by
 * protobuf's JsonFormat with proto field names (snake_case), as Envoy prints it.
 */
public final class ConfigDumps {
  private static final JsonFormat.Printer PRINTER =
      JsonFormat.printer()
          .usingTypeRegistry(
              JsonFormat.TypeRegistry.newBuilder()
                  .add(ClustersConfigDump.getDescriptor())
                  .add(ListenersConfigDump.getDescriptor())
                  .add(RoutesConfigDump.getDescriptor())
                  .add(EndpointsConfigDump.getDescriptor())
                  .add(Listener.getDescriptor())
                  .add(RouteConfiguration.getDescriptor())
                  .add(Cluster.getDescriptor())
                  .add(ClusterLoadAssignment.getDescriptor())
                  .add(HttpConnectionManager.getDescriptor())
                  .add(Router.getDescriptor())
                  // Istio's HTTP filters and their per-route configs: jwt_authn, RBAC, fault,
                  // CORS.
                  .add(
                      io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication
                          .getDescriptor())
                  .add(io.envoyproxy.envoy.extensions.filters.http.rbac.v3.RBAC.getDescriptor())
                  .add(
                      io.envoyproxy.envoy.extensions.filters.http.fault.v3.HTTPFault
                          .getDescriptor())
                  .add(io.envoyproxy.envoy.extensions.filters.http.cors.v3.Cors.getDescriptor())
                  .add(
                      io.envoyproxy.envoy.extensions.filters.http.cors.v3.CorsPolicy
                          .getDescriptor())
                  // TLS: transport sockets, the inspector, upstream HTTP options (auto_sni).
                  .add(
                      io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
                          .getDescriptor())
                  .add(
                      io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
                          .getDescriptor())
                  .add(
                      io.envoyproxy.envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer
                          .getDescriptor())
                  .add(
                      io.envoyproxy.envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector
                          .getDescriptor())
                  .add(
                      io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions
                          .getDescriptor())
                  .build())
          .preservingProtoFieldNames();

  private ConfigDumps() {}

  public static ConfigDump dump(XdsSnapshot s) {
    ListenersConfigDump.Builder lds =
        ListenersConfigDump.newBuilder()
            .setVersionInfo(s.versions().getOrDefault(TypeUrls.LISTENER, ""));
    for (Map.Entry<String, XdsSnapshot.Held> e : held(s, TypeUrls.LISTENER).entrySet()) {
      XdsSnapshot.Held h = e.getValue();
      lds.addDynamicListeners(
          ListenersConfigDump.DynamicListener.newBuilder()
              .setName(e.getKey())
              .setActiveState(
                  ListenersConfigDump.DynamicListenerState.newBuilder()
                      .setVersionInfo(h.version())
                      .setListener(Any.pack(h.resource()))
                      .setLastUpdated(ts(h.lastUpdated()))));
    }
    RoutesConfigDump.Builder rds = RoutesConfigDump.newBuilder();
    for (XdsSnapshot.Held h : held(s, TypeUrls.ROUTE).values()) {
      rds.addDynamicRouteConfigs(
          RoutesConfigDump.DynamicRouteConfig.newBuilder()
              .setVersionInfo(h.version())
              .setRouteConfig(Any.pack(h.resource()))
              .setLastUpdated(ts(h.lastUpdated())));
    }
    ClustersConfigDump.Builder cds =
        ClustersConfigDump.newBuilder()
            .setVersionInfo(s.versions().getOrDefault(TypeUrls.CLUSTER, ""));
    for (XdsSnapshot.Held h : held(s, TypeUrls.CLUSTER).values()) {
      cds.addDynamicActiveClusters(
          ClustersConfigDump.DynamicCluster.newBuilder()
              .setVersionInfo(h.version())
              .setCluster(Any.pack(h.resource()))
              .setLastUpdated(ts(h.lastUpdated())));
    }
    EndpointsConfigDump.Builder eds = EndpointsConfigDump.newBuilder();
    for (XdsSnapshot.Held h : held(s, TypeUrls.ENDPOINT).values()) {
      eds.addDynamicEndpointConfigs(
          EndpointsConfigDump.DynamicEndpointConfig.newBuilder()
              .setVersionInfo(h.version())
              .setEndpointConfig(Any.pack(h.resource()))
              .setLastUpdated(ts(h.lastUpdated())));
    }
    return ConfigDump.newBuilder()
        .addConfigs(Any.pack(cds.build()))
        .addConfigs(Any.pack(lds.build()))
        .addConfigs(Any.pack(rds.build()))
        .addConfigs(Any.pack(eds.build()))
        .build();
  }

  /** The dump as Envoy-style JSON. */
  public static String json(XdsSnapshot s) throws InvalidProtocolBufferException {
    return PRINTER.print(dump(s));
  }

  private static Map<String, XdsSnapshot.Held> held(XdsSnapshot s, String type) {
    return s.resources().getOrDefault(type, Map.of());
  }

  private static Timestamp ts(Instant i) {
    return Timestamp.newBuilder().setSeconds(i.getEpochSecond()).setNanos(i.getNano()).build();
  }
}
