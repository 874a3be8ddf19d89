package dev.weft.controlplane.gen;

import com.google.protobuf.Message;
import dev.weft.controlplane.push.Endpoint;
import dev.weft.controlplane.push.PushContext;
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
 * EDS: one ClusterLoadAssignment per outbound cluster, listing the address (first {@code
 * INSTANCE_IPS}) and target port of every workload the Service selects, filtered by the subset's
 * labels, grouped by the workloads' localities ({@link Localities}). A cluster without endpoints
 * gets an assignment with none (Envoy then answers 503 UH). An endpoint to which auto mTLS may send
 * ISTIO_MUTUAL carries Istio's metadata {@code envoy.transport_socket_match: {tlsMode: istio}}
 * ({@link MeshTls#endpointTlsMode}).
 *
 * <p>Istio's locality failover: when the cluster's DestinationRule policy has {@code
 * outlierDetection} and its {@code localityLbSetting} is not disabled (Istio's mesh default enables
 * it) and does not {@code distribute}, each locality gets a priority relative to the calling
 * proxy's locality ({@link Localities#priorities}); the assignment then depends on the proxy's
 * locality and is computed once per locality per push.
 */
public final class EndpointGenerator implements Generator {
  @Override
  public String typeUrl() {
    return TypeUrls.ENDPOINT;
  }

  @Override
  public List<Message> generate(PushContext context, Proxy proxy) {
    Locality locality = Localities.of(proxy.workload().labels());
    // The same for every proxy of a locality: computed once per push context and locality.
    return context.cached("eds/" + Localities.key(locality), () -> compute(context, locality));
  }

  private static List<Message> compute(PushContext context, Locality proxyLocality) {
    List<OutboundCluster> clusters = OutboundCluster.all(context);
    List<Message> out = new ArrayList<>();
    for (OutboundCluster c : clusters) {
      ClusterLoadAssignment.Builder cla =
          ClusterLoadAssignment.newBuilder().setClusterName(c.name().toString());
      List<Endpoint> endpoints = context.endpoints(c.service(), c.port(), c.subsetLabels());
      Map<String, LocalityLbEndpoints.Builder> groups = new LinkedHashMap<>();
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
      }
      Map<String, List<String>> failover = TrafficPolicies.localityFailover(context, c);
      int[] priorities =
          failover == null ? null : Localities.priorities(proxyLocality, localities, failover);
      int i = 0;
      for (LocalityLbEndpoints.Builder g : groups.values()) {
        if (priorities != null && priorities[i] > 0) {
          g.setPriority(priorities[i]);
        }
        cla.addEndpoints(g);
        i++;
      }
      out.add(cla.build());
    }
    return List.copyOf(out);
  }
}
