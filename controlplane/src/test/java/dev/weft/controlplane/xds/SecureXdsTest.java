package dev.weft.controlplane.xds;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.controlplane.ControlPlane;
import dev.weft.controlplane.Fixtures;
import dev.weft.controlplane.LogCapture;
import dev.weft.controlplane.ca.CertificateAuthority;
import dev.weft.controlplane.ca.MutableClock;
import dev.weft.xds.TypeUrls;
import dev.weft.xds.identity.IstioCertificateService;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import java.io.ByteArrayInputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.ExtensionsGenerator;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;
import org.bouncycastle.util.io.pem.PemObject;
import org.bouncycastle.util.io.pem.PemWriter;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The secure xDS port end to end on a real control plane: TLS, token authentication, the CA
 * service, and every refusal answered with a reason that is also in the control plane's log, with
 * nothing else disturbed (a legitimate proxy stays connected and registered).
 */
class SecureXdsTest {
  @TempDir Path dir;
  MutableClock clock;
  ControlPlane cp;
  LogCapture log;
  final List<AutoCloseable> closeables = new ArrayList<>();

  @BeforeEach
  void start() throws Exception {
    log = new LogCapture("dev.weft.controlplane");
    clock = new MutableClock(Instant.now());
    cp = Fixtures.startWithPodinfo(Fixtures.controlPlane(dir).clock(clock));
  }

  @AfterEach
  void stop() throws Exception {
    for (AutoCloseable c : closeables) {
      c.close();
    }
    cp.close();
    log.close();
  }

  private String token(String ns, String sa, String name) {
    return cp.issueWorkloadToken(ns, sa, name, Duration.ofMinutes(5)).token();
  }

  private AdsClient ads(io.envoyproxy.envoy.config.core.v3.Node node, String token) {
    AdsClient c = new AdsClient(cp.xdsAddress(), node, cp.ca().rootPem(), token);
    closeables.add(c);
    return c;
  }

  /** A legitimate v1 sidecar (demo/podinfo-v1, service account default), connected. */
  private AdsClient legitimate() throws Exception {
    AdsClient v1 = ads(Fixtures.v1Node(), token("demo", "default", "podinfo-v1"));
    v1.request(TypeUrls.CLUSTER, List.of(), "", "");
    assertThat(v1.next().getTypeUrl()).isEqualTo(TypeUrls.CLUSTER);
    await(() -> cp.proxies().stream().anyMatch(p -> p.connected()));
    return v1;
  }

  private static Status refusal(AdsClient c) throws Exception {
    c.request(TypeUrls.CLUSTER, List.of(), "", "");
    return Status.fromThrowable(c.closed.get(30, TimeUnit.SECONDS));
  }

  private void assertUndisturbed(AdsClient v1) {
    assertThat(v1.closed).isNotDone();
    assertThat(cp.proxies())
        .singleElement()
        .satisfies(
            p -> {
              assertThat(p.id()).isEqualTo(Fixtures.V1_ID);
              assertThat(p.connected()).isTrue();
            });
  }

  @Test
  void aStreamWithoutCredentialIsRefusedAndLogged() throws Exception {
    AdsClient v1 = legitimate();
    Status s = refusal(ads(Fixtures.v2Node(), null));
    assertThat(s.getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
    assertThat(s.getDescription()).contains("no credential");
    await(
        () ->
            log.contains(
                "refused envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources from /127.0.0.1:"));
    assertUndisturbed(v1);
  }

  @Test
  void aTokenForAnotherWorkloadCannotRegisterThatNode() throws Exception {
    AdsClient v1 = legitimate();
    // A stolen v1 token used by a node that says it is v2: refused before it registers.
    Status s = refusal(ads(Fixtures.v2Node(), token("demo", "default", "podinfo-v1")));
    assertThat(s.getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
    assertThat(s.getDescription())
        .contains(
            "it claims name podinfo-v2 but its credential is for demo/podinfo-v1 (service account"
                + " default)");
    await(() -> log.contains("closing xDS stream") && log.contains("claims name podinfo-v2"));
    // Another namespace or service account is refused the same way.
    Status ns = refusal(ads(Fixtures.gatewayNode(), token("demo", "default", "podinfo-v1")));
    assertThat(ns.getDescription()).contains("claims namespace istio-system");
    assertUndisturbed(v1);
  }

  @Test
  void aStolenButExpiredTokenIsRefused() throws Exception {
    String stolen = token("demo", "default", "podinfo-v2");
    AdsClient v1 = legitimate();
    clock.advance(Duration.ofMinutes(6));
    Status s = refusal(ads(Fixtures.v2Node(), stolen));
    assertThat(s.getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
    assertThat(s.getDescription()).contains("expired at");
    await(() -> log.contains("expired at"));
    assertThat(String.join("\n", log.messages())).doesNotContain(stolen);
    assertUndisturbed(v1);
  }

  @Test
  void aTokenFromAnotherControlPlaneIsRefused() throws Exception {
    AdsClient v1 = legitimate();
    try (ControlPlane other =
        ControlPlane.builder()
            .stateDir(dir.resolve("other"))
            .xdsAddress(new InetSocketAddress("127.0.0.1", 0))
            .apiAddress(new InetSocketAddress("127.0.0.1", 0))
            .build()) {
      other.start();
      String forged =
          other.issueWorkloadToken("demo", "default", "podinfo-v2", Duration.ofHours(1)).token();
      Status s = refusal(ads(Fixtures.v2Node(), forged));
      assertThat(s.getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
      assertThat(s.getDescription()).contains("signature does not verify");
    }
    assertUndisturbed(v1);
  }

  // ------------------------------------------------------------------ CA service

  private IstioCertificateService.Response createCertificate(String token, String csr)
      throws Exception {
    ManagedChannel ch = AdsClient.channel(cp.xdsAddress(), cp.ca().rootPem());
    try {
      return ClientCalls.blockingUnaryCall(
          ch,
          IstioCertificateService.CREATE_CERTIFICATE,
          CallOptions.DEFAULT.withCallCredentials(AdsClient.bearer(token)),
          new IstioCertificateService.Request(csr, 0, null));
    } finally {
      ch.shutdownNow();
      ch.awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  static String csr(KeyPair key, String... uris) throws Exception {
    JcaPKCS10CertificationRequestBuilder b =
        new JcaPKCS10CertificationRequestBuilder(
            new javax.security.auth.x500.X500Principal(""), key.getPublic());
    if (uris.length > 0) {
      GeneralName[] names = new GeneralName[uris.length];
      for (int i = 0; i < uris.length; i++) {
        names[i] = new GeneralName(GeneralName.uniformResourceIdentifier, uris[i]);
      }
      ExtensionsGenerator ext = new ExtensionsGenerator();
      ext.addExtension(Extension.subjectAlternativeName, true, new GeneralNames(names));
      b.addAttribute(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest, ext.generate());
    }
    java.io.StringWriter out = new java.io.StringWriter();
    try (PemWriter w = new PemWriter(out)) {
      w.writeObject(
          new PemObject(
              "CERTIFICATE REQUEST",
              b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(key.getPrivate()))
                  .getEncoded()));
    }
    return out.toString();
  }

  @Test
  void theCaSignsForTheCallersIdentityAndOpensslVerifiesTheChain() throws Exception {
    KeyPair key = CertificateAuthority.newP256KeyPair();
    IstioCertificateService.Response r =
        createCertificate(token("demo", "podinfo", "podinfo-v1"), csr(key));
    assertThat(r.certChain()).hasSize(2);
    X509Certificate leaf =
        (X509Certificate)
            CertificateFactory.getInstance("X.509")
                .generateCertificate(
                    new ByteArrayInputStream(
                        r.certChain().get(0).getBytes(StandardCharsets.US_ASCII)));
    assertThat(leaf.getSubjectAlternativeNames())
        .containsExactly(List.of(6, "spiffe://cluster.local/ns/demo/sa/podinfo"));
    assertThat(leaf.getPublicKey()).isEqualTo(key.getPublic());
    Files.writeString(dir.resolve("leaf.pem"), r.certChain().get(0));
    Path root = dir.resolve("ca").resolve(CertificateAuthority.ROOT_CERT);
    assertThat(r.certChain().get(1)).isEqualTo(Files.readString(root));
    Process p =
        new ProcessBuilder(
                "openssl", "verify", "-CAfile", root.toString(), dir.resolve("leaf.pem").toString())
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(out).contains(": OK");
    assertThat(p.exitValue()).isZero();
    await(() -> log.contains("issued a certificate for spiffe://cluster.local/ns/demo/sa/podinfo"));
  }

  @Test
  void theCaRefusesACsrForAnotherIdentityAndCallsWithoutCredential() throws Exception {
    KeyPair key = CertificateAuthority.newP256KeyPair();
    String token = token("demo", "podinfo", "podinfo-v1");
    StatusRuntimeException e =
        org.junit.jupiter.api.Assertions.assertThrows(
            StatusRuntimeException.class,
            () ->
                createCertificate(
                    token, csr(key, "spiffe://cluster.local/ns/istio-system/sa/istiod")));
    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(e.getStatus().getDescription())
        .contains("asks for identity spiffe://cluster.local/ns/istio-system/sa/istiod");
    await(() -> log.contains("refused a certificate for demo/podinfo-v1"));

    StatusRuntimeException none =
        org.junit.jupiter.api.Assertions.assertThrows(
            StatusRuntimeException.class, () -> createCertificate(null, csr(key)));
    assertThat(none.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
    await(() -> log.contains("refused istio.v1.auth.IstioCertificateService/CreateCertificate"));
    // The CA still serves the honest request after the refusals.
    assertThat(createCertificate(token, csr(key)).certChain()).hasSize(2);
  }

  @Test
  void theServerCertificateIsTheControlPlanesAndNotTrustedByAStranger() throws Exception {
    // A client that trusts another CA's root refuses the control plane (a forged server).
    Path otherDir = dir.resolve("other-ca");
    CertificateAuthority other =
        CertificateAuthority.loadOrCreate(otherDir, CertificateAuthority.Options.defaults());
    AdsClient c =
        new AdsClient(
            cp.xdsAddress(),
            Fixtures.v1Node(),
            other.rootPem(),
            token("demo", "default", "podinfo-v1"));
    closeables.add(c);
    Status s = refusal(c);
    assertThat(s.getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(cp.proxies()).isEmpty();
  }

  // 30 s, the tests' deadline for a condition: each waits on TLS handshakes and a certificate
  // signing, which a busy machine can hold for seconds.
  static void await(BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!condition.getAsBoolean()) {
      assertThat(System.nanoTime() < deadline).as("condition within 30 s").isTrue();
      Thread.sleep(10);
    }
  }
}
