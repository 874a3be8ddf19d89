package dev.weft.controlplane.gen;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.weft.controlplane.registry.Protocol;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Http2ProtocolOptions;
import io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions;

/**
 * The HTTP protocol of a cluster's upstream connections, as Istio's {@code setUpstreamProtocol}
 * (cluster_builder.go) chooses it from the service port's protocol: {@code http2}, {@code grpc} and
 * {@code grpc-web} ports get HTTP/2 ({@code explicit_http_config.http2_protocol_options}); ports
 * whose protocol is unknown (sniffed by Istio) get {@code use_downstream_protocol_config}, so an
 * HTTP/2 client reaches the application over HTTP/2 and an HTTP/1.1 client over HTTP/1.1; others
 * keep Envoy's default, HTTP/1.1. Written into {@code typed_extension_protocol_options
 * ["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"]}, merged with what is already there
 * (the upstream TLS's {@code upstream_http_protocol_options}).
 */
final class UpstreamProtocols {
  static final String EXTENSION = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions";

  private UpstreamProtocols() {}

  /** Sets {@code cluster}'s upstream protocol for a port of protocol {@code protocol}. */
  static void apply(Cluster.Builder cluster, Protocol protocol) {
    boolean h2 =
        protocol == Protocol.HTTP2 || protocol == Protocol.GRPC || protocol == Protocol.GRPC_WEB;
    boolean downstream = protocol == Protocol.UNSUPPORTED;
    if (!h2 && !downstream) {
      return;
    }
    set(cluster, h2);
  }

  /**
   * Istio's {@code applyH2Upgrade} ({@code shouldH2Upgrade}): the DestinationRule's {@code
   * connectionPool.http.h2UpgradePolicy} (the effective one for the cluster's subset and port)
   * {@code UPGRADE} makes an HTTP port's upstream HTTP/2 (a port of unknown protocol too: the user
   * says it is HTTP), {@code DO_NOT_UPGRADE} never does, {@code DEFAULT} (or none) follows
   * MeshConfig {@code h2UpgradePolicy} for HTTP ports (not for sniffed ones, whose clients choose).
   * Non-HTTP ports (TCP, TLS) are never upgraded. Sets {@code
   * explicit_http_config.http2_protocol_options}.
   */
  static void applyH2Upgrade(
      Cluster.Builder cluster,
      Protocol protocol,
      java.util.Map<String, Object> connectionPool,
      String meshPolicy) {
    if (!protocol.isHttp()) {
      return;
    }
    Object http = connectionPool == null ? null : connectionPool.get("http");
    Object policy = http instanceof java.util.Map<?, ?> h ? h.get("h2UpgradePolicy") : null;
    String p = policy == null ? "DEFAULT" : String.valueOf(policy);
    boolean upgrade =
        switch (p) {
          case "UPGRADE" -> true;
          case "DO_NOT_UPGRADE" -> false;
          default ->
              protocol != Protocol.UNSUPPORTED
                  && dev.weft.controlplane.mesh.MeshConfig.UPGRADE.equals(meshPolicy);
        };
    if (upgrade) {
      set(cluster, true);
    }
  }

  private static void set(Cluster.Builder cluster, boolean h2) {
    HttpProtocolOptions.Builder options = HttpProtocolOptions.newBuilder();
    Any existing = cluster.getTypedExtensionProtocolOptionsMap().get(EXTENSION);
    if (existing != null) {
      try {
        options.mergeFrom(existing.unpack(HttpProtocolOptions.class));
      } catch (InvalidProtocolBufferException e) {
        throw new IllegalStateException("generated " + EXTENSION + " does not parse", e);
      }
    }
    if (h2) {
      options.clearUseDownstreamProtocolConfig();
      options.setExplicitHttpConfig(
          HttpProtocolOptions.ExplicitHttpConfig.newBuilder()
              .setHttp2ProtocolOptions(Http2ProtocolOptions.getDefaultInstance()));
    } else {
      options.setUseDownstreamProtocolConfig(
          HttpProtocolOptions.UseDownstreamHttpConfig.newBuilder()
              .setHttp2ProtocolOptions(Http2ProtocolOptions.getDefaultInstance()));
    }
    cluster.putTypedExtensionProtocolOptions(EXTENSION, Any.pack(options.build()));
  }
}
