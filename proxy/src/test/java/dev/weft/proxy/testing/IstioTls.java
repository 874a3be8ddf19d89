package dev.weft.proxy.testing;

import com.google.protobuf.Any;
import com.google.protobuf.BoolValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.ApiConfigSource;
import io.envoyproxy.envoy.config.core.v3.ApiVersion;
import io.envoyproxy.envoy.config.core.v3.ConfigSource;
import io.envoyproxy.envoy.config.core.v3.GrpcService;
import io.envoyproxy.envoy.config.core.v3.Metadata;
import io.envoyproxy.envoy.config.core.v3.TransportSocket;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.Endpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.FilterChainMatch;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.listener.v3.ListenerFilter;
import io.envoyproxy.envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CommonTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.SdsSecretConfig;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsParameters;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import java.net.InetSocketAddress;
import java.util.List;

/**
 * The TLS shapes Istio's control plane generates (ISTIO_MUTUAL, PeerAuthentication STRICT and
 * PERMISSIVE inbound listeners, auto mTLS clusters), for tests: what Weft's generators will emit.
 */
public final class IstioTls {
  private IstioTls() {}

  /** Istio's inbound mTLS ALPN match (PERMISSIVE/STRICT chains). */
  public static final List<String> INBOUND_ALPN =
      List.of("istio-peer-exchange", "istio-http/1.0", "istio-http/1.1", "istio-h2");

  /** Istio's outbound ALPN for in-mesh TLS with metadata exchange. */
  public static final List<String> OUTBOUND_ALPN = List.of("istio-peer-exchange", "istio");

  /**
   * Istio's SDS reference: {@code sds-grpc} (the node agent, here the in-process source) unless
   * {@code ads}.
   */
  public static SdsSecretConfig sds(String name, boolean ads) {
    ConfigSource src =
        ads
            ? Xds.ADS
            : ConfigSource.newBuilder()
                .setResourceApiVersion(ApiVersion.V3)
                .setApiConfigSource(
                    ApiConfigSource.newBuilder()
                        .setApiType(ApiConfigSource.ApiType.GRPC)
                        .setTransportApiVersion(ApiVersion.V3)
                        .addGrpcServices(
                            GrpcService.newBuilder()
                                .setEnvoyGrpc(
                                    GrpcService.EnvoyGrpc.newBuilder().setClusterName("sds-grpc"))))
                .build();
    return SdsSecretConfig.newBuilder().setName(name).setSdsConfig(src).build();
  }

  /** ISTIO_MUTUAL's common context: {@code default} + {@code ROOTCA}, SANs, ALPN, TLS 1.2–1.3. */
  public static CommonTlsContext common(boolean ads, List<String> exactSans, List<String> alpn) {
    var validation =
        io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext
            .newBuilder();
    for (String san : exactSans) {
      validation.addMatchSubjectAltNames(StringMatcher.newBuilder().setExact(san));
    }
    return CommonTlsContext.newBuilder()
        .addTlsCertificateSdsSecretConfigs(sds("default", ads))
        .setCombinedValidationContext(
            CommonTlsContext.CombinedCertificateValidationContext.newBuilder()
                .setDefaultValidationContext(validation)
                .setValidationContextSdsSecretConfig(sds("ROOTCA", ads)))
        .addAllAlpnProtocols(alpn)
        .setTlsParams(
            TlsParameters.newBuilder()
                .setTlsMinimumProtocolVersion(TlsParameters.TlsProtocol.TLSv1_2)
                .setTlsMaximumProtocolVersion(TlsParameters.TlsProtocol.TLSv1_3))
        .build();
  }

  public static TransportSocket tls(DownstreamTlsContext d) {
    return TransportSocket.newBuilder()
        .setName("envoy.transport_sockets.tls")
        .setTypedConfig(Any.pack(d))
        .build();
  }

  public static TransportSocket tls(UpstreamTlsContext u) {
    return TransportSocket.newBuilder()
        .setName("envoy.transport_sockets.tls")
        .setTypedConfig(Any.pack(u))
        .build();
  }

  /**
   * The inbound mTLS chain: {@code transport_protocol: tls} + Istio's ALPN, client cert required.
   */
  public static FilterChain mtlsChain(HttpConnectionManager hcm, boolean ads) {
    DownstreamTlsContext d =
        DownstreamTlsContext.newBuilder()
            .setRequireClientCertificate(BoolValue.of(true))
            .setCommonTlsContext(common(ads, List.of(), List.of("h2", "http/1.1")))
            .build();
    return FilterChain.newBuilder()
        .setName("virtualInbound-mtls")
        .setFilterChainMatch(
            FilterChainMatch.newBuilder()
                .setTransportProtocol("tls")
                .addAllApplicationProtocols(INBOUND_ALPN))
        .setTransportSocket(tls(d))
        .addFilters(hcmFilter(hcm))
        .build();
  }

  /** The inbound plaintext chain of PERMISSIVE: {@code transport_protocol: raw_buffer}. */
  public static FilterChain plaintextChain(HttpConnectionManager hcm) {
    return FilterChain.newBuilder()
        .setName("virtualInbound-plaintext")
        .setFilterChainMatch(FilterChainMatch.newBuilder().setTransportProtocol("raw_buffer"))
        .addFilters(hcmFilter(hcm))
        .build();
  }

  /** An inbound listener: STRICT (mTLS chain only) or PERMISSIVE (both), with the inspector. */
  public static Listener inbound(
      String name, int port, HttpConnectionManager hcm, boolean strict, boolean ads) {
    Listener.Builder l =
        Listener.newBuilder()
            .setName(name)
            .setAddress(Xds.address("127.0.0.1", port))
            .addListenerFilters(
                ListenerFilter.newBuilder()
                    .setName("envoy.filters.listener.tls_inspector")
                    .setTypedConfig(Any.pack(TlsInspector.getDefaultInstance())))
            .addFilterChains(mtlsChain(hcm, ads));
    if (!strict) {
      l.addFilterChains(plaintextChain(hcm));
    }
    return l.build();
  }

  private static Filter hcmFilter(HttpConnectionManager hcm) {
    return Filter.newBuilder()
        .setName("envoy.filters.network.http_connection_manager")
        .setTypedConfig(Any.pack(hcm))
        .build();
  }

  /**
   * An auto mTLS cluster: endpoints labelled {@code tlsMode: istio} get ISTIO_MUTUAL with {@code
   * sans}, the others plaintext.
   */
  public static Cluster autoMtlsCluster(String name, List<String> sans, boolean ads) {
    UpstreamTlsContext u =
        UpstreamTlsContext.newBuilder()
            .setSni("outbound_.80_._." + name)
            .setCommonTlsContext(common(ads, sans, OUTBOUND_ALPN))
            .build();
    return Xds.edsCluster(name).toBuilder()
        .addTransportSocketMatches(
            Cluster.TransportSocketMatch.newBuilder()
                .setName("tlsMode-istio")
                .setMatch(
                    Struct.newBuilder()
                        .putFields("tlsMode", Value.newBuilder().setStringValue("istio").build()))
                .setTransportSocket(tls(u)))
        .addTransportSocketMatches(
            Cluster.TransportSocketMatch.newBuilder()
                .setName("tlsMode-disabled")
                .setMatch(Struct.getDefaultInstance())
                .setTransportSocket(
                    TransportSocket.newBuilder()
                        .setName("envoy.transport_sockets.raw_buffer")
                        .setTypedConfig(Any.pack(RawBuffer.getDefaultInstance()))))
        .build();
  }

  /** A load assignment whose endpoints carry {@code tlsMode} (null: no label, no sidecar). */
  public static ClusterLoadAssignment assignment(
      String cluster, InetSocketAddress a, String tlsMode) {
    LbEndpoint.Builder e =
        LbEndpoint.newBuilder()
            .setEndpoint(
                Endpoint.newBuilder().setAddress(Xds.address(a.getHostString(), a.getPort())));
    if (tlsMode != null) {
      e.setMetadata(
          Metadata.newBuilder()
              .putFilterMetadata(
                  "envoy.transport_socket_match",
                  Struct.newBuilder()
                      .putFields("tlsMode", Value.newBuilder().setStringValue(tlsMode).build())
                      .build()));
    }
    return ClusterLoadAssignment.newBuilder()
        .setClusterName(cluster)
        .addEndpoints(LocalityLbEndpoints.newBuilder().addLbEndpoints(e))
        .build();
  }
}
