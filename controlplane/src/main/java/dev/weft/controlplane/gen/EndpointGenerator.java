package dev.weft.controlplane.gen;

import com.google.protobuf.Message;
import dev.weft.api.Resource;
import dev.weft.api.networking.DestinationRule;
import dev.weft.controlplane.push.Endpoint;
import dev.weft.controlplane.push.ProxyScope;
import dev.weft.controlplane.push.PushContext;
import dev.weft.controlplane.registry.MeshService;
import dev.weft.xds.TypeUrls;
import io.envoyproxy.envoy.config.core.v3.Locality;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * EDS: one ClusterLoadAssignment per outbound cluster of type EDS (not for DNS ServiceEntries,
 * whose endpoints are in their clusters), listing the address (first {@code INSTANCE_IPS}) and
 * target port of every workload the Service selects, filtered by the subset's labels, and a
 * ServiceEntry's own endpoints, grouped by the workloads' localities ({@link Localities}). A
 * cluster without endpoints gets an assignment with none (Envoy then answers 503 UH). An endpoint
 * to which auto mTLS may send ISTIO_MUTUAL carries Istio's metadata {@code
 * envoy.transport_socket_match: {tlsMode: istio}} ({@link MeshTls#endpointTlsMode}).
 *
 * <p>Istio's locality failover: when the cluster's DestinationRule policy (the rule chosen for the
 * proxy: {@link ProxyScope#destinationRule}) has {@code outlierDetection} and its {@code
 * localityLbSetting} is not disabled (Istio's mesh default enables it) and does not {@code
 * distribute}, each locality gets a priority relative to the calling proxy's locality ({@link
 * Localities#priorities}); the assignment then depends on the proxy's locality and DestinationRules
 * and is computed once per locality and scope per push.
 */
public final class EndpointGenerator implements Generator {
  @Override
  public String typeUrl() {
    return TypeUrls.ENDPOINT;
  }

  @Override
  public List<Message> generate(PushContext context, Proxy proxy) {
    Map<String, String> labels = proxy.workload().labels();
    Locality locality = Localities.of(labels);
    ProxyScope scope = context.scope(proxy.namespace(), proxy.labels(), proxy.isRouter());
    // The same for every proxy of a locality, DestinationRule scope and values of the labels that
    // failoverPriority names: computed once per push context for each.
    StringBuilder key = new StringBuilder("eds/").append(Localities.key(locality));
    key.append('/').append(scope.clusterKey());
    for (String l : Localities.failoverPriorityLabels(context)) {
      key.append('/').append(l).append('=').append(labels.getOrDefault(l, "\u0000"));
    }
    return context.cached(key.toString(), () -> compute(context, locality, labels, scope));
  }

  private static List<Message> compute(
      PushContext context,
      Locality proxyLocality,
      Map<String, String> proxyLabels,
      ProxyScope scope) {
    List<OutboundCluster> clusters = OutboundCluster.all(context);
    List<Message> out = new ArrayList<>();
    for (OutboundCluster any : clusters) {
      OutboundCluster c = forScope(any, scope);
      MeshService.Resolution resolution = c.service().resolution();
      if (resolution == MeshService.Resolution.DNS
          || resolution == MeshService.Resolution.DNS_ROUND_ROBIN) {
        continue; // their endpoints are inline, in CDS
      }
      ClusterLoadAssignment.Builder cla =
          ClusterLoadAssignment.newBuilder().setClusterName(c.name().toString());
      List<Endpoint> endpoints = context.endpoints(c.service(), c.port(), c.subsetLabels());
      Map<String, LocalityLbEndpoints.Builder> groups = new LinkedHashMap<>();
      Map<String, List<Map<String, String>>> groupLabels = new LinkedHashMap<>();
      List<Locality> localities = new ArrayList<>();
      for (Endpoint e : endpoints) {
        Locality l = Localities.of(e.workload().labels());
        LocalityLbEndpoints.Builder group =
            groups.computeIfAbsent(
                Localities.key(l),
                k -> {
                  localities.add(l);
                  LocalityLbEndpoints.Builder b = LocalityLbEndpoints.newBuilder();
                  if (!l.equals(Locality.getDefaultInstance())) {
                    b.setLocality(l);
                  }
                  return b;
                });
        LbEndpoint.Builder lb =
            LbEndpoint.newBuilder()
                .setEndpoint(
                    io.envoyproxy.envoy.config.endpoint.v3.Endpoint.newBuilder()
                        .setAddress(EnvoyConfig.address(e.address(), e.port())));
        String tlsMode = MeshTls.endpointTlsMode(context, c, e.workload(), e.port());
        if (!tlsMode.isEmpty()) {
          lb.setMetadata(MeshTls.endpointMetadata(tlsMode));
        }
        group.addLbEndpoints(lb);
        groupLabels
            .computeIfAbsent(Localities.key(l), k -> new ArrayList<>())
            .add(e.workload().labels());
      }
      List<LocalityLbEndpoints.Builder> built = new ArrayList<>(groups.values());
      List<List<Map<String, String>>> builtLabels = new ArrayList<>(groupLabels.values());
      Map<String, Object> setting = TrafficPolicies.localityLbSetting(c);
      List<?> distribute =
          setting != null && setting.get("distribute") instanceof List<?> d && !d.isEmpty()
              ? d
              : null;
      Map<String, List<String>> failover = TrafficPolicies.localityFailover(context, c);
      if (distribute != null) {
        // Istio's applyLocalityWeights (a locality's weight starts as its endpoint count).
        Localities.applyWeights(proxyLocality, built, localities, distribute);
      } else if (failover != null) {
        List<String> byLabels =
            setting != null && setting.get("failoverPriority") instanceof List<?> fp
                ? fp.stream().map(String::valueOf).toList()
                : List.of();
        if (!byLabels.isEmpty() && !proxyLabels.isEmpty()) {
          // Istio's applyFailoverPriorities, then its locality failover when failover is set.
          Localities.Split split =
              Localities.splitByLabels(built, builtLabels, localities, proxyLabels, byLabels);
          built = split.groups();
          if (setting.get("failover") instanceof List<?> f && !f.isEmpty()) {
            Localities.applyFailover(proxyLocality, built, split.localities(), failover);
          }
        } else {
          int[] priorities = Localities.priorities(proxyLocality, localities, failover);
          for (int i = 0; i < built.size(); i++) {
            built.get(i).setPriority(priorities[i]);
          }
        }
      }
      for (LocalityLbEndpoints.Builder g : built) {
        cla.addEndpoints(g);
      }
      out.add(cla.build());
    }
    return List.copyOf(out);
  }

  /**
   * {@code c} with the DestinationRule that applies to the scope's proxies (a subset cluster only
   * when that rule defines the subset; else the rule that defined it, as before).
   */
  private static OutboundCluster forScope(OutboundCluster c, ProxyScope scope) {
    Resource dr = scope.destinationRule(c.service());
    if (dr == c.destinationRule()) {
      return c;
    }
    Map<String, String> labels = c.subsetLabels();
    if (!c.name().subset().isEmpty()) {
      dev.weft.api.networking.Subset defined = null;
      if (dr != null) {
        for (dev.weft.api.networking.Subset s : dr.spec(DestinationRule.class).subsets()) {
          if (s.name().equals(c.name().subset())) {
            defined = s;
            break;
          }
        }
      }
      if (defined == null) {
        return c;
      }
      // The subset's labels as the scope's (merged) rule defines them.
      labels = defined.labels() == null ? Map.of() : defined.labels();
    }
    return new OutboundCluster(c.name(), c.service(), c.port(), labels, dr);
  }
}
