package dev.weft.proxy.tls;

import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * Envoy's TLS counters of one listener or cluster ({@code listener.<name>.ssl.*}, {@code
 * cluster.<name>.ssl.*}): {@code connection_error} (a handshake that failed), {@code handshake}
 * (one that succeeded), {@code session_reused}, {@code no_certificate} (a downstream peer that sent
 * none), {@code fail_verify_no_cert}, {@code fail_verify_error} (the chain does not lead to a
 * trusted root) and {@code fail_verify_san} (no subject alt name matched). Lock free.
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

  public void handshake(boolean reused, boolean peerCertificate) {
    handshake.increment();
    if (reused) {
      sessionReused.increment();
    }
    if (!peerCertificate) {
      noCertificate.increment();
    }
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
  }
}
