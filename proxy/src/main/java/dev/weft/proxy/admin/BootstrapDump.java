package dev.weft.proxy.admin;

import io.envoyproxy.envoy.config.bootstrap.v3.Admin;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.AggregatedConfigSource;
import io.envoyproxy.envoy.config.core.v3.ApiConfigSource;
import io.envoyproxy.envoy.config.core.v3.ApiVersion;
import io.envoyproxy.envoy.config.core.v3.ConfigSource;
import io.envoyproxy.envoy.config.core.v3.GrpcService;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.Endpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import java.net.InetSocketAddress;

/**
 * A Weft proxy's bootstrap in Envoy's terms, for {@code /config_dump}'s {@code BootstrapConfigDump}
 * (what {@code weft proxy-config bootstrap} shows): the node, the admin address, the {@code
 * xds-grpc} cluster (Istio's name) at the control plane's secure xDS port, and ADS for clusters and
 * listeners, as Istio's {@code envoy_bootstrap.json} has them. The proxy is configured by {@code
 * ProxyBootstrap}, not by this message: it describes, it does not drive.
 */
public final class BootstrapDump {
  /** Istio's name of the control plane's cluster in a proxy's bootstrap. */
  public static final String XDS_CLUSTER = "xds-grpc";

  private BootstrapDump() {}

  /** The bootstrap of a proxy with {@code node}, serving admin on {@code admin}. */
  public static Bootstrap of(Node node, InetSocketAddress admin, InetSocketAddress xds) {
    ConfigSource ads =
        ConfigSource.newBuilder()
            .setAds(AggregatedConfigSource.getDefaultInstance())
            .setResourceApiVersion(ApiVersion.V3)
            .build();
    LbEndpoint control =
        LbEndpoint.newBuilder().setEndpoint(Endpoint.newBuilder().setAddress(address(xds))).build();
    return Bootstrap.newBuilder()
        .setNode(node)
        .setAdmin(Admin.newBuilder().setAddress(address(admin)))
        .setStaticResources(
            Bootstrap.StaticResources.newBuilder()
                .addClusters(
                    Cluster.newBuilder()
                        .setName(XDS_CLUSTER)
                        .setType(Cluster.DiscoveryType.STATIC)
                        .setLoadAssignment(
                            ClusterLoadAssignment.newBuilder()
                                .setClusterName(XDS_CLUSTER)
                                .addEndpoints(
                                    LocalityLbEndpoints.newBuilder().addLbEndpoints(control)))))
        .setDynamicResources(
            Bootstrap.DynamicResources.newBuilder()
                .setAdsConfig(
                    ApiConfigSource.newBuilder()
                        .setApiType(ApiConfigSource.ApiType.GRPC)
                        .setTransportApiVersion(ApiVersion.V3)
                        .addGrpcServices(
                            GrpcService.newBuilder()
                                .setEnvoyGrpc(
                                    GrpcService.EnvoyGrpc.newBuilder()
                                        .setClusterName(XDS_CLUSTER))))
                .setCdsConfig(ads)
                .setLdsConfig(ads))
        .build();
  }

  private static Address address(InetSocketAddress a) {
    return Address.newBuilder()
        .setSocketAddress(
            SocketAddress.newBuilder().setAddress(a.getHostString()).setPortValue(a.getPort()))
        .build();
  }
}
