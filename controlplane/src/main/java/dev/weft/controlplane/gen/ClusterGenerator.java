package dev.weft.controlplane.gen;

import com.google.protobuf.Duration;
import com.google.protobuf.Message;
import dev.weft.controlplane.push.Endpoint;
import dev.weft.controlplane.push.ProxyScope;
import dev.weft.controlplane.push.PushContext;
import dev.weft.controlplane.registry.MeshService;
import dev.weft.xds.ClusterName;
import dev.weft.xds.ResourceNames;
import dev.weft.xds.TypeUrls;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import java.util.ArrayList;
import java.util.List;

/**
 * CDS: for every service port in the proxy's scope ({@link ProxyScope}: exportTo, Sidecar egress)
 * {@code outbound|P||host} and one {@code outbound|P|subset|host} per subset of the DestinationRule
 * that applies to the proxy (10 s connect timeout, round robin, Istio's unlimited circuit
 * breakers), with that DestinationRule's load balancer, connection pool and outlier detection
 * ({@link TrafficPolicies}), with Istio's client TLS ({@link MeshTls#applyUpstream}: auto mTLS or
 * the DestinationRule's {@code tls}) when the proxy speaks TLS. The cluster type follows the
 * service's resolution as Istio's {@code convertResolution}: EDS over ADS for Services and
 * ServiceEntry STATIC; STRICT_DNS (DNS) and LOGICAL_DNS (DNS_ROUND_ROBIN) with the ServiceEntry's
 * endpoints, or its host, inline; ORIGINAL_DST ({@code CLUSTER_PROVIDED}) for NONE on sidecars, EDS
 * on gateways. Every proxy gets Istio's {@code BlackHoleCluster} (STATIC, no endpoints), sidecars
 * also {@code PassthroughCluster} (ORIGINAL_DST). For a sidecar also {@code inbound|T||} for each
 * of its inbound target ports (type STATIC, the application's address, plaintext).
 */
public final class ClusterGenerator implements Generator {
  /** Istio's default connect timeout (MeshConfig connectTimeout). */
  static final Duration CONNECT_TIMEOUT = Duration.newBuilder().setSeconds(10).build();

  /** Istio's default DNS refresh rate (MeshConfig dnsRefreshRate). */
  static final Duration DNS_REFRESH_RATE = Duration.newBuilder().setSeconds(60).build();

  @Override
  public String typeUrl() {
    return TypeUrls.CLUSTER;
  }

  @Override
  public List<Message> generate(PushContext context, Proxy proxy) {
    ProxyScope scope = context.scope(proxy.namespace(), proxy.labels(), proxy.isRouter());
    List<Message> out = new ArrayList<>(outbound(context, proxy, scope));
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
                                          io.envoyproxy.envoy.config.endpoint.v3.Endpoint
                                              .newBuilder()
                                              .setAddress(
                                                  EnvoyConfig.address(
                                                      proxy.appAddress(), in.port()))))));
      UpstreamProtocols.apply(inbound, in.protocol());
      TelemetryMetadata.inbound(inbound, context, proxy.workload(), in.port());
      out.add(inbound.build());
    }
    return out;
  }

  /**
   * The outbound clusters. They depend on the push context, the proxy's scope (its services and
   * DestinationRules: {@link ProxyScope#clusterKey}) and, through their upstream TLS ({@link
   * MeshTls#applyUpstream}), on whether the proxy speaks mTLS: built once per push context for each
   * of those, and shared.
   */
  /**
   * The part of {@link #generate}'s clusters that every proxy of {@code proxy}'s scope shares: the
   * same list (by identity) for each of them within one push context, and its elements are the same
   * objects {@code generate} returns. The ADS server keeps it once, not per proxy.
   */
  public static List<Message> outbound(PushContext context, Proxy proxy) {
    return outbound(
        context, proxy, context.scope(proxy.namespace(), proxy.labels(), proxy.isRouter()));
  }

  private static List<Message> outbound(PushContext context, Proxy proxy, ProxyScope scope) {
    return context.cached(
        "cds/outbound/" + proxy.mtls() + "/" + scope.clusterKey(),
        () -> {
          List<Message> out = new ArrayList<>();
          for (OutboundCluster c : OutboundCluster.of(context, scope)) {
            Cluster.Builder cluster = cluster(context, proxy, c);
            // The DestinationRule chosen for this proxy (workload selector, exportTo) governs it.
            TrafficPolicies.apply(cluster, context, c);
            if (!proxy.isRouter()
                && c.service().isServiceEntry()
                && TrafficPolicies.passthrough(c)) {
              // Istio's applyLoadBalancer, PASSTHROUGH: an ORIGINAL_DST cluster (no endpoints)
              // that sends to the destination the client asked for. Only for ServiceEntry hosts
              // on sidecars: in local mode the original destination is the request's authority,
              // which a Kubernetes Service's name is not an address of (no cluster IP).
              cluster
                  .setType(Cluster.DiscoveryType.ORIGINAL_DST)
                  .clearEdsClusterConfig()
                  .clearLoadAssignment()
                  .clearDnsLookupFamily()
                  .clearDnsRefreshRate()
                  .clearRespectDnsTtl();
            }
            if (cluster.getType() == Cluster.DiscoveryType.ORIGINAL_DST) {
              // Istio's applyLoadBalancer: an ORIGINAL_DST cluster keeps CLUSTER_PROVIDED.
              cluster
                  .setLbPolicy(Cluster.LbPolicy.CLUSTER_PROVIDED)
                  .clearRingHashLbConfig()
                  .clearMaglevLbConfig()
                  .clearLeastRequestLbConfig();
            }
            MeshTls.applyUpstream(cluster, context, proxy, c);
            UpstreamProtocols.apply(cluster, c.port().protocol());
            UpstreamProtocols.applyH2Upgrade(
                cluster,
                c.port().protocol(),
                TrafficPolicies.effective(c).connectionPool(),
                context.mesh().h2UpgradePolicy());
            out.add(cluster.build());
          }
          if (!proxy.isRouter()) {
            out.add(passthroughCluster());
          }
          out.add(blackHoleCluster());
          return List.copyOf(out);
        });
  }

  /** One outbound cluster, by its service's resolution. */
  private static Cluster.Builder cluster(PushContext context, Proxy proxy, OutboundCluster c) {
    String name = c.name().toString();
    Cluster.Builder cluster = Cluster.newBuilder().setName(name).setConnectTimeout(CONNECT_TIMEOUT);
    MeshService svc = c.service();
    TelemetryMetadata.outbound(cluster, svc);
    switch (svc.resolution()) {
      case DNS, DNS_ROUND_ROBIN -> {
        cluster
            .setType(
                svc.resolution() == MeshService.Resolution.DNS
                    ? Cluster.DiscoveryType.STRICT_DNS
                    : Cluster.DiscoveryType.LOGICAL_DNS)
            .setLbPolicy(Cluster.LbPolicy.ROUND_ROBIN)
            .setDnsLookupFamily(Cluster.DnsLookupFamily.V4_ONLY)
            .setDnsRefreshRate(DNS_REFRESH_RATE)
            .setRespectDnsTtl(true)
            .setLoadAssignment(dnsAssignment(context, c));
      }
      case PASSTHROUGH -> {
        if (proxy.isRouter()) {
          eds(cluster);
        } else {
          cluster
              .setType(Cluster.DiscoveryType.ORIGINAL_DST)
              .setLbPolicy(Cluster.LbPolicy.CLUSTER_PROVIDED);
        }
      }
      case CLIENT_SIDE_LB -> eds(cluster);
    }
    return cluster;
  }

  /**
   * An EDS cluster over ADS. Unlike Istio, no {@code eds_cluster_config.service_name}: it would
   * repeat the cluster's name, which is what Envoy ({@code EdsClusterImpl::edsServiceName}),
   * grpc-java's xDS client ({@code XdsClusterResource}: empty is the cluster's name) and Weft's
   * proxy ({@code ClusterParser}) ask EDS for when it is unset, so the meaning is the same and
   * every proxy's CDS is ~50 bytes a cluster shorter (2000 sidecars receiving 3000 clusters, issue
   * #10).
   */
  private static void eds(Cluster.Builder cluster) {
    cluster
        .setType(Cluster.DiscoveryType.EDS)
        .setEdsClusterConfig(Cluster.EdsClusterConfig.newBuilder().setEdsConfig(EnvoyConfig.ads()))
        .setLbPolicy(Cluster.LbPolicy.ROUND_ROBIN);
  }

  /**
   * The inline endpoints of a DNS cluster: the ServiceEntry's endpoints (of the subset) at their
   * ports, or without endpoints its host at the port's target port (Istio's {@code
   * buildLocalityLbEndpoints} for DNS). A wildcard host has nothing to resolve: no endpoints. A
   * LOGICAL_DNS cluster takes the first only (Envoy accepts one).
   */
  private static ClusterLoadAssignment dnsAssignment(PushContext context, OutboundCluster c) {
    ClusterLoadAssignment.Builder cla =
        ClusterLoadAssignment.newBuilder().setClusterName(c.name().toString());
    LocalityLbEndpoints.Builder locality = LocalityLbEndpoints.newBuilder();
    MeshService svc = c.service();
    if (svc.endpoints().isEmpty() && svc.selector().isEmpty()) {
      if (!svc.wildcard()) {
        int target =
            c.port().spec().targetPort() != null && c.port().spec().targetPort().number() > 0
                ? c.port().spec().targetPort().number()
                : c.port().number();
        locality.addLbEndpoints(lbEndpoint(svc.hostname(), target));
      }
    } else {
      for (Endpoint e : context.endpoints(svc, c.port(), c.subsetLabels())) {
        locality.addLbEndpoints(lbEndpoint(e.address(), e.port()));
        if (svc.resolution() == MeshService.Resolution.DNS_ROUND_ROBIN) {
          break;
        }
      }
    }
    if (locality.getLbEndpointsCount() > 0) {
      cla.addEndpoints(locality);
    }
    return cla.build();
  }

  private static LbEndpoint lbEndpoint(String address, int port) {
    return LbEndpoint.newBuilder()
        .setEndpoint(
            io.envoyproxy.envoy.config.endpoint.v3.Endpoint.newBuilder()
                .setAddress(EnvoyConfig.address(address, port)))
        .build();
  }

  /**
   * Istio's {@code PassthroughCluster}: ORIGINAL_DST, {@code CLUSTER_PROVIDED}: to the address the
   * client asked for (in local mode, the authority of the app's proxied request).
   */
  static Cluster passthroughCluster() {
    return Cluster.newBuilder()
        .setName(ResourceNames.PASSTHROUGH_CLUSTER)
        .setType(Cluster.DiscoveryType.ORIGINAL_DST)
        .setConnectTimeout(CONNECT_TIMEOUT)
        .setLbPolicy(Cluster.LbPolicy.CLUSTER_PROVIDED)
        .build();
  }

  /** Istio's {@code BlackHoleCluster}: STATIC without endpoints. */
  static Cluster blackHoleCluster() {
    return Cluster.newBuilder()
        .setName(ResourceNames.BLACK_HOLE_CLUSTER)
        .setType(Cluster.DiscoveryType.STATIC)
        .setConnectTimeout(CONNECT_TIMEOUT)
        .setLbPolicy(Cluster.LbPolicy.ROUND_ROBIN)
        .build();
  }
}
