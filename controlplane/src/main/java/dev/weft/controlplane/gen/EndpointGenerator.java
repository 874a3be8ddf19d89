package dev.weft.controlplane.gen;

import com.google.protobuf.Message;
import dev.weft.controlplane.push.Endpoint;
import dev.weft.controlplane.push.PushContext;
import dev.weft.controlplane.registry.MeshService;
import dev.weft.xds.TypeUrls;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import java.util.ArrayList;
import java.util.List;

/**
 * EDS: one ClusterLoadAssignment per outbound cluster of type EDS (not for DNS ServiceEntries,
 * whose endpoints are in their clusters), listing the address (first {@code INSTANCE_IPS}) and
 * target port of every workload the Service selects, filtered by the subset's labels, and a
 * ServiceEntry's own endpoints. A cluster without endpoints gets an assignment with none (Envoy
 * then answers 503 UH). An endpoint to which auto mTLS may send ISTIO_MUTUAL carries Istio's
 * metadata {@code envoy.transport_socket_match: {tlsMode: istio}} ({@link
 * MeshTls#endpointTlsMode}).
 */
public final class EndpointGenerator implements Generator {
  @Override
  public String typeUrl() {
    return TypeUrls.ENDPOINT;
  }

  @Override
  public List<Message> generate(PushContext context, Proxy proxy) {
    // The same for every proxy: computed once per push context.
    return context.cached("eds", () -> compute(context));
  }

  private static List<Message> compute(PushContext context) {
    List<OutboundCluster> clusters = OutboundCluster.all(context);
    List<Message> out = new ArrayList<>();
    for (OutboundCluster c : clusters) {
      MeshService.Resolution resolution = c.service().resolution();
      if (resolution == MeshService.Resolution.DNS
          || resolution == MeshService.Resolution.DNS_ROUND_ROBIN) {
        continue; // their endpoints are inline, in CDS
      }
      ClusterLoadAssignment.Builder cla =
          ClusterLoadAssignment.newBuilder().setClusterName(c.name().toString());
      List<Endpoint> endpoints = context.endpoints(c.service(), c.port(), c.subsetLabels());
      if (!endpoints.isEmpty()) {
        LocalityLbEndpoints.Builder locality = LocalityLbEndpoints.newBuilder();
        for (Endpoint e : endpoints) {
          LbEndpoint.Builder lb =
              LbEndpoint.newBuilder()
                  .setEndpoint(
                      io.envoyproxy.envoy.config.endpoint.v3.Endpoint.newBuilder()
                          .setAddress(EnvoyConfig.address(e.address(), e.port())));
          String tlsMode = MeshTls.endpointTlsMode(context, c, e.workload(), e.port());
          if (!tlsMode.isEmpty()) {
            lb.setMetadata(MeshTls.endpointMetadata(tlsMode));
          }
          locality.addLbEndpoints(lb);
        }
        cla.addEndpoints(locality);
      }
      out.add(cla.build());
    }
    return List.copyOf(out);
  }
}
