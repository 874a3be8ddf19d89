package dev.weft.controlplane.gen;

import com.google.protobuf.Duration;
import com.google.protobuf.Message;
import dev.weft.controlplane.push.PushContext;
import dev.weft.xds.ClusterName;
import dev.weft.xds.TypeUrls;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.Endpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import java.util.ArrayList;
import java.util.List;

/**
 * CDS: for every Service port {@code outbound|P||host} and one {@code outbound|P|subset|host} per
 * DestinationRule subset (type EDS over ADS, round robin, 10 s connect timeout, Istio's unlimited
 * circuit breakers), with the DestinationRule's load balancer, connection pool and outlier
 * detection ({@link TrafficPolicies}), with Istio's client TLS ({@link MeshTls#applyUpstream}: auto
 * mTLS or the DestinationRule's {@code tls}) when the proxy speaks TLS; for a sidecar also {@code
 * inbound|T||} for each of its inbound target ports (type STATIC, the application's address,
 * plaintext).
 */
public final class ClusterGenerator implements Generator {
  /** Istio's default connect timeout (MeshConfig connectTimeout). */
  static final Duration CONNECT_TIMEOUT = Duration.newBuilder().setSeconds(10).build();

  @Override
  public String typeUrl() {
    return TypeUrls.CLUSTER;
  }

  @Override
  public List<Message> generate(PushContext context, Proxy proxy) {
    List<Message> out = new ArrayList<>(outbound(context, proxy));
    // The tracing collectors outside the mesh (Istio's bootstrap `zipkin` cluster and extension
    // providers that are not mesh services).
    out.addAll(Observability.collectorClusters(context));
    for (InboundPort in : InboundPort.of(context, proxy)) {
      String name = ClusterName.inbound(in.port()).toString();
      Cluster.Builder inbound =
          Cluster.newBuilder()
              .setName(name)
              .setType(Cluster.DiscoveryType.STATIC)
              .setConnectTimeout(CONNECT_TIMEOUT)
              .setLbPolicy(Cluster.LbPolicy.ROUND_ROBIN)
              .setLoadAssignment(
                  ClusterLoadAssignment.newBuilder()
                      .setClusterName(name)
                      .addEndpoints(
                          LocalityLbEndpoints.newBuilder()
                              .addLbEndpoints(
                                  LbEndpoint.newBuilder()
                                      .setEndpoint(
                                          Endpoint.newBuilder()
                                              .setAddress(
                                                  EnvoyConfig.address(
                                                      proxy.appAddress(), in.port()))))));
      UpstreamProtocols.apply(inbound, in.protocol());
      out.add(inbound.build());
    }
    return out;
  }

  /**
   * The outbound clusters. They depend on the push context and, through their upstream TLS ({@link
   * MeshTls#applyUpstream}), on whether the proxy speaks mTLS and whether it is a router only:
   * built once per push context for each of those, and shared.
   */
  private static List<Message> outbound(PushContext context, Proxy proxy) {
    return context.cached(
        "cds/outbound/" + proxy.mtls() + "/" + proxy.isRouter(),
        () -> {
          List<Message> out = new ArrayList<>();
          for (OutboundCluster c : OutboundCluster.all(context)) {
            String name = c.name().toString();
            Cluster.Builder cluster =
                Cluster.newBuilder()
                    .setName(name)
                    .setType(Cluster.DiscoveryType.EDS)
                    .setEdsClusterConfig(
                        Cluster.EdsClusterConfig.newBuilder()
                            .setEdsConfig(EnvoyConfig.ads())
                            .setServiceName(name))
                    .setConnectTimeout(CONNECT_TIMEOUT)
                    .setLbPolicy(Cluster.LbPolicy.ROUND_ROBIN);
            TrafficPolicies.apply(cluster, context, c);
            MeshTls.applyUpstream(cluster, context, proxy, c);
            UpstreamProtocols.apply(cluster, c.port().protocol());
            out.add(cluster.build());
          }
          return List.copyOf(out);
        });
  }
}
