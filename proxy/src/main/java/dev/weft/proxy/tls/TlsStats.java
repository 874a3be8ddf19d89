package dev.weft.proxy.tls;

import io.netty.handler.ssl.CipherSuiteConverter;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.ReferenceCountedOpenSslEngine;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSession;

/**
 * Envoy's TLS counters of one listener or cluster ({@code listener.<name>.ssl.*}, {@code
 * cluster.<name>.ssl.*}): {@code connection_error} (a handshake that failed), {@code handshake}
 * (one that succeeded), {@code session_reused}, {@code no_certificate} (a downstream peer that sent
 * none), {@code fail_verify_no_cert}, {@code fail_verify_error} (the chain does not lead to a
 * trusted root) and {@code fail_verify_san} (no subject alt name matched); per successful
 * handshake, Envoy's {@code ssl.versions.<version>} ({@code TLSv1.2}, {@code TLSv1.3}) and {@code
 * ssl.ciphers.<cipher>} with the cipher's OpenSSL/BoringSSL name ({@code TLS_AES_128_GCM_SHA256},
 * {@code ECDHE-ECDSA-AES128-GCM-SHA256}), as Envoy's listener and cluster statistics document them,
 * so what a connection negotiated can be read from {@code /stats}. Envoy's {@code ssl.curves.*} and
 * {@code ssl.sigalgs.*} are not kept. Lock free; the per-handshake counters are looked up once per
 * handshake, never per request.
 */
public final class TlsStats {
  private final String prefix;
  final LongAdder connectionError = new LongAdder();
  final LongAdder handshake = new LongAdder();
  final LongAdder sessionReused = new LongAdder();
  final LongAdder noCertificate = new LongAdder();
  final LongAdder failVerifyNoCert = new LongAdder();
  final LongAdder failVerifyError = new LongAdder();
  final LongAdder failVerifySan = new LongAdder();
  private final ConcurrentHashMap<String, LongAdder> negotiated = new ConcurrentHashMap<>();

  /**
   * @param prefix the stat prefix up to and including {@code ssl.}, e.g. {@code
   *     listener.127.0.0.1_8443.ssl.}
   */
  public TlsStats(String prefix) {
    this.prefix = prefix;
  }

  public String prefix() {
    return prefix;
  }

  /**
   * Counts a successful handshake of {@code engine}: {@code handshake}, {@code session_reused} when
   * it resumed a session (ticket or cache; known with the OpenSSL provider only), {@code
   * no_certificate} when the peer sent none, and the version and cipher it negotiated.
   */
  public void handshake(SSLEngine engine, boolean peerCertificate) {
    handshake.increment();
    if (reused(engine)) {
      sessionReused.increment();
    }
    if (!peerCertificate) {
      noCertificate.increment();
    }
    SSLSession session = engine.getSession();
    String version = session.getProtocol();
    if (version != null && !version.isEmpty() && !version.equals("NONE")) {
      count("versions." + version);
    }
    String cipher = cipherName(session.getCipherSuite());
    if (cipher != null) {
      count("ciphers." + cipher);
    }
  }

  /**
   * Whether the OpenSSL provider is BoringSSL (netty-tcnative-boringssl-static), whose names
   * differ.
   */
  private static final boolean BORINGSSL =
      OpenSsl.isAvailable() && String.valueOf(OpenSsl.versionString()).contains("BoringSSL");

  private void count(String name) {
    negotiated.computeIfAbsent(prefix + name, k -> new LongAdder()).increment();
  }

  /**
   * The OpenSSL/BoringSSL name of a JSSE cipher suite name, as Envoy's {@code ssl.ciphers.*} uses
   * ({@code TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256} is {@code ECDHE-RSA-AES128-GCM-SHA256}; TLS 1.3
   * suites keep their names), or null for none.
   */
  static String cipherName(String javaName) {
    if (javaName == null || javaName.isEmpty() || javaName.startsWith("SSL_NULL")) {
      return null;
    }
    if (!javaName.contains("_WITH_")) {
      // A TLS 1.3 suite: BoringSSL's SSL_CIPHER_get_name (Envoy's source) gives its IETF name,
      // where Netty's converter would give BoringSSL's old "AEAD-AES128-GCM-SHA256".
      return javaName;
    }
    String openSsl = CipherSuiteConverter.toOpenSsl(javaName, BORINGSSL);
    return openSsl != null ? openSsl : javaName;
  }

  /** Whether the handshake resumed a session (ticket or cache), when the engine can tell. */
  static boolean reused(SSLEngine engine) {
    if (OpenSsl.isAvailable() && engine instanceof ReferenceCountedOpenSslEngine e) {
      return io.netty.internal.tcnative.SSL.isSessionReused(e.sslPointer());
    }
    return false;
  }

  /** A per-handshake counter by its name after the prefix (e.g. {@code ciphers.X}), or 0. */
  public long negotiated(String name) {
    LongAdder a = negotiated.get(prefix + name);
    return a == null ? 0 : a.sum();
  }

  public void connectionError() {
    connectionError.increment();
  }

  public long handshakes() {
    return handshake.sum();
  }

  public long connectionErrors() {
    return connectionError.sum();
  }

  public long failVerifySan() {
    return failVerifySan.sum();
  }

  public long failVerifyError() {
    return failVerifyError.sum();
  }

  public long sessionReused() {
    return sessionReused.sum();
  }

  /** The counters by full name, for {@code /stats}. */
  public void appendTo(Map<String, Long> out) {
    out.put(prefix + "connection_error", connectionError.sum());
    out.put(prefix + "handshake", handshake.sum());
    out.put(prefix + "session_reused", sessionReused.sum());
    out.put(prefix + "no_certificate", noCertificate.sum());
    out.put(prefix + "fail_verify_no_cert", failVerifyNoCert.sum());
    out.put(prefix + "fail_verify_error", failVerifyError.sum());
    out.put(prefix + "fail_verify_san", failVerifySan.sum());
    negotiated.forEach((k, v) -> out.put(k, v.sum()));
  }
}
