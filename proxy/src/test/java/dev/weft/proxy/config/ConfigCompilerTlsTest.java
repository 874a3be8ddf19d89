package dev.weft.proxy.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Any;
import com.google.protobuf.BoolValue;
import dev.weft.proxy.http.filter.HttpFilterRegistry;
import dev.weft.proxy.stats.ProxyStats;
import dev.weft.proxy.testing.IstioTls;
import dev.weft.proxy.testing.TestPki;
import dev.weft.proxy.testing.Xds;
import dev.weft.proxy.tls.SecretStore;
import dev.weft.proxy.xds.resource.ConfigCompiler;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.listener.v3.ListenerFilter;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CommonTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsParameters;
import java.net.InetSocketAddress;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Compiling Istio's TLS shapes, and rejecting what Weft does not honour (NACK, never ignore). */
class ConfigCompilerTlsTest {
  final SecretStore secrets = new SecretStore();
  final ConfigCompiler compiler =
      new ConfigCompiler(new ProxyStats(), HttpFilterRegistry.defaults(), secrets);
  final HttpConnectionManager hcm =
      Xds.hcm()
          .setRds(
              io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.Rds
                  .newBuilder()
                  .setConfigSource(Xds.ADS)
                  .setRouteConfigName("r"))
          .build();

  @Test
  void compilesIstiosPermissiveInboundListener() throws Exception {
    ListenerConfig l = compiler.listener(IstioTls.inbound("in", 15006, hcm, false, true));
    assertThat(l.tlsInspector()).isTrue();
    assertThat(l.filterChains()).hasSize(2);
    FilterChainConfig mtls = l.filterChains().get(0);
    assertThat(mtls.match().transportProtocol()).isEqualTo("tls");
    assertThat(mtls.match().applicationProtocols()).isEqualTo(IstioTls.INBOUND_ALPN);
    assertThat(mtls.tls()).isNotNull();
    assertThat(mtls.tls().server()).isTrue();
    assertThat(l.filterChains().get(1).tls()).isNull();
    assertThat(l.filterChains().get(1).match().transportProtocol()).isEqualTo("raw_buffer");
    // SDS over ADS: the xDS client subscribes to these.
    assertThat(l.adsSecretNames()).containsExactly("default", "ROOTCA");
    // From the identity agent (sds-grpc): nothing to subscribe to.
    assertThat(compiler.listener(IstioTls.inbound("in", 15006, hcm, true, false)).adsSecretNames())
        .isEmpty();
  }

  @Test
  void anUnchangedPushKeepsItsTlsContextAndSoItsSessions() throws Exception {
    ListenerConfig a = compiler.listener(IstioTls.inbound("in", 15006, hcm, false, true));
    ListenerConfig b = compiler.listener(IstioTls.inbound("in", 15006, hcm, false, true));
    assertThat(b.filterChains().get(0).tls()).isSameAs(a.filterChains().get(0).tls());
    ListenerConfig other = compiler.listener(IstioTls.inbound("in2", 15007, hcm, false, true));
    assertThat(other.filterChains().get(0).tls()).isNotSameAs(a.filterChains().get(0).tls());
  }

  @Test
  void theInspectorIsImpliedByAChainThatMatchesOnTls() throws Exception {
    Listener l =
        IstioTls.inbound("in", 15006, hcm, true, false).toBuilder().clearListenerFilters().build();
    assertThat(compiler.listener(l).tlsInspector()).isTrue();
    assertThat(compiler.listener(Xds.listener("p", 80, hcm)).tlsInspector()).isFalse();
  }

  @Test
  void autoMtlsChoosesTheTransportPerEndpoint() throws Exception {
    ClusterConfig c =
        compiler.cluster(IstioTls.autoMtlsCluster("out", List.of("spiffe://x"), false), null);
    InetSocketAddress a = new InetSocketAddress("127.0.0.1", 80);
    List<Endpoint> withSidecar =
        compiler.endpoints("out", "", IstioTls.assignment("out", a, "istio"), c.transport());
    List<Endpoint> without =
        compiler.endpoints("out", "", IstioTls.assignment("out", a, null), c.transport());
    List<Endpoint> disabled =
        compiler.endpoints("out", "", IstioTls.assignment("out", a, "disabled"), c.transport());
    assertThat(withSidecar.get(0).tls()).isNotNull();
    assertThat(withSidecar.get(0).tls().sni()).isEqualTo("outbound_.80_._.out");
    assertThat(without.get(0).tls()).isNull();
    assertThat(disabled.get(0).tls()).isNull();
    // TLS and plaintext connections to the same host never share a pool.
    assertThat(withSidecar.get(0).poolKey()).isNotEqualTo(without.get(0).poolKey());
    // Through build(), EDS endpoints get the cluster's choice too.
    RuntimeConfig rc =
        compiler.build(
            java.util.Map.of(),
            java.util.Map.of(),
            java.util.Map.of("out", c),
            java.util.Map.of("out", IstioTls.assignment("out", a, "istio")));
    assertThat(rc.clusters().get("out").endpoints().get(0).tls()).isNotNull();
  }

  /**
   * The control plane's auto mTLS cluster has only the {@code tlsMode-istio} match (no empty {@code
   * tlsMode-disabled} match with raw_buffer, as Istio sends): an endpoint without {@code tlsMode:
   * istio} falls through to the cluster's transport socket, unset, so plaintext, as in Envoy.
   */
  @Test
  void autoMtlsWithoutTheEmptyMatchSendsOtherEndpointsInPlaintext() throws Exception {
    ClusterConfig c =
        compiler.cluster(
            IstioTls.autoMtlsCluster("out", List.of("spiffe://x"), false).toBuilder()
                .removeTransportSocketMatches(1)
                .build(),
            null);
    InetSocketAddress a = new InetSocketAddress("127.0.0.1", 80);
    assertThat(
            compiler
                .endpoints("out", "", IstioTls.assignment("out", a, "istio"), c.transport())
                .get(0)
                .tls())
        .isNotNull();
    assertThat(
            compiler
                .endpoints("out", "", IstioTls.assignment("out", a, null), c.transport())
                .get(0)
                .tls())
        .isNull();
    assertThat(
            compiler
                .endpoints("out", "", IstioTls.assignment("out", a, "disabled"), c.transport())
                .get(0)
                .tls())
        .isNull();
  }

  @Test
  void inlineCertificatesWork() throws Exception {
    TestPki.Ca root = TestPki.ca("r");
    TestPki.Workload w = TestPki.workload(root, "spiffe://a");
    DownstreamTlsContext d =
        DownstreamTlsContext.newBuilder()
            .setCommonTlsContext(
                CommonTlsContext.newBuilder()
                    .addTlsCertificates(TestPki.certificateSecret("x", w).getTlsCertificate()))
            .build();
    ListenerConfig l = compiler.listener(withTls(d));
    assertThat(l.filterChains().get(0).tls().sslContext()).isNotNull();
  }

  @Test
  void rejectsWhatItDoesNotHonour() {
    CommonTlsContext good = IstioTls.common(false, List.of(), List.of());
    assertRejected(
        DownstreamTlsContext.newBuilder()
            .setCommonTlsContext(
                good.toBuilder()
                    .setTlsParams(
                        TlsParameters.newBuilder()
                            .setTlsMinimumProtocolVersion(TlsParameters.TlsProtocol.TLSv1_1)))
            .build(),
        "TLSv1_1 is not supported");
    assertRejected(
        DownstreamTlsContext.newBuilder()
            .setCommonTlsContext(
                good.toBuilder().setTlsParams(TlsParameters.newBuilder().addEcdhCurves("P-256")))
            .build(),
        "ecdh_curves");
    assertRejected(
        DownstreamTlsContext.newBuilder()
            .setRequireClientCertificate(BoolValue.of(true))
            .setCommonTlsContext(good.toBuilder().clearCombinedValidationContext())
            .build(),
        "require_client_certificate needs a validation context");
    assertRejected(
        DownstreamTlsContext.newBuilder()
            .setCommonTlsContext(good.toBuilder().clearTlsCertificateSdsSecretConfigs())
            .build(),
        "a DownstreamTlsContext needs a certificate");
    Listener unknownFilter =
        Xds.listener("p", 80, hcm).toBuilder()
            .addListenerFilters(
                ListenerFilter.newBuilder().setName("envoy.filters.listener.original_dst"))
            .build();
    assertThatThrownBy(() -> compiler.listener(unknownFilter))
        .hasMessageContaining("listener filter 'envoy.filters.listener.original_dst' is not");
    Listener prefixRanges =
        Xds.listener("p", 80, hcm).toBuilder()
            .setFilterChains(
                0,
                Xds.listener("p", 80, hcm).getFilterChains(0).toBuilder()
                    .setFilterChainMatch(
                        io.envoyproxy.envoy.config.listener.v3.FilterChainMatch.newBuilder()
                            .setAddressSuffix("10.0.0.1")))
            .build();
    assertThatThrownBy(() -> compiler.listener(prefixRanges))
        .hasMessageContaining("filter_chain_match: address_suffix and suffix_len are not");
    Cluster wrongType =
        Xds.edsCluster("c").toBuilder()
            .setTransportSocket(
                io.envoyproxy.envoy.config.core.v3.TransportSocket.newBuilder()
                    .setName("envoy.transport_sockets.tls")
                    .setTypedConfig(Any.pack(DownstreamTlsContext.getDefaultInstance())))
            .build();
    assertThatThrownBy(() -> compiler.cluster(wrongType, null))
        .hasMessageContaining("cluster c: transport_socket 'envoy.transport_sockets.tls' is not");
  }

  Listener withTls(DownstreamTlsContext d) {
    Listener base = Xds.listener("in", 443, hcm);
    FilterChain c = base.getFilterChains(0).toBuilder().setTransportSocket(IstioTls.tls(d)).build();
    return base.toBuilder().setFilterChains(0, c).build();
  }

  void assertRejected(DownstreamTlsContext d, String message) {
    assertThatThrownBy(() -> compiler.listener(withTls(d)))
        .hasMessageStartingWith("listener in: transport_socket: ")
        .hasMessageContaining(message);
  }
}
