package dev.weft.controlplane.gen;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import com.google.protobuf.util.JsonFormat;
import dev.weft.controlplane.Fixtures;
import dev.weft.controlplane.push.PushContext;
import dev.weft.xds.IstioMtls;
import dev.weft.xds.NodeMetadata;
import dev.weft.xds.TypeUrls;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Extension;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Istio's mTLS shapes: golden files for a STRICT, a PERMISSIVE and a DISABLE inbound listener, for
 * outbound clusters with auto mTLS and every DestinationRule {@code tls} mode (sidecar and
 * gateway), and for the EDS {@code tlsMode} metadata; every generated resource well-formed (each
 * {@code Any} resolves to an Envoy type and parses without unknown fields); proxies that do not
 * announce TLS support get none of it. {@code -Dweft.golden.update=true} rewrites the golden files.
 */
class MtlsGenerationTest {
  @TempDir static Path dir;

  /** Scenarios: fixture files on top of the guide's canary and the mTLS destinations. */
  static final Map<String, List<String>> SCENARIOS =
      new LinkedHashMap<>(
          Map.of(
              "permissive", List.of(),
              "strict", List.of("mtls-strict.yaml"),
              "disable", List.of("mtls-port-disable.yaml")));

  /** A node as a TLS-capable Weft proxy would send it: the extensions, and a service account. */
  static Node mtlsNode(Node node, String serviceAccount) {
    Struct md =
        node.getMetadata().toBuilder()
            .putFields(
                NodeMetadata.SERVICE_ACCOUNT,
                Value.newBuilder().setStringValue(serviceAccount).build())
            .build();
    return node.toBuilder()
        .setMetadata(md)
        .addExtensions(
            Extension.newBuilder()
                .setName(IstioMtls.TLS_TRANSPORT)
                .setCategory("envoy.transport_sockets.downstream"))
        .addExtensions(
            Extension.newBuilder()
                .setName(IstioMtls.TLS_TRANSPORT)
                .setCategory("envoy.transport_sockets.upstream"))
        .addExtensions(
            Extension.newBuilder()
                .setName(IstioMtls.TLS_INSPECTOR)
                .setCategory("envoy.filters.listener"))
        .build();
  }

  static Proxy v1() {
    return Proxy.fromNode(mtlsNode(Fixtures.v1Node(), "podinfo"));
  }

  static Proxy v2() {
    return Proxy.fromNode(mtlsNode(Fixtures.v2Node(), "podinfo-canary"));
  }

  static Proxy gateway() {
    return Proxy.fromNode(mtlsNode(Fixtures.gatewayNode(), "istio-ingressgateway-service-account"));
  }

  static PushContext context(String scenario) throws Exception {
    List<String> files = new ArrayList<>(List.of("podinfo.yaml", "mtls-destinations.yaml"));
    files.addAll(SCENARIOS.get(scenario));
    Path tmp = Files.createTempDirectory(dir, "store");
    return PushContext.build(
        1,
        Fixtures.snapshot(tmp, files.toArray(String[]::new)),
        List.of(v1().workload(), v2().workload(), gateway().workload()));
  }

  static Stream<Arguments> goldens() {
    return Stream.of(
        Arguments.of("permissive", "v1", "LDS"),
        Arguments.of("strict", "v1", "LDS"),
        Arguments.of("disable", "v1", "LDS"),
        Arguments.of("permissive", "v1", "CDS"),
        Arguments.of("permissive", "gateway", "CDS"),
        Arguments.of("permissive", "v1", "EDS"),
        Arguments.of("disable", "v1", "EDS"));
  }

  @ParameterizedTest(name = "{0} {1} {2}")
  @MethodSource("goldens")
  void matchesGoldenFile(String scenario, String proxyName, String type) throws Exception {
    PushContext context = context(scenario);
    Proxy proxy = proxyName.equals("gateway") ? gateway() : v1();
    Generator generator = generator(type);
    String actual = print(generator.typeUrl(), generator.generate(context, proxy));
    String file =
        "mtls-" + scenario + "-" + proxyName + "-" + type.toLowerCase(Locale.ROOT) + ".json";
    if (Boolean.getBoolean("weft.golden.update")) {
      Path golden = Path.of("src/test/resources/golden", file);
      Files.createDirectories(golden.getParent());
      Files.writeString(golden, actual);
      return;
    }
    String expected;
    try (InputStream in = getClass().getResourceAsStream("/golden/" + file)) {
      assertThat(in)
          .as("golden file " + file + " (run with -Dweft.golden.update=true)")
          .isNotNull();
      expected = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    assertThat(actual).isEqualTo(expected);
  }

  @Test
  void everyGeneratedResourceIsWellFormed() throws Exception {
    int anys = 0;
    for (String scenario : SCENARIOS.keySet()) {
      PushContext context = context(scenario);
      for (Proxy proxy : List.of(v1(), v2(), gateway(), Fixtures.v1(), Fixtures.gateway())) {
        for (Generator g : Generators.ALL) {
          for (Message m : g.generate(context, proxy)) {
            assertThat(Any.pack(m).getTypeUrl()).isEqualTo(g.typeUrl());
            anys += checkAnys(m, g.typeUrl() + " " + Generators.name(m));
            checkEnvoyRules(m);
          }
        }
      }
    }
    // TLS contexts, raw buffers, TLS inspectors, connection managers, routers...
    assertThat(anys).isGreaterThan(100);
  }

  @Test
  void strictPermissiveAndDisableInboundChains() throws Exception {
    Listener strict = inbound(context("strict"), v1());
    assertThat(strict.getFilterChainsList()).hasSize(1);
    assertThat(strict.getFilterChains(0).getFilterChainMatch().getTransportProtocol())
        .isEqualTo("tls");
    assertThat(strict.getFilterChains(0).getFilterChainMatch().getDestinationPort().getValue())
        .isEqualTo(9898);
    DownstreamTlsContext tls =
        strict
            .getFilterChains(0)
            .getTransportSocket()
            .getTypedConfig()
            .unpack(DownstreamTlsContext.class);
    assertThat(tls.getRequireClientCertificate().getValue()).isTrue();
    assertThat(tls.getCommonTlsContext().getAlpnProtocolsList()).containsExactly("h2", "http/1.1");
    assertThat(tls.getCommonTlsContext().getTlsCertificateSdsSecretConfigs(0).getName())
        .isEqualTo("default");
    assertThat(
            tls.getCommonTlsContext().getTlsCertificateSdsSecretConfigs(0).getSdsConfig().hasAds())
        .isTrue();
    assertThat(
            tls.getCommonTlsContext()
                .getCombinedValidationContext()
                .getValidationContextSdsSecretConfig()
                .getName())
        .isEqualTo("ROOTCA");
    assertThat(strict.getListenerFiltersList())
        .extracting(f -> f.getName())
        .containsExactly("envoy.filters.listener.tls_inspector");

    Listener permissive = inbound(context("permissive"), v1());
    assertThat(permissive.getFilterChainsList()).hasSize(2);
    FilterChain mtls = permissive.getFilterChains(0);
    assertThat(mtls.getFilterChainMatch().getApplicationProtocolsList())
        .containsExactly(
            "istio", "istio-peer-exchange", "istio-http/1.0", "istio-http/1.1", "istio-h2");
    assertThat(mtls.hasTransportSocket()).isTrue();
    FilterChain plain = permissive.getFilterChains(1);
    assertThat(plain.getFilterChainMatch().getTransportProtocol()).isEqualTo("raw_buffer");
    assertThat(plain.hasTransportSocket()).isFalse();
    assertThat(permissive.getListenerFiltersCount()).isEqualTo(1);

    Listener disable = inbound(context("disable"), v1());
    assertThat(disable.getFilterChainsList()).hasSize(1);
    assertThat(disable.getFilterChains(0).getFilterChainMatch().getTransportProtocol())
        .isEqualTo("raw_buffer");
    assertThat(disable.getFilterChains(0).hasTransportSocket()).isFalse();
    assertThat(disable.getListenerFiltersCount()).isZero();
    // v2 has no port-level exception: the namespace's STRICT holds.
    assertThat(inbound(context("disable"), v2()).getFilterChainsList()).hasSize(1);
    assertThat(
            inbound(context("disable"), v2())
                .getFilterChains(0)
                .getFilterChainMatch()
                .getTransportProtocol())
        .isEqualTo("tls");
  }

  @Test
  void autoMtlsVerifiesTheIdentitiesBehindTheService() throws Exception {
    Cluster c = cluster(context("permissive"), v1(), "outbound|80||podinfo.demo.svc.cluster.local");
    assertThat(c.hasTransportSocket()).isFalse();
    // One match, tlsMode-istio; no tlsMode-disabled (an empty match with raw_buffer, as Istio
    // sends): an endpoint the match does not take gets the cluster's transport_socket, unset, so
    // raw_buffer, the same plaintext in ~140 fewer bytes a cluster.
    assertThat(c.getTransportSocketMatchesList())
        .extracting(Cluster.TransportSocketMatch::getName)
        .containsExactly("tlsMode-istio");
    assertThat(c.getTransportSocketMatches(0).getMatch().getFieldsMap())
        .containsOnlyKeys("tlsMode");
    assertThat(
            c.getTransportSocketMatches(0)
                .getMatch()
                .getFieldsMap()
                .get("tlsMode")
                .getStringValue())
        .isEqualTo("istio");
    UpstreamTlsContext tls =
        c.getTransportSocketMatches(0)
            .getTransportSocket()
            .getTypedConfig()
            .unpack(UpstreamTlsContext.class);
    assertThat(tls.getSni()).isEqualTo("outbound_.80_._.podinfo.demo.svc.cluster.local");
    assertThat(tls.getCommonTlsContext().getAlpnProtocolsList())
        .containsExactly("istio-peer-exchange", "istio");
    assertThat(
            tls.getCommonTlsContext()
                .getCombinedValidationContext()
                .getDefaultValidationContext()
                .getMatchSubjectAltNamesList())
        .extracting(m -> m.getExact())
        .containsExactly(
            "spiffe://cluster.local/ns/demo/sa/podinfo",
            "spiffe://cluster.local/ns/demo/sa/podinfo-canary",
            "spiffe://cluster.local/ns/demo/sa/podinfo-vm");
    Cluster subset =
        cluster(context("permissive"), v1(), "outbound|80|v2|podinfo.demo.svc.cluster.local");
    assertThat(
            subset
                .getTransportSocketMatches(0)
                .getTransportSocket()
                .getTypedConfig()
                .unpack(UpstreamTlsContext.class)
                .getSni())
        .isEqualTo("outbound_.80_.v2_.podinfo.demo.svc.cluster.local");
    // A namespace whose PeerAuthentication is DISABLE: plaintext, no matches.
    Cluster legacy =
        cluster(context("permissive"), v1(), "outbound|80||legacy-app.legacy.svc.cluster.local");
    assertThat(legacy.hasTransportSocket()).isFalse();
    assertThat(legacy.getTransportSocketMatchesCount()).isZero();
    // The gateway sends auto mTLS the same way.
    Cluster fromGateway =
        cluster(context("permissive"), gateway(), "outbound|80|v1|podinfo.demo.svc.cluster.local");
    assertThat(fromGateway.getTransportSocketMatchesCount()).isEqualTo(1);
    assertThat(fromGateway.hasTransportSocket()).isFalse();
  }

  @Test
  void destinationRuleTlsOverridesAutoMtls() throws Exception {
    PushContext ctx = context("permissive");
    assertThat(
            cluster(ctx, v1(), "outbound|9080||ratings.demo.svc.cluster.local")
                .hasTransportSocket())
        .isFalse();
    assertThat(
            cluster(ctx, v1(), "outbound|9080||ratings.demo.svc.cluster.local")
                .getTransportSocketMatchesCount())
        .isZero();
    // ISTIO_MUTUAL from the rule: the cluster's transport socket, the rule's SNI and SANs.
    UpstreamTlsContext reviews =
        upstream(cluster(ctx, v1(), "outbound|9080||reviews.demo.svc.cluster.local"));
    assertThat(reviews.getSni()).isEqualTo("reviews.custom.sni");
    assertThat(
            reviews
                .getCommonTlsContext()
                .getCombinedValidationContext()
                .getDefaultValidationContext()
                .getMatchSubjectAltNamesList())
        .extracting(m -> m.getExact())
        .containsExactly("spiffe://cluster.local/ns/demo/sa/reviews");
    // Port level DISABLE for 9090.
    Cluster admin = cluster(ctx, v1(), "outbound|9090||reviews.demo.svc.cluster.local");
    assertThat(admin.hasTransportSocket()).isFalse();
    assertThat(admin.getTransportSocketMatchesCount()).isZero();
    // The subset's own tls (no sni): Istio's default SNI for the subset.
    assertThat(
            upstream(cluster(ctx, v1(), "outbound|9080|v2|reviews.demo.svc.cluster.local"))
                .getSni())
        .isEqualTo("outbound_.9080_.v2_.reviews.demo.svc.cluster.local");
    // The subset without a policy inherits the rule's, and its port-level DISABLE.
    assertThat(
            upstream(cluster(ctx, v1(), "outbound|9080|v1|reviews.demo.svc.cluster.local"))
                .getSni())
        .isEqualTo("reviews.custom.sni");
    assertThat(
            cluster(ctx, v1(), "outbound|9090|v2|reviews.demo.svc.cluster.local")
                .hasTransportSocket())
        .isTrue();
    assertThat(
            cluster(ctx, v1(), "outbound|9090|v1|reviews.demo.svc.cluster.local")
                .hasTransportSocket())
        .isFalse();
    // SIMPLE to an external server: its SNI, the CA file, no client certificate.
    UpstreamTlsContext simple =
        upstream(cluster(ctx, v1(), "outbound|443||external-api.demo.svc.cluster.local"));
    assertThat(simple.getSni()).isEqualTo("api.example.com");
    assertThat(simple.getCommonTlsContext().getTlsCertificateSdsSecretConfigsCount()).isZero();
    assertThat(
            simple
                .getCommonTlsContext()
                .getCombinedValidationContext()
                .getValidationContextSdsSecretConfig()
                .getName())
        .isEqualTo("file-root:/etc/certs/ca.pem");
    // SIMPLE without sni: auto_sni and auto_san_validation, the system trust store.
    Cluster auto = cluster(ctx, v1(), "outbound|80||simple-auto.demo.svc.cluster.local");
    assertThat(auto.getTypedExtensionProtocolOptionsMap())
        .containsKey(MeshTls.HTTP_PROTOCOL_OPTIONS);
    assertThat(
            upstream(auto)
                .getCommonTlsContext()
                .getCombinedValidationContext()
                .getValidationContextSdsSecretConfig()
                .getName())
        .isEqualTo("file-root:system");
    // insecureSkipVerify: no validation.
    UpstreamTlsContext skip =
        upstream(cluster(ctx, v1(), "outbound|80||skip-verify.demo.svc.cluster.local"));
    assertThat(skip.getCommonTlsContext().getValidationContextTypeCase())
        .isEqualTo(
            io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CommonTlsContext
                .ValidationContextTypeCase.VALIDATIONCONTEXTTYPE_NOT_SET);
    // MUTUAL with files.
    UpstreamTlsContext files =
        upstream(cluster(ctx, v1(), "outbound|80||mutual-files.demo.svc.cluster.local"));
    assertThat(files.getCommonTlsContext().getTlsCertificateSdsSecretConfigs(0).getName())
        .isEqualTo("file-cert:/etc/certs/client.pem~/etc/certs/client-key.pem");
    // caCrl is not passed on (Weft's proxy would NACK it; Enforcement warns).
    assertThat(
            files
                .getCommonTlsContext()
                .getCombinedValidationContext()
                .getDefaultValidationContext()
                .hasCrl())
        .isFalse();
    // MUTUAL with credentialName: the gateway fetches kubernetes://NAME; a sidecar gets no TLS
    // context at all, as Istio (a DestinationRule without workloadSelector).
    UpstreamTlsContext cred =
        upstream(cluster(ctx, gateway(), "outbound|80||mutual-cred.demo.svc.cluster.local"));
    assertThat(cred.getCommonTlsContext().getTlsCertificateSdsSecretConfigs(0).getName())
        .isEqualTo("kubernetes://client-cred");
    assertThat(
            cred.getCommonTlsContext()
                .getCombinedValidationContext()
                .getValidationContextSdsSecretConfig()
                .getName())
        .isEqualTo("kubernetes://client-cred-cacert");
    assertThat(
            cluster(ctx, v1(), "outbound|80||mutual-cred.demo.svc.cluster.local")
                .hasTransportSocket())
        .isFalse();
  }

  @Test
  void endpointsCarryTlsModeOnlyWhereMtlsMayGo() throws Exception {
    Map<String, String> permissive =
        tlsModes(context("permissive"), "outbound|80||podinfo.demo.svc.cluster.local");
    // Sidecars get tlsMode: istio; the VM (WorkloadEntry without the label) none.
    assertThat(permissive)
        .containsExactly(
            Map.entry("127.0.1.2:9898", "istio"),
            Map.entry("127.0.1.3:9898", "istio"),
            Map.entry("127.0.3.1:9898", ""));
    // podinfo v1's port 9898 is DISABLE by its workload policy: no tlsMode for it.
    assertThat(tlsModes(context("disable"), "outbound|80||podinfo.demo.svc.cluster.local"))
        .containsEntry("127.0.1.2:9898", "")
        .containsEntry("127.0.1.3:9898", "istio");
  }

  @Test
  void aProxyWithoutTlsSupportGetsNoTlsAndItsWorkloadNoTlsMode() throws Exception {
    PushContext ctx =
        PushContext.build(
            1,
            Fixtures.snapshot(
                Files.createTempDirectory(dir, "store"),
                "podinfo.yaml",
                "mtls-destinations.yaml",
                "mtls-strict.yaml"),
            List.of(Fixtures.v1().workload(), Fixtures.v2().workload()));
    Proxy plain = Fixtures.v1();
    assertThat(plain.mtls()).isFalse();
    assertThat(plain.workload().labels()).doesNotContainKey(IstioMtls.TLS_MODE_LABEL);
    assertThat(v1().mtls()).isTrue();
    assertThat(v1().workload().labels()).containsEntry(IstioMtls.TLS_MODE_LABEL, "istio");
    // A gateway is not injected: clients reach it in plaintext.
    assertThat(gateway().mtls()).isTrue();
    assertThat(gateway().workload().labels()).doesNotContainKey(IstioMtls.TLS_MODE_LABEL);
    assertThat(
            tlsModes(
                    context("permissive"),
                    "outbound|80||istio-ingressgateway.istio-system.svc.cluster.local")
                .values())
        .containsOnly("");
    for (Message m : new ClusterGenerator().generate(ctx, plain)) {
      Cluster c = (Cluster) m;
      assertThat(c.hasTransportSocket()).as(c.getName()).isFalse();
      assertThat(c.getTransportSocketMatchesCount()).as(c.getName()).isZero();
    }
    for (Message m : new ListenerGenerator().generate(ctx, plain)) {
      Listener l = (Listener) m;
      assertThat(l.getFilterChainsCount()).isEqualTo(1);
      assertThat(l.getFilterChains(0).hasFilterChainMatch()).isFalse();
      assertThat(l.getListenerFiltersCount()).isZero();
    }
    // Their endpoints carry no tlsMode either: nobody sends them mTLS.
    assertThat(tlsModes(ctx, "outbound|80||podinfo.demo.svc.cluster.local").values())
        .containsOnly("");
    // A disabled extension does not count.
    Node disabled =
        mtlsNode(Fixtures.v1Node(), "podinfo").toBuilder()
            .setExtensions(
                0, Extension.newBuilder().setName(IstioMtls.TLS_TRANSPORT).setDisabled(true))
            .setExtensions(
                1, Extension.newBuilder().setName(IstioMtls.TLS_TRANSPORT).setDisabled(true))
            .build();
    assertThat(Proxy.fromNode(disabled).mtls()).isFalse();
  }

  // ------------------------------------------------------------------------------ helpers

  private static Generator generator(String type) {
    return Generators.ALL.stream()
        .filter(g -> TypeUrls.shortName(g.typeUrl()).equals(type))
        .findFirst()
        .orElseThrow();
  }

  /**
   * Every HTTP connection manager, mTLS inbound chains included, has Istio's filter order ({@code
   * buildHTTPConnectionManager}): authn (jwt_authn), authz (RBAC: AUDIT as LOG, DENY, ALLOW), then
   * {@code istio.alpn} (not on a sidecar's inbound), fault and cors (which routes' per-filter
   * configs need), the router last.
   */
  @Test
  void connectionManagersHaveIstiosFilterOrderWithSecurityAndMtls() throws Exception {
    Path tmp = Files.createTempDirectory(dir, "store");
    PushContext ctx =
        PushContext.build(
            1,
            Fixtures.snapshot(
                tmp, "podinfo.yaml", "mtls-destinations.yaml", "mtls-strict.yaml", "authz.yaml"),
            List.of(v1().workload(), v2().workload(), gateway().workload()));
    String jwt = "envoy.filters.http.jwt_authn";
    String rbac = "envoy.filters.http.rbac";
    String fault = "envoy.filters.http.fault";
    String cors = "envoy.filters.http.cors";
    String router = "envoy.filters.http.router";
    String alpn = "istio.alpn"; // outbound and gateway connection managers only
    Listener in = inbound(ctx, v1());
    assertThat(in.getFilterChainsList()).isNotEmpty();
    for (FilterChain chain : in.getFilterChainsList()) {
      assertThat(httpFilterNames(chain))
          .containsExactly(jwt, rbac, rbac, rbac, fault, cors, router);
    }
    List<Message> gatewayListeners = new ListenerGenerator().generate(ctx, gateway());
    assertThat(gatewayListeners).isNotEmpty();
    for (Message m : gatewayListeners) {
      for (FilterChain chain : ((Listener) m).getFilterChainsList()) {
        assertThat(httpFilterNames(chain))
            .containsExactly(jwt, rbac, rbac, alpn, fault, cors, router);
      }
    }
    Listener outbound =
        new ListenerGenerator()
            .generate(ctx, v1()).stream()
                .map(Listener.class::cast)
                .filter(l -> l.getName().endsWith("_15001"))
                .findFirst()
                .orElseThrow();
    assertThat(httpFilterNames(outbound.getFilterChains(0)))
        .containsExactly(alpn, fault, cors, router);
  }

  private static List<String> httpFilterNames(FilterChain chain) throws Exception {
    return chain
        .getFilters(0)
        .getTypedConfig()
        .unpack(
            io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3
                .HttpConnectionManager.class)
        .getHttpFiltersList()
        .stream()
        .map(f -> f.getName())
        .toList();
  }

  private static Listener inbound(PushContext ctx, Proxy proxy) {
    String name = proxy.ip() + "_9898";
    return new ListenerGenerator()
        .generate(ctx, proxy).stream()
            .map(Listener.class::cast)
            .filter(l -> l.getName().equals(name))
            .findFirst()
            .orElseThrow();
  }

  private static Cluster cluster(PushContext ctx, Proxy proxy, String name) {
    return new ClusterGenerator()
        .generate(ctx, proxy).stream()
            .map(Cluster.class::cast)
            .filter(c -> c.getName().equals(name))
            .findFirst()
            .orElseThrow(() -> new AssertionError("no cluster " + name));
  }

  private static UpstreamTlsContext upstream(Cluster c) throws InvalidProtocolBufferException {
    assertThat(c.hasTransportSocket()).as(c.getName() + " transport_socket").isTrue();
    assertThat(c.getTransportSocket().getName()).isEqualTo("envoy.transport_sockets.tls");
    return c.getTransportSocket().getTypedConfig().unpack(UpstreamTlsContext.class);
  }

  private static Map<String, String> tlsModes(PushContext ctx, String cluster) {
    Map<String, String> out = new LinkedHashMap<>();
    for (Message m : new EndpointGenerator().generate(ctx, v1())) {
      ClusterLoadAssignment cla = (ClusterLoadAssignment) m;
      if (!cla.getClusterName().equals(cluster)) {
        continue;
      }
      for (var locality : cla.getEndpointsList()) {
        for (LbEndpoint e : locality.getLbEndpointsList()) {
          var a = e.getEndpoint().getAddress().getSocketAddress();
          Struct s =
              e.getMetadata().getFilterMetadataOrDefault(IstioMtls.TRANSPORT_SOCKET_MATCH, null);
          out.put(
              a.getAddress() + ":" + a.getPortValue(),
              s == null ? "" : s.getFieldsOrThrow("tlsMode").getStringValue());
        }
      }
    }
    return out;
  }

  /**
   * Checks every {@code Any} inside {@code m}, recursively: its type URL names an Envoy (or
   * protobuf) message whose Java class exists, and its bytes parse as that message with no unknown
   * fields. Returns how many it checked.
   */
  static int checkAnys(Message m, String where) throws Exception {
    int n = 0;
    for (Map.Entry<FieldDescriptor, Object> e : m.getAllFields().entrySet()) {
      FieldDescriptor f = e.getKey();
      if (f.getJavaType() != FieldDescriptor.JavaType.MESSAGE) {
        continue;
      }
      List<?> values = f.isRepeated() ? (List<?>) e.getValue() : List.of(e.getValue());
      for (Object v : values) {
        Message child = (Message) v;
        if (f.isMapField()) {
          // A map entry: check its value.
          n += checkAnys(child, where + "." + f.getName());
          continue;
        }
        if (child instanceof Any any) {
          Message unpacked = resolve(any, where + "." + f.getName());
          n += 1 + checkAnys(unpacked, where + "." + f.getName());
        } else {
          n += checkAnys(child, where + "." + f.getName());
        }
      }
    }
    assertThat(m.getUnknownFields().asMap()).as(where + ": unknown fields").isEmpty();
    return n;
  }

  /**
   * Rules Envoy applies when it loads these resources: within a listener no two filter chains have
   * the same match (Envoy rejects the listener), a listener filter or transport socket carries the
   * typed config its name stands for, and transport socket match names are distinct.
   */
  private static void checkEnvoyRules(Message m) throws Exception {
    if (m instanceof Listener l) {
      assertThat(l.getFilterChainsList())
          .extracting(FilterChain::getFilterChainMatch)
          .as(l.getName() + ": filter chain matches")
          .doesNotHaveDuplicates();
      for (var f : l.getListenerFiltersList()) {
        assertThat(f.getName()).isEqualTo(IstioMtls.TLS_INSPECTOR);
        assertThat(f.getTypedConfig().getTypeUrl())
            .isEqualTo(
                "type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector");
      }
      for (FilterChain c : l.getFilterChainsList()) {
        if (c.hasTransportSocket()) {
          assertThat(c.getTransportSocket().getName()).isEqualTo(IstioMtls.TLS_TRANSPORT);
          assertThat(c.getTransportSocket().getTypedConfig().is(DownstreamTlsContext.class))
              .isTrue();
          // A TLS chain only matches connections the TLS inspector saw as TLS.
          assertThat(c.getFilterChainMatch().getTransportProtocol()).isEqualTo("tls");
          assertThat(l.getListenerFiltersCount()).isEqualTo(1);
        }
      }
    }
    if (m instanceof Cluster c) {
      assertThat(c.getTransportSocketMatchesList())
          .extracting(Cluster.TransportSocketMatch::getName)
          .doesNotHaveDuplicates();
      List<io.envoyproxy.envoy.config.core.v3.TransportSocket> sockets = new ArrayList<>();
      if (c.hasTransportSocket()) {
        sockets.add(c.getTransportSocket());
      }
      c.getTransportSocketMatchesList().forEach(t -> sockets.add(t.getTransportSocket()));
      for (var t : sockets) {
        if (t.getName().equals(IstioMtls.TLS_TRANSPORT)) {
          assertThat(t.getTypedConfig().is(UpstreamTlsContext.class)).as(c.getName()).isTrue();
        } else {
          assertThat(t.getName()).isEqualTo(IstioMtls.RAW_BUFFER_TRANSPORT);
          assertThat(
                  t.getTypedConfig()
                      .is(
                          io.envoyproxy.envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer
                              .class))
              .isTrue();
        }
      }
      assertThat(c.hasTransportSocket() && c.getTransportSocketMatchesCount() > 0)
          .as(c.getName() + ": transport_socket or transport_socket_matches, not both")
          .isFalse();
    }
  }

  private static Message resolve(Any any, String where) throws Exception {
    String url = any.getTypeUrl();
    assertThat(url).as(where).startsWith("type.googleapis.com/");
    String fullName = url.substring("type.googleapis.com/".length());
    String javaName =
        fullName.startsWith("envoy.")
            ? "io.envoyproxy." + fullName
            : fullName.startsWith("xds.") || fullName.startsWith("udpa.")
                ? "com.github." + fullName.replaceFirst("^udpa\\.", "udpa.udpa.")
                : "com." + fullName;
    // Nested messages: outer class then $Inner, tried from the right.
    Class<?> type = null;
    String candidate = javaName;
    while (type == null) {
      try {
        type = Class.forName(candidate);
      } catch (ClassNotFoundException e) {
        int dot = candidate.lastIndexOf('.');
        assertThat(dot).as(where + ": no Java type for " + url).isPositive();
        candidate = candidate.substring(0, dot) + "$" + candidate.substring(dot + 1);
      }
    }
    Descriptor d = (Descriptor) type.getMethod("getDescriptor").invoke(null);
    assertThat(d.getFullName()).as(where + ": " + url).isEqualTo(fullName);
    @SuppressWarnings("unchecked")
    Class<? extends Message> mt = (Class<? extends Message>) type;
    Message unpacked = any.unpack(mt);
    assertThat(unpacked.isInitialized()).as(where + ": " + url).isTrue();
    return unpacked;
  }

  static String print(String typeUrl, List<Message> resources) throws Exception {
    DiscoveryResponse.Builder r = DiscoveryResponse.newBuilder().setTypeUrl(typeUrl);
    JsonFormat.TypeRegistry.Builder types = JsonFormat.TypeRegistry.newBuilder();
    for (Message m : resources) {
      r.addResources(Any.pack(m));
      collectTypes(m, types);
    }
    types.add(r.build().getDescriptorForType());
    for (Message m : resources) {
      types.add(m.getDescriptorForType());
    }
    return JsonFormat.printer().usingTypeRegistry(types.build()).print(r) + "\n";
  }

  private static void collectTypes(Message m, JsonFormat.TypeRegistry.Builder types)
      throws Exception {
    for (Map.Entry<FieldDescriptor, Object> e : m.getAllFields().entrySet()) {
      if (e.getKey().getJavaType() != FieldDescriptor.JavaType.MESSAGE) {
        continue;
      }
      List<?> values = e.getKey().isRepeated() ? (List<?>) e.getValue() : List.of(e.getValue());
      for (Object v : values) {
        Message child = (Message) v;
        if (child instanceof Any any) {
          Message unpacked = resolve(any, "print");
          types.add(unpacked.getDescriptorForType());
          collectTypes(unpacked, types);
        } else {
          collectTypes(child, types);
        }
      }
    }
  }
}
