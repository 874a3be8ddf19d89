package dev.weft.proxy.tls;

import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Verifies a TLS peer's certificate chain as Envoy's default certificate validator does with a
 * {@code CertificateValidationContext}: the chain must lead to one of the {@code trusted_ca} roots
 * (PKIX, no revocation; Envoy checks no extended key usage either), then, when subject alt name
 * matchers are configured, one of them must accept a SAN of the leaf. Failures are counted ({@code
 * ssl.fail_verify_no_cert}, {@code ssl.fail_verify_error}, {@code ssl.fail_verify_san}) and fail
 * the handshake. Immutable; shared by every connection of one {@code SslContext}.
 */
final class PeerVerifier extends X509ExtendedTrustManager {
  private final Set<TrustAnchor> anchors;
  private final List<X509Certificate> roots;
  private final List<SanMatcher> sans;
  private final TlsStats stats;

  PeerVerifier(List<X509Certificate> roots, List<SanMatcher> sans, TlsStats stats) {
    Set<TrustAnchor> a = new HashSet<>();
    for (X509Certificate r : roots) {
      a.add(new TrustAnchor(r, null));
    }
    this.anchors = a;
    this.roots = List.copyOf(roots);
    this.sans = List.copyOf(sans);
    this.stats = stats;
  }

  private void verify(X509Certificate[] chain) throws CertificateException {
    if (chain == null || chain.length == 0) {
      stats.failVerifyNoCert.increment();
      throw new CertificateException("peer did not present a certificate");
    }
    List<X509Certificate> path = new ArrayList<>(chain.length);
    for (X509Certificate c : chain) {
      if (!roots.contains(c)) {
        path.add(c);
      }
    }
    if (path.isEmpty()) {
      path.add(chain[0]);
    }
    try {
      PKIXParameters p = new PKIXParameters(anchors);
      p.setRevocationEnabled(false);
      CertPathValidator.getInstance("PKIX")
          .validate(CertificateFactory.getInstance("X.509").generateCertPath(path), p);
    } catch (GeneralSecurityException e) {
      stats.failVerifyError.increment();
      throw new CertificateException("certificate verify failed: " + e.getMessage(), e);
    }
    if (!sans.isEmpty() && !SanMatcher.anyMatches(sans, chain[0])) {
      stats.failVerifySan.increment();
      throw new CertificateException(
          "peer certificate SANs " + PeerIdentity.uriSans(chain[0]) + " match no configured SAN");
    }
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType)
      throws CertificateException {
    verify(chain);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType)
      throws CertificateException {
    verify(chain);
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
      throws CertificateException {
    verify(chain);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
      throws CertificateException {
    verify(chain);
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
      throws CertificateException {
    verify(chain);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
      throws CertificateException {
    verify(chain);
  }

  /**
   * None: a server does not name its CAs in the CertificateRequest (Envoy sends no
   * certificate_authorities unless configured), so a client sends its certificate whatever its
   * issuer and an untrusted one is refused here, counted as {@code ssl.fail_verify_error}.
   */
  @Override
  public X509Certificate[] getAcceptedIssuers() {
    return new X509Certificate[0];
  }
}
