package dev.weft.proxy.testing;

import io.envoyproxy.envoy.config.core.v3.DataSource;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsCertificate;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Base64;
import java.util.Date;
import java.util.concurrent.atomic.AtomicLong;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Test certificates, made fresh in each test: a root CA and workload certificates with SPIFFE URI
 * SANs (EC P-256, both serverAuth and clientAuth, as Istio's CA issues them), in PEM, and the Envoy
 * {@code Secret}s that carry them.
 */
public final class TestPki {
  private static final AtomicLong SERIAL = new AtomicLong(System.nanoTime());

  private TestPki() {}

  /** A certificate authority. */
  public record Ca(X509Certificate cert, KeyPair key) {
    public String certPem() {
      return pem("CERTIFICATE", der(cert));
    }
  }

  /** A workload certificate and its key, in PEM (the key PKCS#8). */
  public record Workload(
      X509Certificate cert, java.security.PrivateKey key, String certPem, String keyPem) {
    /** Writes the certificate and key to {@code dir} (for openssl); returns {cert, key}. */
    public Path[] write(Path dir, String name) throws java.io.IOException {
      Path c = dir.resolve(name + ".crt");
      Path k = dir.resolve(name + ".key");
      Files.writeString(c, certPem);
      Files.writeString(k, keyPem);
      return new Path[] {c, k};
    }
  }

  public static Ca ca(String cn) {
    try {
      KeyPair kp = keyPair();
      X500Name name = new X500Name("O=" + cn);
      var b =
          new JcaX509v3CertificateBuilder(
              name,
              BigInteger.valueOf(SERIAL.incrementAndGet()),
              Date.from(Instant.now().minus(1, ChronoUnit.HOURS)),
              Date.from(Instant.now().plus(1, ChronoUnit.DAYS)),
              name,
              kp.getPublic());
      b.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
      b.addExtension(
          Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
      X509Certificate cert =
          new JcaX509CertificateConverter()
              .getCertificate(
                  b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(kp.getPrivate())));
      return new Ca(cert, kp);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * A workload certificate for {@code spiffeId} (e.g. {@code spiffe://cluster.local/ns/a/sa/b}).
   */
  public static Workload workload(Ca ca, String spiffeId) {
    return leaf(ca, new GeneralName(GeneralName.uniformResourceIdentifier, spiffeId));
  }

  /** A server certificate for the DNS name {@code host} (the control plane's, for instance). */
  public static Workload server(Ca ca, String host) {
    return leaf(ca, new GeneralName(GeneralName.dNSName, host));
  }

  private static Workload leaf(Ca ca, GeneralName san) {
    try {
      KeyPair kp = keyPair();
      var b =
          new JcaX509v3CertificateBuilder(
              new X500Name(ca.cert().getSubjectX500Principal().getName()),
              BigInteger.valueOf(SERIAL.incrementAndGet()),
              Date.from(Instant.now().minus(1, ChronoUnit.HOURS)),
              Date.from(Instant.now().plus(1, ChronoUnit.DAYS)),
              new X500Name(""),
              kp.getPublic());
      b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
      b.addExtension(
          Extension.keyUsage,
          true,
          new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment));
      b.addExtension(
          Extension.extendedKeyUsage,
          false,
          new ExtendedKeyUsage(
              new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}));
      b.addExtension(Extension.subjectAlternativeName, true, new GeneralNames(san));
      X509Certificate cert =
          new JcaX509CertificateConverter()
              .getCertificate(
                  b.build(
                      new JcaContentSignerBuilder("SHA256withECDSA").build(ca.key().getPrivate())));
      return new Workload(
          cert,
          kp.getPrivate(),
          pem("CERTIFICATE", der(cert)),
          pem("PRIVATE KEY", kp.getPrivate().getEncoded()));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** Istio's {@code default} secret shape: the workload's chain and key. */
  public static Secret certificateSecret(String name, Workload w) {
    return Secret.newBuilder()
        .setName(name)
        .setTlsCertificate(
            TlsCertificate.newBuilder()
                .setCertificateChain(DataSource.newBuilder().setInlineBytes(bytes(w.certPem())))
                .setPrivateKey(DataSource.newBuilder().setInlineBytes(bytes(w.keyPem()))))
        .build();
  }

  /** Istio's {@code ROOTCA} secret shape: a validation context with the trusted roots. */
  public static Secret rootSecret(String name, Ca... cas) {
    StringBuilder sb = new StringBuilder();
    for (Ca ca : cas) {
      sb.append(ca.certPem());
    }
    return Secret.newBuilder()
        .setName(name)
        .setValidationContext(
            CertificateValidationContext.newBuilder()
                .setTrustedCa(DataSource.newBuilder().setInlineBytes(bytes(sb.toString()))))
        .build();
  }

  private static com.google.protobuf.ByteString bytes(String s) {
    return com.google.protobuf.ByteString.copyFrom(s, StandardCharsets.US_ASCII);
  }

  private static KeyPair keyPair() throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp256r1"));
    return g.generateKeyPair();
  }

  private static byte[] der(X509Certificate c) {
    try {
      return c.getEncoded();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  static String pem(String type, byte[] der) {
    return "-----BEGIN "
        + type
        + "-----\n"
        + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
        + "\n-----END "
        + type
        + "-----\n";
  }
}
