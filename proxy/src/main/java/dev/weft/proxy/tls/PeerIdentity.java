package dev.weft.proxy.tls;

import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.Collection;
import java.util.List;

/**
 * The verified identity of a connection's TLS peer, fixed at the end of its handshake: Istio's
 * {@code source.principal} is the peer certificate's SPIFFE URI SAN without its scheme ({@code
 * spiffe://cluster.local/ns/demo/sa/podinfo} gives {@code cluster.local/ns/demo/sa/podinfo}).
 *
 * @param uriSan the peer certificate's first {@code spiffe://} URI SAN (else its first URI SAN), or
 *     null when it has none
 * @param principal {@code uriSan} without {@code spiffe://}, or null
 * @param mutual whether the peer presented a certificate that was verified (Istio's {@code
 *     connection_security_policy} {@code mutual_tls})
 */
public record PeerIdentity(String uriSan, String principal, boolean mutual) {
  /** The prefix Istio strips from a SPIFFE ID to make a principal. */
  public static final String SPIFFE = "spiffe://";

  /** A TLS connection whose peer sent no certificate. */
  public static final PeerIdentity NO_CERTIFICATE = new PeerIdentity(null, null, false);

  /** The identity in {@code cert}, a verified peer certificate. */
  public static PeerIdentity of(X509Certificate cert) {
    String first = null;
    for (String uri : uriSans(cert)) {
      if (uri.startsWith(SPIFFE)) {
        return new PeerIdentity(uri, uri.substring(SPIFFE.length()), true);
      }
      if (first == null) {
        first = uri;
      }
    }
    return new PeerIdentity(first, first, true);
  }

  /** Istio's {@code connection_security_policy}: {@code mutual_tls} or {@code none}. */
  public String connectionSecurityPolicy() {
    return mutual ? "mutual_tls" : "none";
  }

  /** The certificate's URI subject alt names, in order. */
  static List<String> uriSans(X509Certificate cert) {
    return sans(cert, SanMatcher.URI);
  }

  static List<String> sans(X509Certificate cert, int type) {
    Collection<List<?>> all;
    try {
      all = cert.getSubjectAlternativeNames();
    } catch (CertificateParsingException e) {
      return List.of();
    }
    if (all == null) {
      return List.of();
    }
    java.util.ArrayList<String> out = new java.util.ArrayList<>(2);
    for (List<?> san : all) {
      if (san.size() >= 2
          && san.get(0) instanceof Integer t
          && t == type
          && san.get(1) instanceof String v) {
        out.add(v);
      }
    }
    return out;
  }
}
