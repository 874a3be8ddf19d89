package dev.weft.controlplane.ca;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.weft.xds.identity.SpiffeId;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.bouncycastle.asn1.x509.GeneralName;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class CertificateAuthorityTest {
  static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
  static final SpiffeId CALLER = SpiffeId.of("demo", "podinfo");

  @TempDir Path dir;
  MutableClock clock;
  CertificateAuthority ca;
  KeyPair key;

  @BeforeEach
  void setUp() throws Exception {
    clock = new MutableClock(T0);
    ca = CertificateAuthority.loadOrCreate(dir.resolve("ca"), options());
    key = CertificateAuthority.newP256KeyPair();
  }

  CertificateAuthority.Options options() {
    return CertificateAuthority.Options.defaults().withClock(clock);
  }

  static List<X509Certificate> parse(List<String> pems) throws Exception {
    List<X509Certificate> out = new ArrayList<>();
    for (String p : pems) {
      out.addAll(Pem.certificates(p, "test"));
    }
    return out;
  }

  static List<String> uris(X509Certificate c) throws Exception {
    List<String> out = new ArrayList<>();
    for (List<?> san : c.getSubjectAlternativeNames()) {
      out.add(san.get(0) + ":" + san.get(1));
    }
    return out;
  }

  @Test
  void selfSignedRootIsWrittenWithPrivateModesAndReloaded() throws Exception {
    Path caDir = dir.resolve("ca");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(caDir)))
        .isEqualTo("rwx------");
    assertThat(
            PosixFilePermissions.toString(
                Files.getPosixFilePermissions(caDir.resolve(CertificateAuthority.CA_KEY))))
        .isEqualTo("rw-------");
    assertThat(ca.selfSigned()).isTrue();
    assertThat(ca.root().getBasicConstraints()).isGreaterThanOrEqualTo(0);
    assertThat(ca.root().getSubjectX500Principal().getName()).isEqualTo("O=cluster.local");
    // A restart loads the same root rather than making a new one.
    CertificateAuthority again = CertificateAuthority.loadOrCreate(caDir, options());
    assertThat(again.root()).isEqualTo(ca.root());
  }

  @Test
  void identityComesFromTheCallerAndTheCertificateHasIstiosShape() throws Exception {
    List<X509Certificate> chain = parse(ca.sign(TestPki.csr(key), CALLER, Duration.ZERO));
    assertThat(chain).hasSize(2);
    X509Certificate leaf = chain.get(0);
    assertThat(chain.get(1)).isEqualTo(ca.root()); // root last
    assertThat(uris(leaf)).containsExactly("6:spiffe://cluster.local/ns/demo/sa/podinfo");
    assertThat(leaf.getCriticalExtensionOIDs()).contains("2.5.29.17"); // SAN, empty subject
    assertThat(leaf.getSubjectX500Principal().getName()).isEmpty();
    assertThat(leaf.getPublicKey()).isEqualTo(key.getPublic());
    assertThat(leaf.getBasicConstraints()).isEqualTo(-1);
    boolean[] usage = leaf.getKeyUsage();
    assertThat(usage[0]).as("digitalSignature").isTrue();
    assertThat(usage[2]).as("keyEncipherment").isTrue();
    assertThat(usage[5]).as("keyCertSign").isFalse();
    assertThat(leaf.getExtendedKeyUsage())
        .containsExactly("1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2");
    leaf.verify(ca.root().getPublicKey());
    // Expiry: the default 24 h from the (fake) clock.
    assertThat(leaf.getNotBefore().toInstant()).isEqualTo(T0);
    assertThat(leaf.getNotAfter().toInstant()).isEqualTo(T0.plus(Duration.ofHours(24)));
  }

  @Test
  void aCsrNamingTheCallersOwnIdentityIsAccepted() throws Exception {
    List<X509Certificate> chain =
        parse(ca.sign(TestPki.csr(key, TestPki.uri(CALLER.uri())), CALLER, Duration.ofHours(1)));
    assertThat(uris(chain.get(0))).containsExactly("6:" + CALLER.uri());
    assertThat(chain.get(0).getNotAfter().toInstant()).isEqualTo(T0.plus(Duration.ofHours(1)));
  }

  static Stream<Arguments> refused() throws Exception {
    KeyPair k = CertificateAuthority.newP256KeyPair();
    KeyPair other = CertificateAuthority.newP256KeyPair();
    return Stream.of(
        Arguments.of(
            "another identity",
            TestPki.csr(k, TestPki.uri("spiffe://cluster.local/ns/istio-system/sa/istiod")),
            Duration.ZERO,
            "asks for identity spiffe://cluster.local/ns/istio-system/sa/istiod but the caller is"
                + " spiffe://cluster.local/ns/demo/sa/podinfo"),
        Arguments.of(
            "a DNS name",
            TestPki.csr(k, new GeneralName(GeneralName.dNSName, "evil.example.com")),
            Duration.ZERO,
            "a SAN other than the caller's SPIFFE id"),
        Arguments.of(
            "no proof of possession",
            TestPki.csr(k, other.getPrivate()),
            Duration.ZERO,
            "signature does not verify (no proof of possession)"),
        Arguments.of("no CSR", "", Duration.ZERO, "the request has no CSR"),
        Arguments.of(
            "not PEM", "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n", Duration.ZERO, "malformed"),
        Arguments.of(
            "a certificate instead of a CSR",
            Pem.encode(
                TestPki.caCert(
                    "CN=x", k.getPublic(), "CN=x", k.getPrivate(), T0, T0.plusSeconds(60))),
            Duration.ZERO,
            "not a PEM \"CERTIFICATE REQUEST\""),
        Arguments.of(
            "a weak RSA key", TestPki.csr(TestPki.rsa(1024)), Duration.ZERO, "at least 2048"),
        Arguments.of(
            "a TTL over the maximum",
            TestPki.csr(k),
            Duration.ofDays(91),
            "is greater than the max allowed TTL"),
        Arguments.of("a negative TTL", TestPki.csr(k), Duration.ofSeconds(-1), "negative"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource
  void refused(String what, String csr, Duration ttl, String reason) {
    assertThatThrownBy(() -> ca.sign(csr, CALLER, ttl))
        .isInstanceOf(CaException.class)
        .hasMessageContaining(reason);
  }

  @Test
  void aCallerFromAnotherTrustDomainIsRefused() throws Exception {
    String csr = TestPki.csr(key);
    assertThatThrownBy(() -> ca.sign(csr, new SpiffeId("other.domain", "demo", "x"), null))
        .hasMessageContaining("not in this CA's trust domain cluster.local");
  }

  @Test
  void pluginCertificatesSignWithTheIntermediateAndOpensslVerifiesTheChain() throws Exception {
    Path plugin = dir.resolve("plugin");
    TestPki.pluginCa(plugin, T0);
    Path caDir = dir.resolve("state-ca");
    CertificateAuthority.importPlugin(plugin, caDir, options());
    assertThat(
            PosixFilePermissions.toString(
                Files.getPosixFilePermissions(caDir.resolve(CertificateAuthority.CA_KEY))))
        .isEqualTo("rw-------");
    // loadOrCreate must not replace plug-in material with a self-signed root.
    CertificateAuthority plug = CertificateAuthority.loadOrCreate(caDir, options());
    assertThat(plug.selfSigned()).isFalse();
    clock = new MutableClock(Instant.now());
    plug = CertificateAuthority.load(caDir, options());
    List<String> chain = plug.sign(TestPki.csr(key), CALLER, Duration.ZERO);
    List<X509Certificate> certs = parse(chain);
    assertThat(certs).hasSize(3);
    assertThat(certs.get(1).getSubjectX500Principal().getName())
        .isEqualTo("CN=Intermediate CA,O=Operator");
    assertThat(certs.get(2).getSubjectX500Principal().getName()).isEqualTo("CN=Root CA,O=Operator");
    Files.writeString(dir.resolve("leaf.pem"), chain.get(0));
    Files.writeString(dir.resolve("inter.pem"), chain.get(1));
    String out =
        openssl(
            "verify",
            "-CAfile",
            caDir.resolve("root-cert.pem").toString(),
            "-untrusted",
            dir.resolve("inter.pem").toString(),
            dir.resolve("leaf.pem").toString());
    assertThat(out).contains(": OK");
  }

  static Stream<Arguments> badPlugins() {
    return Stream.of(
        Arguments.of("ca-key.pem", "ca-key.pem does not match the public key of ca-cert.pem"),
        Arguments.of("root-cert.pem", "the CA chain does not verify"),
        Arguments.of("ca-cert.pem", "not a CA certificate"));
  }

  @ParameterizedTest(name = "a bad {0}")
  @MethodSource
  void badPlugins(String file, String reason) throws Exception {
    Path plugin = dir.resolve("plugin");
    TestPki.pluginCa(plugin, T0);
    Path other = dir.resolve("other");
    TestPki.pluginCa(other, T0);
    switch (file) {
      case "ca-key.pem", "root-cert.pem" ->
          Files.copy(
              other.resolve(file),
              plugin.resolve(file),
              java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      default -> {
        // A leaf (not a CA) with the right key: a CA certificate is required.
        KeyPair k = CertificateAuthority.newP256KeyPair();
        X509Certificate leaf = ca.issueServing(List.of("x"), Duration.ofHours(1)).leaf();
        Files.writeString(plugin.resolve(file), Pem.encode(leaf));
        Files.writeString(plugin.resolve("ca-key.pem"), Pem.encode(k.getPrivate()));
      }
    }
    Path caDir = dir.resolve("state-ca");
    assertThatThrownBy(() -> CertificateAuthority.importPlugin(plugin, caDir, options()))
        .isInstanceOf(CaException.class)
        .hasMessageContaining(reason);
    assertThat(caDir).doesNotExist(); // nothing half-imported
  }

  @Test
  void aMissingPluginFileIsNamed() throws Exception {
    Path plugin = dir.resolve("plugin");
    TestPki.pluginCa(plugin, T0);
    Files.delete(plugin.resolve("ca-key.pem"));
    assertThatThrownBy(
            () -> CertificateAuthority.importPlugin(plugin, dir.resolve("state-ca"), options()))
        .hasMessageContaining("has no ca-key.pem");
  }

  @Test
  void servingCertificateRotatesAtHalfLife() throws Exception {
    ServingKeyManager km =
        new ServingKeyManager(ca, List.of("istiod.istio-system.svc"), Duration.ofHours(24), clock);
    String first = km.chooseEngineServerAlias("EC", null, null);
    X509Certificate cert = km.getCertificateChain(first)[0];
    assertThat(uris(cert)).containsExactly("2:istiod.istio-system.svc");
    clock.advance(Duration.ofHours(11));
    assertThat(km.chooseEngineServerAlias("EC", null, null)).isEqualTo(first);
    clock.advance(Duration.ofHours(1));
    String second = km.chooseEngineServerAlias("EC", null, null);
    assertThat(second).isNotEqualTo(first);
    assertThat(km.getCertificateChain(second)[0].getNotBefore().toInstant())
        .isEqualTo(T0.plus(Duration.ofHours(12)));
    // A handshake that chose the previous alias still gets that chain with its own key.
    assertThat(km.getCertificateChain(first)[0]).isEqualTo(cert);
    assertThat(km.getPrivateKey(first)).isNotEqualTo(km.getPrivateKey(second));
  }

  static String openssl(String... args) throws Exception {
    List<String> cmd = new ArrayList<>();
    cmd.add("openssl");
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    return out;
  }
}
