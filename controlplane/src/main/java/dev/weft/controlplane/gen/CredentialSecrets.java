package dev.weft.controlplane.gen;

import dev.weft.api.Resource;
import dev.weft.api.ResourceKind;
import dev.weft.api.core.Secret;
import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMEncryptedKeyPair;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;

/**
 * The TLS material of a core/v1 Secret named by a Gateway's (or DestinationRule's) {@code
 * credentialName}, read as Istio's credentials controller reads it ({@code
 * pilot/pkg/credentials/kube/secrets.go}): the certificate and key from {@code tls.crt}/{@code
 * tls.key} (a {@code kubernetes.io/tls} secret) or else {@code cert}/{@code key} (a generic one),
 * the CA from {@code cacert} or else {@code ca.crt}. Keys may be PKCS#8, PKCS#1 RSA or SEC1 EC PEM;
 * they are handed on as PKCS#8, the form the proxy loads.
 *
 * <p>{@link #check} is what an apply runs: a Secret carrying any of these keys must be usable (PEM
 * that parses, a key that belongs to the certificate), else it is refused with the field at fault.
 * Messages never include a value: they may be key material.
 */
public final class CredentialSecrets {
  /** Istio's keys of a {@code kubernetes.io/tls} secret. */
  static final String TLS_CERT = "tls.crt";

  static final String TLS_KEY = "tls.key";
  static final String TLS_CA = "ca.crt";

  /** Istio's keys of a generic secret. */
  static final String GENERIC_CERT = "cert";

  static final String GENERIC_KEY = "key";
  static final String GENERIC_CA = "cacert";

  private CredentialSecrets() {}

  /**
   * A secret's usable material.
   *
   * @param certificateChain the chain PEM as given, or null when the secret has none
   * @param privateKeyPkcs8 the key as PKCS#8 PEM ({@code BEGIN PRIVATE KEY}), or null
   * @param caCertificates the CA bundle PEM, or null
   */
  public record Material(String certificateChain, String privateKeyPkcs8, String caCertificates) {
    /** Never shows the key. */
    @Override
    public String toString() {
      return "Material[certificate="
          + (certificateChain != null)
          + ", key="
          + (privateKeyPkcs8 != null)
          + ", ca="
          + (caCertificates != null)
          + "]";
    }
  }

  /** Why a secret cannot be used: the field ({@code data.tls.crt}) and a message without values. */
  public static final class InvalidSecretException extends Exception {
    private final String field;

    InvalidSecretException(String field, String message) {
      super(message);
      this.field = field;
    }

    /** The field at fault, e.g. {@code data.tls.key}. */
    public String field() {
      return field;
    }
  }

  /** Whether the secret carries any key Istio reads as TLS material. */
  public static boolean isTlsCredential(Secret s) {
    Map<String, byte[]> d = s.data();
    for (String k : List.of(TLS_CERT, TLS_KEY, TLS_CA, GENERIC_CERT, GENERIC_KEY, GENERIC_CA)) {
      if (d.containsKey(k)) {
        return true;
      }
    }
    return false;
  }

  /**
   * The problems of an applied resource that is a Secret with TLS keys: each as {field, message}.
   * Empty for other resources and for usable secrets.
   */
  public static List<InvalidSecretException> check(Resource r) {
    if (r.kind() != ResourceKind.SECRET || !(r.spec() instanceof Secret s)) {
      return List.of();
    }
    if (!isTlsCredential(s)) {
      return List.of();
    }
    List<InvalidSecretException> out = new ArrayList<>();
    try {
      read(s);
    } catch (InvalidSecretException e) {
      out.add(e);
    }
    return out;
  }

  /**
   * The material of {@code s}.
   *
   * @throws InvalidSecretException when a key it has is unusable: PEM that does not parse, a
   *     certificate without its key (or the reverse), a key that is not the certificate's
   */
  public static Material read(Secret s) throws InvalidSecretException {
    Map<String, byte[]> d = s.data();
    String certKey;
    String keyKey;
    if (d.containsKey(TLS_CERT) || d.containsKey(TLS_KEY)) {
      certKey = TLS_CERT;
      keyKey = TLS_KEY;
    } else {
      certKey = GENERIC_CERT;
      keyKey = GENERIC_KEY;
    }
    String chain = null;
    String pkcs8 = null;
    boolean hasCert = d.containsKey(certKey);
    boolean hasKey = d.containsKey(keyKey);
    if (hasCert != hasKey) {
      String missing = hasCert ? keyKey : certKey;
      throw new InvalidSecretException(
          "data." + missing,
          "Required value: a secret with "
              + (hasCert ? certKey : keyKey)
              + " needs "
              + missing
              + " too (Istio reads the pair "
              + certKey
              + "/"
              + keyKey
              + ")");
    }
    if (hasCert) {
      String certPem = text(d.get(certKey));
      List<X509Certificate> certs = certificates(certPem, "data." + certKey);
      PrivateKey key = privateKey(text(d.get(keyKey)), "data." + keyKey);
      if (!matches(key, certs.get(0).getPublicKey())) {
        throw new InvalidSecretException(
            "data." + keyKey,
            "the private key does not match the certificate in data."
                + certKey
                + " (its public key is another key's)");
      }
      chain = certPem;
      pkcs8 = pem("PRIVATE KEY", key.getEncoded());
    }
    String ca = null;
    for (String caKey : List.of(GENERIC_CA, TLS_CA)) {
      if (d.containsKey(caKey)) {
        String caPem = text(d.get(caKey));
        certificates(caPem, "data." + caKey);
        ca = caPem;
        break;
      }
    }
    return new Material(chain, pkcs8, ca);
  }

  private static String text(byte[] b) {
    return new String(b, StandardCharsets.UTF_8);
  }

  private static List<X509Certificate> certificates(String pem, String field)
      throws InvalidSecretException {
    List<X509Certificate> out = new ArrayList<>();
    try (PEMParser p = new PEMParser(new StringReader(pem))) {
      for (Object o = p.readObject(); o != null; o = p.readObject()) {
        if (!(o instanceof X509CertificateHolder h)) {
          throw new InvalidSecretException(
              field, "expected only PEM CERTIFICATE blocks, found another kind of PEM object");
        }
        out.add(new JcaX509CertificateConverter().getCertificate(h));
      }
    } catch (IOException | CertificateException | RuntimeException e) {
      throw new InvalidSecretException(field, "not a valid PEM certificate (" + reason(e) + ")");
    }
    if (out.isEmpty()) {
      throw new InvalidSecretException(
          field, "holds no PEM certificate (expected -----BEGIN CERTIFICATE-----)");
    }
    return out;
  }

  private static PrivateKey privateKey(String pem, String field) throws InvalidSecretException {
    Object o;
    try (PEMParser p = new PEMParser(new StringReader(pem))) {
      o = p.readObject();
    } catch (IOException | RuntimeException e) {
      throw new InvalidSecretException(field, "not a valid PEM private key");
    }
    if (o instanceof PEMEncryptedKeyPair || o instanceof PKCS8EncryptedPrivateKeyInfo) {
      throw new InvalidSecretException(
          field, "the private key is encrypted; Istio needs it unencrypted");
    }
    try {
      JcaPEMKeyConverter conv = new JcaPEMKeyConverter();
      if (o instanceof PEMKeyPair kp) {
        return conv.getPrivateKey(kp.getPrivateKeyInfo());
      }
      if (o instanceof PrivateKeyInfo info) {
        return conv.getPrivateKey(info);
      }
    } catch (IOException | RuntimeException e) {
      throw new InvalidSecretException(field, "not a usable private key");
    }
    // Never echo the content: it may be key material.
    throw new InvalidSecretException(
        field,
        "holds no PEM private key (expected BEGIN PRIVATE KEY, BEGIN RSA PRIVATE KEY or BEGIN EC"
            + " PRIVATE KEY)");
  }

  /** Whether {@code key} is the private half of {@code pub}: a signature made with one verifies. */
  private static boolean matches(PrivateKey key, PublicKey pub) {
    String alg =
        switch (key.getAlgorithm()) {
          case "RSA" -> "SHA256withRSA";
          case "EC" -> "SHA256withECDSA";
          case "Ed25519", "EdDSA" -> "Ed25519";
          default -> null;
        };
    if (alg == null || !alg.startsWith(algorithmFamily(pub.getAlgorithm(), alg))) {
      return false;
    }
    try {
      byte[] probe = "weft credential check".getBytes(StandardCharsets.US_ASCII);
      Signature s = Signature.getInstance(alg);
      s.initSign(key);
      s.update(probe);
      byte[] sig = s.sign();
      Signature v = Signature.getInstance(alg);
      v.initVerify(pub);
      v.update(probe);
      return v.verify(sig);
    } catch (GeneralSecurityException | RuntimeException e) {
      return false;
    }
  }

  private static String algorithmFamily(String publicAlgorithm, String signature) {
    return switch (publicAlgorithm) {
      case "RSA" -> "SHA256withRSA";
      case "EC" -> "SHA256withECDSA";
      case "Ed25519", "EdDSA" -> "Ed25519";
      default -> "\0" + signature;
    };
  }

  private static String reason(Exception e) {
    String m = e.getMessage();
    return m == null || m.isBlank() ? e.getClass().getSimpleName() : m;
  }

  static String pem(String type, byte[] der) {
    String b64 =
        Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der);
    return "-----BEGIN " + type + "-----\n" + b64 + "\n-----END " + type + "-----\n";
  }
}
