package dev.weft.controlplane.gen;

import com.google.protobuf.Any;
import com.google.protobuf.BoolValue;
import com.google.protobuf.Duration;
import com.google.protobuf.Struct;
import com.google.protobuf.UInt32Value;
import com.google.protobuf.Value;
import dev.weft.api.Resource;
import dev.weft.api.networking.DestinationRule;
import dev.weft.api.networking.Subset;
import dev.weft.api.networking.TrafficPolicy;
import dev.weft.controlplane.push.PushContext;
import dev.weft.controlplane.registry.Workload;
import dev.weft.xds.IstioMtls;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.AggregatedConfigSource;
import io.envoyproxy.envoy.config.core.v3.ApiVersion;
import io.envoyproxy.envoy.config.core.v3.ConfigSource;
import io.envoyproxy.envoy.config.core.v3.Http1ProtocolOptions;
import io.envoyproxy.envoy.config.core.v3.Metadata;
import io.envoyproxy.envoy.config.core.v3.TransportSocket;
import io.envoyproxy.envoy.config.core.v3.UpstreamHttpProtocolOptions;
import io.envoyproxy.envoy.config.listener.v3.ListenerFilter;
import io.envoyproxy.envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CommonTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.SdsSecretConfig;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsParameters;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext;
import io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Istio's mutual TLS in Envoy terms: the inbound {@code DownstreamTlsContext} (Istio's {@code
 * authn/utils.BuildInboundTLS}), the outbound cluster TLS with auto mTLS and DestinationRule {@code
 * tls} (Istio's {@code core/cluster_tls.go}), and the endpoint metadata auto mTLS matches on
 * (Istio's {@code xds/endpoints/mtls_checker.go}).
 *
 * <p>Every SDS secret is fetched over ADS ({@code sds_config: {ads: {}, resource_api_version:
 * V3}}), where Istio's sidecars use the node agent's UDS cluster {@code sds-grpc}: Weft's proxies
 * get {@code default} (the workload certificate) and {@code ROOTCA} by name on their ADS stream.
 * Istio's {@code initial_fetch_timeout: 0s} on those two is kept (the listener or cluster waits for
 * its certificate).
 */
final class MeshTls {
  /** Istio's server cipher suites for sidecars ({@code authn/utils.SupportedCiphers}). */
  static final List<String> SERVER_CIPHERS =
      List.of(
          "ECDHE-ECDSA-AES256-GCM-SHA384",
          "ECDHE-RSA-AES256-GCM-SHA384",
          "ECDHE-ECDSA-AES128-GCM-SHA256",
          "ECDHE-RSA-AES128-GCM-SHA256",
          "AES256-GCM-SHA384",
          "AES128-GCM-SHA256");

  /** Istio's name prefix of a secret referenced by {@code credentialName}. */
  static final String KUBERNETES_SECRET = "kubernetes://";

  /** Istio's suffix of the CA secret that goes with a {@code credentialName}. */
  static final String CA_SUFFIX = "-cacert";

  /** The typed_extension_protocol_options key of upstream HTTP options. */
  static final String HTTP_PROTOCOL_OPTIONS =
      "envoy.extensions.upstreams.http.v3.HttpProtocolOptions";

  private MeshTls() {}

  // ------------------------------------------------------------------------------------ inbound

  /**
   * The inbound TLS of a sidecar's HTTP port in STRICT or PERMISSIVE mode: the workload's {@code
   * default} certificate, a client certificate required and validated against {@code ROOTCA} (any
   * SAN: who may call is the authorization policy's business), ALPN {@code h2, http/1.1}, TLS 1.2
   * to 1.3 with Istio's cipher suites.
   */
  static TransportSocket inbound() {
    return inbound(false);
  }

  /**
   * {@link #inbound()}, for a TCP port ({@code tcp}) with Istio's {@code ALPNDownstreamWithMxc}
   * ({@code istio-peer-exchange, h2, http/1.1}, Istio's {@code buildInboundTLS} for TCP): a sidecar
   * client offering {@code istio-peer-exchange} negotiates it, and both proxies then exchange their
   * peer metadata at the start of the connection (the proxy's {@code stats.TcpMetadataExchange}).
   */
  static TransportSocket inbound(boolean tcp) {
    DownstreamTlsContext ctx =
        DownstreamTlsContext.newBuilder()
            .setCommonTlsContext(
                CommonTlsContext.newBuilder()
                    .setTlsParams(
                        TlsParameters.newBuilder()
                            .setTlsMinimumProtocolVersion(TlsParameters.TlsProtocol.TLSv1_2)
                            .setTlsMaximumProtocolVersion(TlsParameters.TlsProtocol.TLSv1_3)
                            .addAllCipherSuites(SERVER_CIPHERS))
                    .addAllAlpnProtocols(
                        tcp ? IstioMtls.ALPN_DOWNSTREAM_WITH_MX : IstioMtls.ALPN_HTTP)
                    .addTlsCertificateSdsSecretConfigs(sds(IstioMtls.SDS_DEFAULT))
                    .setCombinedValidationContext(
                        CommonTlsContext.CombinedCertificateValidationContext.newBuilder()
                            .setDefaultValidationContext(
                                CertificateValidationContext.getDefaultInstance())
                            .setValidationContextSdsSecretConfig(sds(IstioMtls.SDS_ROOTCA))))
            .setRequireClientCertificate(BoolValue.of(true))
            .build();
    return tlsSocket(Any.pack(ctx));
  }

  /**
   * Envoy's TLS inspector as Istio configures it (a 512-byte initial read buffer instead of 64
   * KiB): it sets the connection's transport protocol ({@code tls} or {@code raw_buffer}) and the
   * ClientHello's ALPN for the filter chain match.
   */
  static ListenerFilter tlsInspector() {
    return ListenerFilter.newBuilder()
        .setName(IstioMtls.TLS_INSPECTOR)
        .setTypedConfig(
            Any.pack(
                TlsInspector.newBuilder().setInitialReadBufferSize(UInt32Value.of(512)).build()))
        .build();
  }

  // ----------------------------------------------------------------------------------- outbound

  /**
   * Applies the client TLS of an outbound cluster, as Istio's {@code buildUpstreamTLSSettings} and
   * {@code applyUpstreamTLSSettings}. Without a DestinationRule {@code tls}: auto mTLS, unless the
   * destination namespace's PeerAuthentication is DISABLE: a {@code transport_socket_matches} entry
   * sends ISTIO_MUTUAL to endpoints whose metadata carry {@code tlsMode: istio}, and the rest,
   * which it does not match, get the cluster's default transport: plaintext. With one: DISABLE is
   * plaintext; ISTIO_MUTUAL, SIMPLE and MUTUAL set the cluster's {@code transport_socket} for every
   * endpoint. A proxy that does not announce TLS support gets none of this.
   */
  static void applyUpstream(
      Cluster.Builder cluster, PushContext context, Proxy proxy, OutboundCluster c) {
    if (!proxy.mtls()) {
      return;
    }
    Map<String, Object> tls = clientTls(context, c);
    String sni = istioSni(c);
    if (tls == null) {
      // Istio's buildAutoMtlsSettings: no auto mTLS to a MESH_EXTERNAL service.
      if (c.service().external()) {
        return;
      }
      if (PeerAuthentications.of(context).serviceMode(c.service().namespace())
          == MtlsMode.DISABLE) {
        return;
      }
      UpstreamTlsContext ctx = istioMutual(sni, serviceAccounts(context, c));
      // Istio adds a second match, tlsMode-disabled: an empty match with raw_buffer. It is left
      // out: an endpoint no match takes gets the cluster's transport_socket (Envoy's
      // transport_socket_matches; Weft's proxy, ClusterTransport.forEndpoint), and with none set
      // that is raw_buffer, so such endpoints are plaintext all the same. ~140 bytes a cluster
      // (17% of an auto mTLS cluster) that every sidecar receives for every cluster (issue #10).
      // Only Envoy's per-match stats differ: those endpoints count under the default match, not
      // under tlsMode-disabled.
      cluster.addTransportSocketMatches(
          Cluster.TransportSocketMatch.newBuilder()
              .setName("tlsMode-" + IstioMtls.TLS_MODE_ISTIO)
              .setMatch(
                  Struct.newBuilder()
                      .putFields(
                          IstioMtls.TLS_MODE_KEY,
                          Value.newBuilder().setStringValue(IstioMtls.TLS_MODE_ISTIO).build()))
              .setTransportSocket(tlsSocket(Any.pack(ctx))));
      return;
    }
    String mode = mode(tls);
    String credentialName = string(tls, "credentialName");
    // Istio does not hand a DestinationRule's credentialName to sidecars unless the rule has a
    // workloadSelector: SIMPLE and MUTUAL then get no TLS context at all.
    if (!proxy.isRouter()
        && c.destinationRule().spec(DestinationRule.class).workloadSelector().isEmpty()
        && !credentialName.isEmpty()
        && !credentialName.startsWith("configmap://")
        && (mode.equals("SIMPLE") || mode.equals("MUTUAL"))) {
      return;
    }
    switch (mode) {
      case "ISTIO_MUTUAL" -> {
        String userSni = string(tls, "sni");
        List<String> sans = strings(tls, "subjectAltNames");
        UpstreamTlsContext ctx =
            istioMutual(
                userSni.isEmpty() ? sni : userSni,
                sans.isEmpty() ? serviceAccounts(context, c) : sans);
        cluster.setTransportSocket(tlsSocket(Any.pack(ctx)));
      }
      case "SIMPLE", "MUTUAL" -> {
        UpstreamTlsContext ctx = simpleOrMutual(cluster, tls, mode.equals("MUTUAL"));
        if (ctx != null) {
          cluster.setTransportSocket(tlsSocket(Any.pack(ctx)));
        }
      }
      default -> {
        // DISABLE: plaintext.
      }
    }
  }

  /**
   * Istio's ISTIO_MUTUAL context: the workload certificate {@code default}, the peer validated
   * against {@code ROOTCA} and its SAN matched exactly against {@code sans}, ALPN {@code
   * istio-peer-exchange, istio} (what a PERMISSIVE server's filter chain recognises), SNI.
   */
  static UpstreamTlsContext istioMutual(String sni, List<String> sans) {
    CertificateValidationContext.Builder validation = sanMatcher(sans);
    return UpstreamTlsContext.newBuilder()
        .setCommonTlsContext(
            CommonTlsContext.newBuilder()
                .setTlsParams(clientTlsParams())
                .addAllAlpnProtocols(IstioMtls.ALPN_IN_MESH)
                .addTlsCertificateSdsSecretConfigs(sds(IstioMtls.SDS_DEFAULT))
                .setCombinedValidationContext(
                    CommonTlsContext.CombinedCertificateValidationContext.newBuilder()
                        .setDefaultValidationContext(validation)
                        .setValidationContextSdsSecretConfig(sds(IstioMtls.SDS_ROOTCA))))
        .setSni(sni)
        .build();
  }

  /**
   * Istio's {@code constructUpstreamTLS} for SIMPLE and MUTUAL: the DestinationRule's {@code sni}
   * (else {@code auto_sni} from the request's host) and SANs (else {@code auto_san_validation}
   * against that host), certificates from SDS: {@code kubernetes://<credentialName>} and {@code
   * kubernetes://<credentialName>-cacert} (gateways), else Istio's file resources {@code
   * file-cert:<clientCertificate>~<privateKey>} and {@code file-root:<caCertificates>} ({@code
   * file-root:system}, the system trust store, when none is given). {@code insecureSkipVerify}
   * leaves the server unverified (no validation context). MUTUAL without a client certificate gets
   * no context (Istio logs an error and leaves the cluster plaintext).
   */
  private static UpstreamTlsContext simpleOrMutual(
      Cluster.Builder cluster, Map<String, Object> tls, boolean mutual) {
    String sni = string(tls, "sni");
    List<String> sans = strings(tls, "subjectAltNames");
    boolean skipVerify = Boolean.TRUE.equals(tls.get("insecureSkipVerify"));
    String credentialName = string(tls, "credentialName");
    CommonTlsContext.Builder common = CommonTlsContext.newBuilder().setTlsParams(clientTlsParams());
    if (!credentialName.isEmpty()) {
      if (mutual) {
        common.addTlsCertificateSdsSecretConfigs(credentialSds(credentialName));
      }
      if (!skipVerify) {
        common.setCombinedValidationContext(
            CommonTlsContext.CombinedCertificateValidationContext.newBuilder()
                .setDefaultValidationContext(sanMatcher(sans))
                .setValidationContextSdsSecretConfig(credentialSds(credentialName + CA_SUFFIX)));
      }
    } else {
      String ca = string(tls, "caCertificates");
      if (mutual) {
        String cert = string(tls, "clientCertificate");
        String key = string(tls, "privateKey");
        if (cert.isEmpty() || key.isEmpty()) {
          return null;
        }
        common.addTlsCertificateSdsSecretConfigs(fileSds("file-cert:" + cert + "~" + key));
      }
      // insecureSkipVerify: Istio sets an empty validation_context; no validation context at all
      // means the same to Envoy (the server is not verified), and Weft's proxy NACKs an empty one.
      if (!skipVerify) {
        // caCrl is left out (Enforcement warns): Istio passes it as a file Envoy reads, and Weft's
        // proxy, which checks no revocation, NACKs a crl (the whole CDS update with it).
        CertificateValidationContext.Builder validation = sanMatcher(sans);
        common.setCombinedValidationContext(
            CommonTlsContext.CombinedCertificateValidationContext.newBuilder()
                .setDefaultValidationContext(validation)
                .setValidationContextSdsSecretConfig(
                    fileSds("file-root:" + (ca.isEmpty() ? "system" : ca))));
      }
    }
    boolean autoSni = sni.isEmpty();
    boolean autoSan = autoSni && sans.isEmpty() && !skipVerify;
    if (autoSni || autoSan) {
      cluster.putTypedExtensionProtocolOptions(
          HTTP_PROTOCOL_OPTIONS,
          Any.pack(
              HttpProtocolOptions.newBuilder()
                  .setUpstreamHttpProtocolOptions(
                      UpstreamHttpProtocolOptions.newBuilder()
                          .setAutoSni(autoSni)
                          .setAutoSanValidation(autoSan))
                  .setExplicitHttpConfig(
                      HttpProtocolOptions.ExplicitHttpConfig.newBuilder()
                          .setHttpProtocolOptions(Http1ProtocolOptions.getDefaultInstance()))
                  .build()));
    }
    return UpstreamTlsContext.newBuilder().setCommonTlsContext(common).setSni(sni).build();
  }

  /**
   * The effective DestinationRule {@code tls} of a cluster, as Istio merges it: the rule's
   * port-level setting for the service port, else its top-level one; for a subset cluster the
   * subset's policy (port level, then top level) overrides. Null when none applies.
   */
  static Map<String, Object> clientTls(PushContext context, OutboundCluster c) {
    Resource dr = c.destinationRule();
    if (dr == null) {
      return null;
    }
    int port = c.port().number();
    Map<String, Object> tls = portTls(dr.spec(DestinationRule.class).trafficPolicy(), port);
    String subsetName = c.name().subset();
    if (!subsetName.isEmpty()) {
      Subset s = c.subset();
      if (s != null) {
        Map<String, Object> subsetTls = portTls(s.trafficPolicy(), port);
        if (subsetTls != null) {
          tls = subsetTls;
        }
      }
    }
    return tls;
  }

  private static Map<String, Object> portTls(TrafficPolicy policy, int port) {
    if (policy == null) {
      return null;
    }
    Map<String, Object> tls = policy.tls();
    if (policy.portLevelSettings() != null) {
      for (Map<String, Object> p : policy.portLevelSettings()) {
        if (p.get("port") instanceof Map<?, ?> pm
            && pm.get("number") instanceof Number n
            && n.intValue() == port) {
          if (map(p.get("tls")) != null) {
            tls = map(p.get("tls"));
          }
          break;
        }
      }
    }
    return tls;
  }

  /** A {@code tls} mode; DISABLE when unset (the proto's zero value). */
  static String mode(Map<String, Object> tls) {
    String m = string(tls, "mode");
    return m.isEmpty() ? "DISABLE" : m;
  }

  // ------------------------------------------------------------------------------------ EDS

  /**
   * The {@code tlsMode} an endpoint's metadata carries for auto mTLS, or empty for none (Istio's
   * {@code mtlsChecker.checkMtlsEnabled} and {@code AppendLbEndpointMetadata}). When the
   * DestinationRule sets a {@code tls} mode for the cluster, only ISTIO_MUTUAL keeps it; otherwise
   * the workload must be labelled {@code security.istio.io/tlsMode: istio} (a sidecar that speaks
   * mTLS) and its own PeerAuthentication must not DISABLE the port.
   */
  static String endpointTlsMode(
      PushContext context, OutboundCluster c, Workload workload, int endpointPort) {
    String label =
        workload.labels().getOrDefault(IstioMtls.TLS_MODE_LABEL, IstioMtls.TLS_MODE_DISABLED);
    if (label.isEmpty() || label.equals(IstioMtls.TLS_MODE_DISABLED)) {
      return "";
    }
    Map<String, Object> tls = clientTls(context, c);
    boolean enabled;
    if (tls != null) {
      enabled = mode(tls).equals("ISTIO_MUTUAL");
    } else {
      enabled =
          label.equals(IstioMtls.TLS_MODE_ISTIO)
              && PeerAuthentications.of(context)
                      .forWorkload(workload.namespace(), workload.labels())
                      .forPort(endpointPort)
                  != MtlsMode.DISABLE;
    }
    return enabled ? label : "";
  }

  /** {@code filter_metadata: {envoy.transport_socket_match: {tlsMode: <mode>}}}. */
  static Metadata endpointMetadata(String tlsMode) {
    return Metadata.newBuilder()
        .putFilterMetadata(
            IstioMtls.TRANSPORT_SOCKET_MATCH,
            Struct.newBuilder()
                .putFields(
                    IstioMtls.TLS_MODE_KEY, Value.newBuilder().setStringValue(tlsMode).build())
                .build())
        .build();
  }

  // ---------------------------------------------------------------------------------- helpers

  /**
   * The identities of the workloads behind a service, SANs its servers may present: {@code
   * spiffe://cluster.local/ns/<ns>/sa/<sa>} of every workload the Service selects (connected
   * proxies by their {@code SERVICE_ACCOUNT}, WorkloadEntries by {@code serviceAccount}), sorted
   * and distinct (Istio's {@code PushContext.ServiceAccounts}).
   */
  static List<String> serviceAccounts(PushContext context, OutboundCluster c) {
    return context.cached(
        "service-accounts:" + c.service().hostname(),
        () -> {
          TreeSet<String> out = new TreeSet<>();
          // The context's selection (once per push), not every workload again per host.
          for (Workload w : context.selected(c.service())) {
            if (!w.serviceAccount().isEmpty()) {
              out.add(IstioMtls.spiffeId(w.namespace(), w.serviceAccount()));
            }
          }
          return List.copyOf(out);
        });
  }

  /** Istio's SNI for ISTIO_MUTUAL: {@code outbound_.80_.v1_.podinfo.demo.svc.cluster.local}. */
  static String istioSni(OutboundCluster c) {
    return "outbound_." + c.port().number() + "_." + c.name().subset() + "_." + c.name().host();
  }

  private static TlsParameters clientTlsParams() {
    return TlsParameters.newBuilder()
        .setTlsMinimumProtocolVersion(TlsParameters.TlsProtocol.TLSv1_2)
        .setTlsMaximumProtocolVersion(TlsParameters.TlsProtocol.TLSv1_3)
        .build();
  }

  @SuppressWarnings("deprecation") // Istio still sets match_subject_alt_names; Envoy reads it.
  private static void addSan(CertificateValidationContext.Builder validation, String san) {
    validation.addMatchSubjectAltNames(StringMatcher.newBuilder().setExact(san));
  }

  private static CertificateValidationContext.Builder sanMatcher(List<String> sans) {
    CertificateValidationContext.Builder validation = CertificateValidationContext.newBuilder();
    for (String san : sans) {
      addSan(validation, san);
    }
    return validation;
  }

  /** {@code envoy.transport_sockets.tls} with a TLS context. */
  static TransportSocket tlsSocket(Any context) {
    return TransportSocket.newBuilder()
        .setName(IstioMtls.TLS_TRANSPORT)
        .setTypedConfig(context)
        .build();
  }

  /**
   * The workload's own secrets {@code default} and {@code ROOTCA} over ADS, with Istio's {@code
   * initial_fetch_timeout: 0s} (wait for them).
   */
  static SdsSecretConfig sds(String name) {
    return SdsSecretConfig.newBuilder()
        .setName(name)
        .setSdsConfig(adsSds().setInitialFetchTimeout(Duration.getDefaultInstance()))
        .build();
  }

  /** A secret named by {@code credentialName}, as Istio's {@code credentials.ToResourceName}. */
  static SdsSecretConfig credentialSds(String credentialName) {
    String name = credentialName;
    if (!name.startsWith(KUBERNETES_SECRET)
        && !name.startsWith("kubernetes-gateway://")
        && !name.startsWith("configmap://")) {
      name = KUBERNETES_SECRET + name;
    }
    return SdsSecretConfig.newBuilder().setName(name).setSdsConfig(adsSds()).build();
  }

  private static SdsSecretConfig fileSds(String name) {
    return SdsSecretConfig.newBuilder().setName(name).setSdsConfig(adsSds()).build();
  }

  private static ConfigSource.Builder adsSds() {
    return ConfigSource.newBuilder()
        .setAds(AggregatedConfigSource.getDefaultInstance())
        .setResourceApiVersion(ApiVersion.V3);
  }

  private static String string(Map<String, Object> m, String key) {
    return m.get(key) instanceof String s ? s : "";
  }

  private static List<String> strings(Map<String, Object> m, String key) {
    List<String> out = new ArrayList<>();
    if (m.get(key) instanceof List<?> l) {
      for (Object o : l) {
        if (o instanceof String s) {
          out.add(s);
        }
      }
    }
    return out;
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> map(Object o) {
    return o instanceof Map<?, ?> m ? (Map<String, Object>) m : null;
  }
}
