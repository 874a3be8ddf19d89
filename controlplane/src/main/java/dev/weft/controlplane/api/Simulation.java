package dev.weft.controlplane.api;

import com.google.protobuf.Any;
import com.google.protobuf.Message;
import dev.weft.api.Resource;
import dev.weft.api.ResourceKey;
import dev.weft.controlplane.gen.Generators;
import dev.weft.controlplane.gen.Proxy;
import dev.weft.controlplane.push.PushContext;
import dev.weft.controlplane.registry.MeshService;
import dev.weft.controlplane.registry.Workload;
import dev.weft.controlplane.store.ConfigSnapshot;
import dev.weft.controlplane.store.StoredResource;
import dev.weft.controlplane.xds.ProxyStatus;
import dev.weft.xds.NodeId;
import dev.weft.xds.ResourceNames;
import io.envoyproxy.envoy.admin.v3.ClustersConfigDump;
import io.envoyproxy.envoy.admin.v3.ConfigDump;
import io.envoyproxy.envoy.admin.v3.EndpointsConfigDump;
import io.envoyproxy.envoy.admin.v3.ListenersConfigDump;
import io.envoyproxy.envoy.admin.v3.RoutesConfigDump;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What {@code POST /api/v1/simulate} answers: the xDS the generators would send one proxy, from the
 * store's snapshot with some resources applied on top of it hypothetically (never stored), for
 * {@code weft x simulate}. Stateless.
 */
public final class Simulation {
  private Simulation() {}

  /**
   * The generated resources and where their routes come from.
   *
   * @param configDump the proxy's listeners, routes, clusters and endpoints as Envoy's {@code
   *     /config_dump} lists them (no secrets: key material never leaves the control plane)
   * @param virtualServices for each virtual host of a sidecar's {@code http_proxy} routed by a
   *     VirtualService, that VirtualService's {@code namespace/name}
   */
  public record Result(ConfigDump configDump, Map<String, String> virtualServices) {}

  /**
   * The proxy {@code status} describes, as the ADS server built it from its node (its application
   * address, not reported in the status, is assumed to be the default 127.0.0.1; it only affects
   * inbound endpoints).
   *
   * @return null when the status has no node id in Istio's format
   */
  static Proxy proxy(ProxyStatus status) {
    NodeId id = NodeId.parse(status.id());
    ProxyStatus.Workload w = status.workload();
    if (id == null || w == null) {
      return null;
    }
    return new Proxy(
        id,
        id.name(),
        w.namespace(),
        w.labels(),
        List.of(w.ip()),
        w.ports(),
        "127.0.0.1",
        w.serviceAccount(),
        w.mtls());
  }

  /**
   * Generates {@code proxy}'s resources from {@code base} with {@code changes} applied (a change
   * with the key of a stored resource replaces it), and {@code workloads} as the registry.
   */
  public static Result generate(
      ConfigSnapshot base, List<Resource> changes, List<Workload> workloads, Proxy proxy) {
    ConfigSnapshot config = base;
    if (!changes.isEmpty()) {
      Map<ResourceKey, StoredResource> resources = new TreeMap<>(base.resources());
      long version = base.version() + 1;
      Instant now = Instant.now();
      for (Resource r : changes) {
        StoredResource old = resources.get(r.key());
        resources.put(
            r.key(), new StoredResource(r, version, old == null ? now : old.creationTimestamp()));
      }
      config = new ConfigSnapshot(version, resources);
    }
    PushContext context = PushContext.build(config.version(), config, workloads);
    ClustersConfigDump.Builder clusters = ClustersConfigDump.newBuilder();
    EndpointsConfigDump.Builder endpoints = EndpointsConfigDump.newBuilder();
    ListenersConfigDump.Builder listeners = ListenersConfigDump.newBuilder();
    RoutesConfigDump.Builder routes = RoutesConfigDump.newBuilder();
    String version = Long.toString(config.version());
    for (var g : Generators.ALL) {
      for (Message m : g.generate(context, proxy)) {
        switch (m) {
          case Cluster c ->
              clusters.addDynamicActiveClusters(
                  ClustersConfigDump.DynamicCluster.newBuilder()
                      .setVersionInfo(version)
                      .setCluster(Any.pack(c)));
          case ClusterLoadAssignment c ->
              endpoints.addDynamicEndpointConfigs(
                  EndpointsConfigDump.DynamicEndpointConfig.newBuilder()
                      .setVersionInfo(version)
                      .setEndpointConfig(Any.pack(c)));
          case Listener l ->
              listeners.addDynamicListeners(
                  ListenersConfigDump.DynamicListener.newBuilder()
                      .setName(l.getName())
                      .setActiveState(
                          ListenersConfigDump.DynamicListenerState.newBuilder()
                              .setVersionInfo(version)
                              .setListener(Any.pack(l))));
          case RouteConfiguration r ->
              routes.addDynamicRouteConfigs(
                  RoutesConfigDump.DynamicRouteConfig.newBuilder()
                      .setVersionInfo(version)
                      .setRouteConfig(Any.pack(r)));
          default -> {
            // secrets: never sent to a client
          }
        }
      }
    }
    ConfigDump dump =
        ConfigDump.newBuilder()
            .addConfigs(Any.pack(clusters.build()))
            .addConfigs(Any.pack(endpoints.build()))
            .addConfigs(Any.pack(listeners.build()))
            .addConfigs(Any.pack(routes.build()))
            .build();
    Map<String, String> sources = new LinkedHashMap<>();
    if (!proxy.isRouter()) {
      // RouteGenerator: a sidecar's virtual host host:port is routed by the host's mesh
      // VirtualService, when it has one.
      for (MeshService svc : context.services()) {
        Resource vs = context.meshVirtualService(svc.hostname());
        if (vs != null) {
          for (MeshService.Port p : svc.ports()) {
            sources.put(
                ResourceNames.virtualHost(svc.hostname(), p.number()),
                vs.metadata().namespace() + "/" + vs.metadata().name());
          }
        }
      }
    }
    return new Result(dump, sources);
  }
}
