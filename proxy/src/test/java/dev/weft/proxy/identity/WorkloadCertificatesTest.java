package dev.weft.proxy.identity;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.proxy.xds.Backoff;
import dev.weft.xds.identity.SecretNames;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import java.io.ByteArrayInputStream;
import java.io.StringReader;
import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequest;
import org.bouncycastle.util.io.pem.PemObject;
import org.bouncycastle.util.io.pem.PemReader;
import org.bouncycastle.util.io.pem.PemWriter;
import org.junit.jupiter.api.Test;

/**
 * The proxy's certificate lifecycle with a fake clock and a test CA (the control plane's CA lives
 * in another module; the in-JVM test with the real one is in cli): obtain, rotate at half life,
 * keep the old certificate through CA failures with backoff, refuse forged or expired answers.
 */
class WorkloadCertificatesTest {
  static final String ID = "spiffe://cluster.local/ns/demo/sa/podinfo";
  static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

  final FakeClock clock = new FakeClock(T0);
  final TestCa ca = new TestCa(clock);
  final List<String> changes = new ArrayList<>();

  WorkloadCertificates certs(CertificateClient client) {
    WorkloadCertificates c =
        WorkloadCertificates.builder()
            .ca(client)
            .spiffeId(ID)
            .rootPem(ca.rootPem)
            .clock(clock)
            .backoff(new Backoff(1000, 8000, 0, new Random(1)))
            .build();
    c.addListener(changes::add);
    return c;
  }

  /**
   * The CA stamps notBefore with its clock while the call is in flight: the certificate is checked
   * at the time the answer came, so a call that crosses a second does not fail (and wait a
   * backoff).
   */
  @Test
  void aCertificateIssuedDuringTheCallIsAcceptedAtOnce() throws Exception {
    CertificateClient slow =
        (csr, ttl) -> {
          clock.advance(Duration.ofMillis(1500)); // the round trip, across a second
          Instant issued = clock.instant();
          return ca.sign(csr, ID, issued, issued.plus(Duration.ofHours(24)));
        };
    WorkloadCertificates c = certs(slow);
    assertThat(c.refreshIfDue()).isTrue();
    assertThat(c.secret(SecretNames.DEFAULT)).isPresent();
  }

  /**
   * Issue #10: the secrets' listeners (the proxy's xDS stream waits for the certificate) hear of a
   * new certificate before it is logged, since the process's first log message initialises its
   * logging (~25 ms cold); on the old order the INFO record came first.
   */
  @Test
  void listenersHearOfTheCertificateBeforeItIsLogged() throws Exception {
    java.util.logging.Logger jul =
        java.util.logging.Logger.getLogger(WorkloadCertificates.class.getName());
    List<String> heardWhenLogged = new java.util.concurrent.CopyOnWriteArrayList<>();
    java.util.logging.Handler h =
        new java.util.logging.Handler() {
          @Override
          public void publish(java.util.logging.LogRecord r) {
            if (r.getMessage() != null && r.getMessage().startsWith("certificate for " + ID)) {
              heardWhenLogged.add(String.join(",", changes));
            }
          }

          @Override
          public void flush() {}

          @Override
          public void close() {}
        };
    jul.addHandler(h);
    try {
      WorkloadCertificates c = certs(ca);
      assertThat(c.refreshIfDue()).isTrue();
    } finally {
      jul.removeHandler(h);
    }
    assertThat(heardWhenLogged).containsExactly(SecretNames.DEFAULT + "," + SecretNames.ROOTCA);
  }

  @Test
  void obtainsACertificateAndPublishesTheSdsSecrets() throws Exception {
    WorkloadCertificates c = certs(ca);
    assertThat(c.secret(SecretNames.DEFAULT)).isEmpty();
    assertThat(c.refreshIfDue()).isTrue();
    assertThat(changes).containsExactly(SecretNames.DEFAULT, SecretNames.ROOTCA);
    Secret tls = c.secret(SecretNames.DEFAULT).orElseThrow();
    assertThat(tls.getName()).isEqualTo("default");
    String chainPem = tls.getTlsCertificate().getCertificateChain().getInlineBytes().toStringUtf8();
    String keyPem = tls.getTlsCertificate().getPrivateKey().getInlineBytes().toStringUtf8();
    X509Certificate leaf = parse(chainPem).get(0);
    assertThat(leaf.getSubjectAlternativeNames()).containsExactly(List.of(6, ID));
    // The private key in the secret is the leaf's: sign with one, verify with the other.
    PrivateKey key =
        KeyFactory.getInstance("EC")
            .generatePrivate(
                new PKCS8EncodedKeySpec(
                    new PemReader(new StringReader(keyPem)).readPemObject().getContent()));
    Signature s = Signature.getInstance("SHA256withECDSA");
    s.initSign(key);
    s.update(new byte[] {1, 2, 3});
    byte[] sig = s.sign();
    s.initVerify(leaf.getPublicKey());
    s.update(new byte[] {1, 2, 3});
    assertThat(s.verify(sig)).isTrue();
    Secret root = c.secret(SecretNames.ROOTCA).orElseThrow();
    assertThat(root.getValidationContext().getTrustedCa().getInlineBytes().toStringUtf8())
        .isEqualTo(ca.rootPem);
    assertThat(c.secret("other")).isEmpty();
    // /certs shows the chain and no key material.
    assertThat(c.certsJson())
        .contains(ID)
        .contains("days_until_expiration")
        .doesNotContain("PRIVATE");
  }

  @Test
  void rotatesAtHalfLife() throws Exception {
    WorkloadCertificates c = certs(ca);
    c.refreshIfDue();
    X509Certificate first = c.current().orElseThrow().leaf();
    assertThat(c.current().orElseThrow().rotateAt()).isEqualTo(T0.plus(Duration.ofHours(12)));
    clock.advance(Duration.ofHours(12).minusSeconds(1));
    assertThat(c.refreshIfDue()).isFalse();
    assertThat(ca.calls.get()).isEqualTo(1);
    clock.advance(Duration.ofSeconds(1));
    assertThat(c.refreshIfDue()).isTrue();
    X509Certificate second = c.current().orElseThrow().leaf();
    assertThat(second.getSerialNumber()).isNotEqualTo(first.getSerialNumber());
    assertThat(second.getPublicKey()).isNotEqualTo(first.getPublicKey()); // a new key each time
    assertThat(second.getNotAfter().toInstant()).isEqualTo(T0.plus(Duration.ofHours(36)));
    assertThat(changes)
        .containsExactly(SecretNames.DEFAULT, SecretNames.ROOTCA, SecretNames.DEFAULT);
  }

  @Test
  void aFailingCaKeepsTheCurrentCertificateAndRetriesWithBackoff() throws Exception {
    AtomicInteger failures = new AtomicInteger();
    CertificateClient flaky =
        (csr, ttl) -> {
          if (failures.get() > 0) {
            failures.decrementAndGet();
            throw new Exception("CreateCertificate: UNAVAILABLE: connection refused");
          }
          return ca.createCertificate(csr, ttl);
        };
    WorkloadCertificates c = certs(flaky);
    c.refreshIfDue();
    Secret held = c.secret(SecretNames.DEFAULT).orElseThrow();
    clock.advance(Duration.ofHours(12));
    failures.set(2);
    assertThat(c.refreshIfDue()).isFalse();
    assertThat(c.lastError()).contains("UNAVAILABLE");
    assertThat(c.secret(SecretNames.DEFAULT)).contains(held); // still serving the old one
    clock.advance(Duration.ofMillis(999));
    assertThat(c.refreshIfDue()).isFalse();
    assertThat(failures.get()).as("no attempt before the backoff").isEqualTo(1);
    clock.advance(Duration.ofMillis(1));
    assertThat(c.refreshIfDue()).isFalse(); // second failure: next backoff 2 s
    clock.advance(Duration.ofMillis(1999));
    assertThat(c.refreshIfDue()).isFalse();
    clock.advance(Duration.ofMillis(1));
    assertThat(c.refreshIfDue()).isTrue();
    assertThat(c.lastError()).isNull();
    assertThat(c.secret(SecretNames.DEFAULT).orElseThrow()).isNotEqualTo(held);
  }

  @Test
  void forgedOrExpiredOrForeignAnswersAreRefused() throws Exception {
    TestCa stranger = new TestCa(clock);
    record Case(String what, CertificateClient client, String reason) {}
    List<Case> cases =
        List.of(
            new Case("a forged chain", stranger, "does not verify against the trusted root"),
            new Case(
                "an expired certificate",
                (csr, ttl) -> ca.sign(csr, ID, T0.minusSeconds(7200), T0.minusSeconds(60)),
                "does not verify against the trusted root (forged or expired)"),
            new Case(
                "another identity",
                (csr, ttl) ->
                    ca.sign(
                        csr, "spiffe://cluster.local/ns/demo/sa/other", T0, T0.plusSeconds(3600)),
                "not " + ID),
            new Case(
                "another key",
                (csr, ttl) -> ca.signKey(TestCa.newKey().getPublic(), ID, T0, T0.plusSeconds(3600)),
                "not for this proxy's key"),
            new Case("nothing", (csr, ttl) -> List.of(), "empty certificate chain"));
    for (Case k : cases) {
      WorkloadCertificates c = certs(k.client());
      assertThat(c.refreshIfDue()).as(k.what()).isFalse();
      assertThat(c.lastError()).as(k.what()).contains(k.reason());
      assertThat(c.secret(SecretNames.DEFAULT)).as(k.what()).isEmpty();
    }
    // A good certificate already held survives a forged answer at rotation.
    AtomicInteger n = new AtomicInteger();
    WorkloadCertificates c =
        certs((csr, ttl) -> (n.getAndIncrement() == 0 ? ca : stranger).createCertificate(csr, ttl));
    c.refreshIfDue();
    Secret held = c.secret(SecretNames.DEFAULT).orElseThrow();
    clock.advance(Duration.ofHours(12));
    assertThat(c.refreshIfDue()).isFalse();
    assertThat(c.secret(SecretNames.DEFAULT)).contains(held);
  }

  static List<X509Certificate> parse(String pem) throws Exception {
    List<X509Certificate> out = new ArrayList<>();
    for (var c :
        CertificateFactory.getInstance("X.509")
            .generateCertificates(
                new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)))) {
      out.add((X509Certificate) c);
    }
    return out;
  }

  /** A clock tests move by hand. */
  static final class FakeClock extends Clock {
    private volatile Instant now;

    FakeClock(Instant now) {
      this.now = now;
    }

    void advance(Duration d) {
      now = now.plus(d);
    }

    @Override
    public Instant instant() {
      return now;
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }
  }

  /** A minimal CA for the proxy's tests: signs the CSR's key for the SPIFFE id the CSR asks. */
  static final class TestCa implements CertificateClient {
    final KeyPair key = newKey();
    final X509Certificate root;
    final String rootPem;
    final Clock clock;
    final AtomicInteger calls = new AtomicInteger();

    TestCa(Clock clock) {
      this.clock = clock;
      try {
        X500Name name = new X500Name("O=cluster.local");
        Instant now = clock.instant();
        JcaX509v3CertificateBuilder b =
            new JcaX509v3CertificateBuilder(
                name,
                BigInteger.valueOf(System.nanoTime()),
                Date.from(now.minusSeconds(3600)),
                Date.from(now.plus(Duration.ofDays(3650))),
                name,
                key.getPublic());
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
        b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign));
        root =
            new JcaX509CertificateConverter()
                .getCertificate(
                    b.build(
                        new JcaContentSignerBuilder("SHA256withECDSA").build(key.getPrivate())));
        rootPem = pem(root);
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    }

    static KeyPair newKey() {
      try {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        return g.generateKeyPair();
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    }

    static String pem(X509Certificate c) throws Exception {
      StringWriter out = new StringWriter();
      try (PemWriter w = new PemWriter(out)) {
        w.writeObject(new PemObject("CERTIFICATE", c.getEncoded()));
      }
      return out.toString();
    }

    @Override
    public List<String> createCertificate(String csrPem, Duration ttl) throws Exception {
      calls.incrementAndGet();
      Instant now = clock.instant();
      return sign(csrPem, ID, now, now.plus(ttl.isZero() ? Duration.ofHours(24) : ttl));
    }

    List<String> sign(String csrPem, String id, Instant from, Instant to) throws Exception {
      Object o = new PEMParser(new StringReader(csrPem)).readObject();
      return signKey(
          new JcaPKCS10CertificationRequest((PKCS10CertificationRequest) o).getPublicKey(),
          id,
          from,
          to);
    }

    List<String> signKey(PublicKey pub, String id, Instant from, Instant to) throws Exception {
      JcaX509v3CertificateBuilder b =
          new JcaX509v3CertificateBuilder(
              new X500Name("O=cluster.local"),
              BigInteger.valueOf(System.nanoTime()),
              Date.from(from),
              Date.from(to),
              new X500Name(new org.bouncycastle.asn1.x500.RDN[0]),
              pub);
      b.addExtension(
          Extension.subjectAlternativeName,
          true,
          new GeneralNames(new GeneralName(GeneralName.uniformResourceIdentifier, id)));
      X509Certificate leaf =
          new JcaX509CertificateConverter()
              .getCertificate(
                  b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(key.getPrivate())));
      return List.of(pem(leaf), rootPem);
    }
  }
}
