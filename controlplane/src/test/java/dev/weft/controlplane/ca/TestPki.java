package dev.weft.controlplane.ca;

import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Date;
import javax.security.auth.x500.X500Principal;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.ExtensionsGenerator;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;

/** Test PKI: CSRs (honest or not) and an operator's plug-in CA (root → intermediate). */
final class TestPki {
  private TestPki() {}

  static KeyPair rsa(int bits) throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
    g.initialize(bits);
    return g.generateKeyPair();
  }

  /** A CSR for {@code key}, signed by {@code signer} (normally the same key), with URI SANs. */
  static String csr(KeyPair key, PrivateKey signer, GeneralName... sans) throws Exception {
    JcaPKCS10CertificationRequestBuilder b =
        new JcaPKCS10CertificationRequestBuilder(new X500Principal(""), key.getPublic());
    if (sans.length > 0) {
      ExtensionsGenerator ext = new ExtensionsGenerator();
      ext.addExtension(Extension.subjectAlternativeName, true, new GeneralNames(sans));
      b.addAttribute(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest, ext.generate());
    }
    String alg = key.getPublic().getAlgorithm().equals("EC") ? "SHA256withECDSA" : "SHA256withRSA";
    PKCS10CertificationRequest req = b.build(new JcaContentSignerBuilder(alg).build(signer));
    return Pem.encode(req);
  }

  static String csr(KeyPair key, GeneralName... sans) throws Exception {
    return csr(key, key.getPrivate(), sans);
  }

  static GeneralName uri(String u) {
    return new GeneralName(GeneralName.uniformResourceIdentifier, u);
  }

  static X509Certificate caCert(
      String subject, PublicKey key, String issuer, PrivateKey issuerKey, Instant from, Instant to)
      throws Exception {
    JcaX509v3CertificateBuilder b =
        new JcaX509v3CertificateBuilder(
            new X500Name(issuer),
            BigInteger.valueOf(System.nanoTime()),
            Date.from(from),
            Date.from(to),
            new X500Name(subject),
            key);
    b.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
    b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
    return new JcaX509CertificateConverter()
        .getCertificate(b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(issuerKey)));
  }

  /**
   * Writes an operator's plug-in CA into {@code dir} in Istio's layout: a root and an intermediate
   * (the signing CA), cert-chain.pem = intermediate + root.
   */
  static void pluginCa(Path dir, Instant now) throws Exception {
    Files.createDirectories(dir);
    KeyPair rootKey = CertificateAuthority.newP256KeyPair();
    KeyPair interKey = CertificateAuthority.newP256KeyPair();
    X509Certificate root =
        caCert(
            "O=Operator,CN=Root CA",
            rootKey.getPublic(),
            "O=Operator,CN=Root CA",
            rootKey.getPrivate(),
            now.minusSeconds(60),
            now.plusSeconds(86400L * 3650));
    X509Certificate inter =
        caCert(
            "O=Operator,CN=Intermediate CA",
            interKey.getPublic(),
            "O=Operator,CN=Root CA",
            rootKey.getPrivate(),
            now.minusSeconds(60),
            now.plusSeconds(86400L * 365));
    Files.writeString(dir.resolve("root-cert.pem"), Pem.encode(root));
    Files.writeString(dir.resolve("ca-cert.pem"), Pem.encode(inter));
    Files.writeString(dir.resolve("ca-key.pem"), Pem.encode(interKey.getPrivate()));
    Files.writeString(dir.resolve("cert-chain.pem"), Pem.encode(inter) + Pem.encode(root));
  }
}
