package dev.weft.proxy.identity;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.StringReader;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.junit.jupiter.api.Test;

/** The JDK-only CSR, read back by BouncyCastle (what the control plane's CA parses it with). */
class Pkcs10Test {
  @Test
  void aRequestBouncyCastleReadsWithAValidSignatureAndTheSpiffeSan() throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp256r1"));
    KeyPair key = g.generateKeyPair();
    // a long URI: lengths past 127 and 255 bytes take the long form
    String uri = "spiffe://cluster.local/ns/" + "n".repeat(300) + "/sa/default";
    String pem = Pkcs10.pem("CERTIFICATE REQUEST", Pkcs10.der(key, uri));
    assertThat(pem).startsWith("-----BEGIN CERTIFICATE REQUEST-----\n");
    assertThat(pem).endsWith("\n-----END CERTIFICATE REQUEST-----\n");
    assertThat(pem.lines().mapToInt(String::length).max().orElseThrow()).isLessThanOrEqualTo(64);

    PKCS10CertificationRequest csr =
        (PKCS10CertificationRequest) new PEMParser(new StringReader(pem)).readObject();
    assertThat(
            csr.isSignatureValid(
                new JcaContentVerifierProviderBuilder().build(csr.getSubjectPublicKeyInfo())))
        .isTrue();
    assertThat(csr.getSubject().getRDNs()).isEmpty();
    assertThat(csr.getSubjectPublicKeyInfo().getEncoded()).isEqualTo(key.getPublic().getEncoded());
    assertThat(csr.getSignatureAlgorithm().getAlgorithm().getId()).isEqualTo("1.2.840.10045.4.3.2");
    var attrs = csr.getAttributes(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest);
    assertThat(attrs).hasSize(1);
    Extensions exts = Extensions.getInstance(attrs[0].getAttrValues().getObjectAt(0));
    Extension san = exts.getExtension(Extension.subjectAlternativeName);
    assertThat(san.isCritical()).isTrue();
    GeneralName[] names = GeneralNames.getInstance(san.getParsedValue()).getNames();
    assertThat(names).hasSize(1);
    assertThat(names[0].getTagNo()).isEqualTo(GeneralName.uniformResourceIdentifier);
    assertThat(names[0].getName().toString()).isEqualTo(uri);
  }
}
