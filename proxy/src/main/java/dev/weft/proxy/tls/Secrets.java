package dev.weft.proxy.tls;

import io.envoyproxy.envoy.config.core.v3.DataSource;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsCertificate;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.List;

/**
 * Loads the PEM material of Envoy's {@code TlsCertificate} and {@code CertificateValidationContext}
 * ({@code DataSource}: {@code inline_bytes}, {@code inline_string} or {@code filename}). Private
 * keys must be PKCS#8 ({@code BEGIN PRIVATE KEY}: RSA, EC or Ed25519).
 */
public final class Secrets {
  private Secrets() {}

  /** A certificate chain (leaf first) and its key. */
  public record KeyMaterial(PrivateKey key, X509Certificate[] chain) {}

  /** Checks that {@code s} is a usable certificate or validation context. */
  public static void validate(Secret s) throws TlsConfigException {
    if (s.getName().isEmpty()) {
      throw new TlsConfigException("secret without a name");
    }
    String where = "secret " + s.getName() + ": ";
    try {
      switch (s.getTypeCase()) {
        case TLS_CERTIFICATE -> keyMaterial(s.getTlsCertificate());
        case VALIDATION_CONTEXT -> {
          if (trustedCa(s.getValidationContext()).isEmpty()) {
            throw new TlsConfigException("validation_context.trusted_ca is empty");
          }
        }
        default ->
            throw new TlsConfigException(
                "only tls_certificate and validation_context are supported, got "
                    + s.getTypeCase());
      }
    } catch (TlsConfigException e) {
      throw new TlsConfigException(where + e.getMessage(), e);
    }
  }

  /** The chain and key of {@code c}. */
  public static KeyMaterial keyMaterial(TlsCertificate c) throws TlsConfigException {
    if (!c.hasCertificateChain() || !c.hasPrivateKey()) {
      throw new TlsConfigException("tls_certificate needs certificate_chain and private_key");
    }
    List<X509Certificate> chain = certificates(bytes("certificate_chain", c.getCertificateChain()));
    if (chain.isEmpty()) {
      throw new TlsConfigException("certificate_chain holds no certificate");
    }
    PrivateKey key = privateKey(bytes("private_key", c.getPrivateKey()));
    return new KeyMaterial(key, chain.toArray(new X509Certificate[0]));
  }

  /** The trusted CA certificates of {@code v} (empty when it has none). */
  public static List<X509Certificate> trustedCa(CertificateValidationContext v)
      throws TlsConfigException {
    if (!v.hasTrustedCa()) {
      return List.of();
    }
    return certificates(bytes("trusted_ca", v.getTrustedCa()));
  }

  static byte[] bytes(String field, DataSource d) throws TlsConfigException {
    return switch (d.getSpecifierCase()) {
      case INLINE_BYTES -> d.getInlineBytes().toByteArray();
      case INLINE_STRING -> d.getInlineString().getBytes(StandardCharsets.UTF_8);
      case FILENAME -> {
        try {
          yield Files.readAllBytes(Path.of(d.getFilename()));
        } catch (IOException e) {
          throw new TlsConfigException(field + ": cannot read " + d.getFilename() + ": " + e);
        }
      }
      default ->
          throw new TlsConfigException(field + ": unsupported data source " + d.getSpecifierCase());
    };
  }

  static List<X509Certificate> certificates(byte[] pem) throws TlsConfigException {
    try {
      Collection<? extends Certificate> cs =
          CertificateFactory.getInstance("X.509")
              .generateCertificates(new ByteArrayInputStream(pem));
      List<X509Certificate> out = new ArrayList<>(cs.size());
      for (Certificate c : cs) {
        out.add((X509Certificate) c);
      }
      return out;
    } catch (CertificateException e) {
      throw new TlsConfigException("invalid PEM certificate: " + e.getMessage(), e);
    }
  }

  static PrivateKey privateKey(byte[] pem) throws TlsConfigException {
    String text = new String(pem, StandardCharsets.US_ASCII);
    String begin = "-----BEGIN PRIVATE KEY-----";
    int b = text.indexOf(begin);
    int e = text.indexOf("-----END PRIVATE KEY-----");
    if (b < 0 || e < b) {
      throw new TlsConfigException(
          "private_key must be a PKCS#8 PEM key (BEGIN PRIVATE KEY)"
              + (text.contains("BEGIN RSA PRIVATE KEY") || text.contains("BEGIN EC PRIVATE KEY")
                  ? "; convert it with openssl pkcs8 -topk8 -nocrypt"
                  : ""));
    }
    byte[] der;
    try {
      der = Base64.getMimeDecoder().decode(text.substring(b + begin.length(), e));
    } catch (IllegalArgumentException ex) {
      throw new TlsConfigException("private_key: invalid base64");
    }
    for (String alg : new String[] {"RSA", "EC", "Ed25519"}) {
      try {
        return KeyFactory.getInstance(alg).generatePrivate(new PKCS8EncodedKeySpec(der));
      } catch (GeneralSecurityException ignored) {
        // try the next algorithm
      }
    }
    throw new TlsConfigException("private_key: not an RSA, EC or Ed25519 PKCS#8 key");
  }
}
