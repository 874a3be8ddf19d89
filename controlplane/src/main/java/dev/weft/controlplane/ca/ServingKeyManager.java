package dev.weft.controlplane.ca;

import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;

/**
 * The control plane's TLS serving identity: a certificate for its DNS names ({@code
 * istiod.istio-system.svc}) issued by its own CA, re-issued at half its lifetime when a handshake
 * asks after that, so the secure port never serves an expired certificate. Each issue has its own
 * alias, so a handshake that chose one always gets that chain with its key. Thread safe.
 */
public final class ServingKeyManager extends X509ExtendedKeyManager {
  private final CertificateAuthority ca;
  private final List<String> dnsNames;
  private final Duration ttl;
  private final Clock clock;
  private final Map<String, CertificateAuthority.ServingCertificate> issued = new LinkedHashMap<>();
  private String currentAlias;
  private long generation;

  public ServingKeyManager(
      CertificateAuthority ca, List<String> dnsNames, Duration ttl, Clock clock) {
    this.ca = ca;
    this.dnsNames = List.copyOf(dnsNames);
    this.ttl = ttl;
    this.clock = clock;
    rotateIfDue();
  }

  /** The certificate served now (issuing a new one if past half life). */
  public synchronized CertificateAuthority.ServingCertificate current() {
    rotateIfDue();
    return issued.get(currentAlias);
  }

  private synchronized String rotateIfDue() {
    CertificateAuthority.ServingCertificate cur =
        currentAlias == null ? null : issued.get(currentAlias);
    if (cur == null || pastHalfLife(cur.leaf(), clock.instant())) {
      CertificateAuthority.ServingCertificate next = ca.issueServing(dnsNames, ttl);
      currentAlias = "weft-" + (++generation);
      issued.put(currentAlias, next);
      while (issued.size() > 2) { // the previous one stays for handshakes in progress
        issued.remove(issued.keySet().iterator().next());
      }
    }
    return currentAlias;
  }

  static boolean pastHalfLife(X509Certificate c, Instant now) {
    long from = c.getNotBefore().getTime();
    long to = c.getNotAfter().getTime();
    return now.toEpochMilli() >= from + (to - from) / 2;
  }

  @Override
  public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
    return rotateIfDue();
  }

  @Override
  public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
    return rotateIfDue();
  }

  @Override
  public String[] getServerAliases(String keyType, Principal[] issuers) {
    return new String[] {rotateIfDue()};
  }

  @Override
  public synchronized X509Certificate[] getCertificateChain(String alias) {
    CertificateAuthority.ServingCertificate c = issued.get(alias);
    return c == null ? null : c.chain().toArray(new X509Certificate[0]);
  }

  @Override
  public synchronized PrivateKey getPrivateKey(String alias) {
    CertificateAuthority.ServingCertificate c = issued.get(alias);
    return c == null ? null : c.key();
  }

  @Override
  public String[] getClientAliases(String keyType, Principal[] issuers) {
    return null;
  }

  @Override
  public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
    return null;
  }
}
