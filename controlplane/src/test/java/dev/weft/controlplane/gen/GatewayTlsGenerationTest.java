package dev.weft.controlplane.gen;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Message;
import dev.weft.api.Resource;
import dev.weft.api.ResourceKind;
import dev.weft.controlplane.Fixtures;
import dev.weft.controlplane.push.ConfigsUpdated;
import dev.weft.controlplane.push.PushContext;
import dev.weft.controlplane.store.ConfigStore;
import dev.weft.xds.TypeUrls;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsParameters;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.Set;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Gateway TLS as Istio generates it: SIMPLE and MUTUAL servers with {@code credentialName} (one
 * chain per server by SNI, SDS {@code kubernetes://...}), PASSTHROUGH {@code tls} routes, {@code
 * httpsRedirect}, the SDS secrets a gateway is served, sidecar outbound {@code tls} routes, and the
 * Secret checks an apply runs.
 */
class GatewayTlsGenerationTest {
  @TempDir Path dir;

  private static KeyPair keyA;
  private static KeyPair keyB;
  private static String certA;
  private static String certB;
  private static String ca;

  @BeforeAll
  static void pki() throws Exception {
    keyA = ec();
    keyB = ec();
    KeyPair caKey = ec();
    certA = pem(cert("CN=a.example.com", keyA, caKey));
    certB = pem(cert("CN=b.example.com", keyB, caKey));
    ca = pem(cert("CN=Test CA", caKey, caKey));
  }

  private static KeyPair ec() throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp256r1"));
    return g.generateKeyPair();
  }

  private static X509Certificate cert(String subject, KeyPair key, KeyPair issuer)
      throws Exception {
    Instant now = Instant.now();
    return new JcaX509CertificateConverter()
        .getCertificate(
            new JcaX509v3CertificateBuilder(
                    new X500Name(issuer == key ? subject : "CN=Test CA"),
                    BigInteger.valueOf(System.nanoTime()),
                    Date.from(now.minusSeconds(60)),
                    Date.from(now.plusSeconds(86400)),
                    new X500Name(subject),
                    key.getPublic())
                .build(new JcaContentSignerBuilder("SHA256withECDSA").build(issuer.getPrivate())));
  }

  private static String pem(Object o) throws Exception {
    java.io.StringWriter w = new java.io.StringWriter();
    try (JcaPEMWriter p = new JcaPEMWriter(w)) {
      p.writeObject(o);
    }
    return w.toString();
  }

  /** A SEC1 ("BEGIN EC PRIVATE KEY") PEM with its curve, as {@code openssl ecparam} writes it. */
  private static String sec1(KeyPair k) throws Exception {
    org.bouncycastle.asn1.pkcs.PrivateKeyInfo info =
        org.bouncycastle.asn1.pkcs.PrivateKeyInfo.getInstance(k.getPrivate().getEncoded());
    org.bouncycastle.asn1.sec.ECPrivateKey inner =
        org.bouncycastle.asn1.sec.ECPrivateKey.getInstance(info.parsePrivateKey());
    org.bouncycastle.asn1.sec.ECPrivateKey sec1 =
        new org.bouncycastle.asn1.sec.ECPrivateKey(
            256,
            inner.getKey(),
            inner.getPublicKey(),
            info.getPrivateKeyAlgorithm().getParameters());
    return CredentialSecrets.pem("EC PRIVATE KEY", sec1.getEncoded());
  }

  private static String pkcs8(KeyPair k) {
    return CredentialSecrets.pem("PRIVATE KEY", k.getPrivate().getEncoded());
  }

  private static String b64(String s) {
    return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }

  private static String indent(String pem) {
    return pem.strip().replace("\n", "\n      ");
  }

  private String yaml() throws Exception {
    return Fixtures.text("podinfo.yaml")
        + """
        ---
        apiVersion: v1
        kind: Secret
        metadata: {name: a-cred, namespace: istio-system}
        type: kubernetes.io/tls
        data:
          tls.crt: %s
          tls.key: %s
        ---
        apiVersion: v1
        kind: Secret
        metadata: {name: b-cred, namespace: istio-system}
        stringData:
          cert: |
              %s
          key: |
              %s
        ---
        apiVersion: v1
        kind: Secret
        metadata: {name: b-cred-cacert, namespace: istio-system}
        stringData:
          cacert: |
              %s
        ---
        apiVersion: v1
        kind: Secret
        metadata: {name: elsewhere, namespace: demo}
        type: kubernetes.io/tls
        data:
          tls.crt: %s
          tls.key: %s
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: tlsapp, namespace: demo}
        spec:
          selector: {app: tlsapp}
          ports:
          - {name: tls, port: 9443, targetPort: 9443}
        ---
        apiVersion: networking.istio.io/v1
        kind: Gateway
        metadata: {name: tls-gw, namespace: demo}
        spec:
          selector: {istio: ingressgateway}
          servers:
          - port: {number: 443, name: https-a, protocol: HTTPS}
            hosts: [a.example.com]
            tls: {mode: SIMPLE, credentialName: a-cred, minProtocolVersion: TLSV1_3}
          - port: {number: 443, name: https-b, protocol: HTTPS}
            hosts: ["demo/b.example.com"]
            tls:
              mode: MUTUAL
              credentialName: b-cred
              subjectAltNames: [client.example.com]
              cipherSuites: [ECDHE-ECDSA-AES128-GCM-SHA256, NOT-A-CIPHER]
          - port: {number: 443, name: tls-c, protocol: TLS}
            hosts: ["*.example.org"]
            tls: {mode: PASSTHROUGH}
          - port: {number: 80, name: http-redirect, protocol: HTTP}
            hosts: [a.example.com]
            tls: {httpsRedirect: true}
        ---
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: web, namespace: demo}
        spec:
          hosts: [a.example.com, b.example.com]
          gateways: [tls-gw]
          http:
          - route: [{destination: {host: podinfo, port: {number: 80}}}]
        ---
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: passthrough, namespace: demo}
        spec:
          hosts: ["*.example.org"]
          gateways: [tls-gw, mesh]
          tls:
          - match: [{sniHosts: [c.example.org], gateways: [tls-gw]}]
            route:
            - {destination: {host: tlsapp, port: {number: 9443}}, weight: 80}
            - {destination: {host: podinfo, port: {number: 80}}, weight: 20}
        ---
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: tlsapp, namespace: demo}
        spec:
          hosts: [tlsapp]
          tls:
          - match: [{sniHosts: [tlsapp.example.com]}]
            route: [{destination: {host: podinfo, port: {number: 80}}}]
        """
            .formatted(
                b64(certA),
                b64(pkcs8(keyA)),
                indent(certB),
                indent(sec1(keyB)),
                indent(ca),
                b64(certA),
                b64(pkcs8(keyA)));
  }

  private PushContext context() throws Exception {
    List<Resource> resources = Fixtures.parse("gateway-tls.yaml", yaml());
    for (Resource r : resources) {
      assertThat(CredentialSecrets.check(r)).as(r.key().toString()).isEmpty();
    }
    ConfigStore store = ConfigStore.open(dir, Fixtures.CLOCK);
    assertThat(store.apply("gateway-tls.yaml", resources).errors()).isEmpty();
    return PushContext.build(
        1,
        store.snapshot(),
        List.of(Fixtures.v1().workload(), Fixtures.v2().workload(), Fixtures.gateway().workload()));
  }

  private static Listener listener(List<Message> listeners, String name) {
    return listeners.stream()
        .map(Listener.class::cast)
        .filter(l -> l.getName().equals(name))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no listener " + name + " in " + listeners));
  }

  @Test
  void httpsServersGetOneChainEachBySniWithTheirSdsCertificate() throws Exception {
    PushContext ctx = context();
    Listener l =
        listener(new ListenerGenerator().generate(ctx, Fixtures.gateway()), "127.0.0.1_8443");
    assertThat(l.getListenerFiltersList())
        .extracting(f -> f.getName())
        .containsExactly("envoy.filters.listener.tls_inspector");
    assertThat(l.getFilterChainsList()).hasSize(3);

    FilterChain a = l.getFilterChains(0);
    assertThat(a.getFilterChainMatch().getServerNamesList()).containsExactly("a.example.com");
    DownstreamTlsContext ta =
        a.getTransportSocket().getTypedConfig().unpack(DownstreamTlsContext.class);
    assertThat(ta.getCommonTlsContext().getTlsCertificateSdsSecretConfigs(0).getName())
        .isEqualTo("kubernetes://a-cred");
    assertThat(
            ta.getCommonTlsContext().getTlsCertificateSdsSecretConfigs(0).getSdsConfig().hasAds())
        .isTrue();
    assertThat(ta.hasRequireClientCertificate()).isFalse();
    assertThat(ta.getCommonTlsContext().hasCombinedValidationContext()).isFalse();
    assertThat(ta.getCommonTlsContext().getTlsParams().getTlsMinimumProtocolVersion())
        .isEqualTo(TlsParameters.TlsProtocol.TLSv1_3);
    assertThat(a.getFilters(0).getName()).isEqualTo(EnvoyConfig.HTTP_CONNECTION_MANAGER);
    var hcm =
        a.getFilters(0)
            .getTypedConfig()
            .unpack(
                io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3
                    .HttpConnectionManager.class);
    assertThat(hcm.getRds().getRouteConfigName()).isEqualTo("https.443.https-a.tls-gw.demo");

    FilterChain b = l.getFilterChains(1);
    assertThat(b.getFilterChainMatch().getServerNamesList()).containsExactly("b.example.com");
    DownstreamTlsContext tb =
        b.getTransportSocket().getTypedConfig().unpack(DownstreamTlsContext.class);
    assertThat(tb.getRequireClientCertificate().getValue()).isTrue();
    var cv = tb.getCommonTlsContext().getCombinedValidationContext();
    assertThat(cv.getValidationContextSdsSecretConfig().getName())
        .isEqualTo("kubernetes://b-cred-cacert");
    assertThat(cv.getDefaultValidationContext().getMatchSubjectAltNames(0).getExact())
        .isEqualTo("client.example.com");
    assertThat(tb.getCommonTlsContext().getTlsParams().getCipherSuitesList())
        .containsExactly("ECDHE-ECDSA-AES128-GCM-SHA256");

    // PASSTHROUGH: the tls route's SNI host within the server's *.example.org, weighted, no TLS.
    FilterChain c = l.getFilterChains(2);
    assertThat(c.getFilterChainMatch().getServerNamesList()).containsExactly("c.example.org");
    assertThat(c.hasTransportSocket()).isFalse();
    TcpProxy tcp = c.getFilters(0).getTypedConfig().unpack(TcpProxy.class);
    assertThat(tcp.getWeightedClusters().getClustersList())
        .extracting(w -> w.getName() + "=" + w.getWeight())
        .containsExactly(
            "outbound|9443||tlsapp.demo.svc.cluster.local=80",
            "outbound|80||podinfo.demo.svc.cluster.local=20");
  }

  @Test
  void eachHttpsServerRoutesItsOwnHostsAndHttpsRedirectRequiresTls() throws Exception {
    PushContext ctx = context();
    List<RouteConfiguration> routes =
        new RouteGenerator()
            .generate(ctx, Fixtures.gateway()).stream()
                .map(RouteConfiguration.class::cast)
                .toList();
    RouteConfiguration a =
        routes.stream()
            .filter(r -> r.getName().equals("https.443.https-a.tls-gw.demo"))
            .findFirst()
            .orElseThrow();
    assertThat(a.getVirtualHostsList())
        .extracting(VirtualHost::getName)
        .containsExactly("a.example.com:443");
    RouteConfiguration b =
        routes.stream()
            .filter(r -> r.getName().equals("https.443.https-b.tls-gw.demo"))
            .findFirst()
            .orElseThrow();
    assertThat(b.getVirtualHostsList())
        .extracting(VirtualHost::getName)
        .containsExactly("b.example.com:443");
    RouteConfiguration http =
        routes.stream().filter(r -> r.getName().equals("http.8080")).findFirst().orElseThrow();
    VirtualHost redirect =
        http.getVirtualHostsList().stream()
            .filter(v -> v.getName().equals("a.example.com:80"))
            .findFirst()
            .orElseThrow();
    assertThat(redirect.getRequireTls()).isEqualTo(VirtualHost.TlsRequirementType.ALL);
  }

  @Test
  void theGatewayIsServedItsNamespacesCredentialsAsPkcs8AndSidecarsNone() throws Exception {
    PushContext ctx = context();
    List<Secret> secrets =
        new SecretGenerator()
            .generate(ctx, Fixtures.gateway()).stream().map(Secret.class::cast).toList();
    assertThat(secrets)
        .extracting(Secret::getName)
        .containsExactlyInAnyOrder(
            "kubernetes://a-cred",
            "kubernetes://b-cred",
            "kubernetes://b-cred-cacert",
            "kubernetes://b-cred-cacert-cacert");
    Secret b =
        secrets.stream().filter(s -> s.getName().equals("kubernetes://b-cred")).findFirst().get();
    String key = b.getTlsCertificate().getPrivateKey().getInlineBytes().toStringUtf8();
    assertThat(key).startsWith("-----BEGIN PRIVATE KEY-----"); // SEC1 converted to PKCS#8
    assertThat(b.getTlsCertificate().getCertificateChain().getInlineBytes().toStringUtf8())
        .isEqualTo(certB);
    Secret cacert =
        secrets.stream()
            .filter(s -> s.getName().equals("kubernetes://b-cred-cacert"))
            .findFirst()
            .get();
    assertThat(cacert.getValidationContext().getTrustedCa().getInlineBytes().toStringUtf8())
        .isEqualTo(ca);
    assertThat(new SecretGenerator().generate(ctx, Fixtures.v1())).isEmpty();
  }

  @Test
  void sidecarTlsPortsRouteBySniThenToTheService() throws Exception {
    PushContext ctx = context();
    Listener l = listener(new ListenerGenerator().generate(ctx, Fixtures.v1()), "127.0.1.2_9443");
    assertThat(l.getListenerFiltersList())
        .extracting(f -> f.getName())
        .containsExactly("envoy.filters.listener.tls_inspector");
    assertThat(l.getFilterChainsList()).hasSize(2);
    assertThat(l.getFilterChains(0).getFilterChainMatch().getServerNamesList())
        .containsExactly("tlsapp.example.com");
    assertThat(
            l.getFilterChains(0).getFilters(0).getTypedConfig().unpack(TcpProxy.class).getCluster())
        .isEqualTo("outbound|80||podinfo.demo.svc.cluster.local");
    assertThat(l.getFilterChains(1).getFilterChainMatch().getServerNamesList()).isEmpty();
    assertThat(
            l.getFilterChains(1).getFilters(0).getTypedConfig().unpack(TcpProxy.class).getCluster())
        .isEqualTo("outbound|9443||tlsapp.demo.svc.cluster.local");
  }

  @Test
  void aSecretChangeRegeneratesSdsOnly() {
    ConfigsUpdated secrets = new ConfigsUpdated(false, Set.of(ResourceKind.SECRET), false, false);
    assertThat(secrets.affects(TypeUrls.SECRET)).isTrue();
    for (String t :
        List.of(TypeUrls.CLUSTER, TypeUrls.ENDPOINT, TypeUrls.LISTENER, TypeUrls.ROUTE)) {
      assertThat(secrets.affects(t)).as(t).isFalse();
    }
    ConfigsUpdated gateways = new ConfigsUpdated(false, Set.of(ResourceKind.GATEWAY), false, false);
    assertThat(gateways.affects(TypeUrls.SECRET)).isFalse();
    assertThat(gateways.affects(TypeUrls.LISTENER)).isTrue();
  }

  private static Resource secret(String data) {
    return Fixtures.parse(
            "s.yaml",
            """
            apiVersion: v1
            kind: Secret
            metadata: {name: bad, namespace: istio-system}
            """
                + data)
        .get(0);
  }

  @Test
  void unusableSecretsAreRefusedNamingTheField() throws Exception {
    var badPem =
        CredentialSecrets.check(
            secret(
                "type: kubernetes.io/tls\nstringData:\n  tls.crt: not a certificate\n  tls.key: |\n    "
                    + indentKey(pkcs8(keyA))));
    assertThat(badPem).hasSize(1);
    assertThat(badPem.get(0).field()).isEqualTo("data.tls.crt");
    assertThat(badPem.get(0).getMessage()).contains("PEM certificate");

    var mismatch =
        CredentialSecrets.check(
            secret(
                "type: kubernetes.io/tls\nstringData:\n  tls.crt: |\n    "
                    + indentKey(certA)
                    + "\n  tls.key: |\n    "
                    + indentKey(pkcs8(keyB))));
    assertThat(mismatch).hasSize(1);
    assertThat(mismatch.get(0).field()).isEqualTo("data.tls.key");
    assertThat(mismatch.get(0).getMessage()).contains("does not match the certificate");
    // never the key's content
    assertThat(mismatch.get(0).getMessage()).doesNotContain("PRIVATE KEY-----");

    var noKey = CredentialSecrets.check(secret("stringData:\n  cert: |\n    " + indentKey(certA)));
    assertThat(noKey)
        .extracting(CredentialSecrets.InvalidSecretException::field)
        .containsExactly("data.key");

    var badCa = CredentialSecrets.check(secret("stringData:\n  ca.crt: nope"));
    assertThat(badCa)
        .extracting(CredentialSecrets.InvalidSecretException::field)
        .containsExactly("data.ca.crt");

    assertThat(CredentialSecrets.check(secret("stringData:\n  password: hunter2"))).isEmpty();
  }

  private static String indentKey(String pem) {
    return pem.strip().replace("\n", "\n    ");
  }
}
