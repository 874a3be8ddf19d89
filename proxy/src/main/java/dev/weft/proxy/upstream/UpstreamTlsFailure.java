package dev.weft.proxy.upstream;

/**
 * An upstream connection whose TLS could not be set up (handshake failed, peer not verified, or the
 * cluster's secrets are missing): the router answers 503 {@code UF} and logs {@link #reason()} as
 * Envoy's {@code %UPSTREAM_TRANSPORT_FAILURE_REASON%}.
 */
public final class UpstreamTlsFailure extends Exception {
  private final String reason;

  public UpstreamTlsFailure(String reason, Throwable cause) {
    super(reason, cause, false, false);
    this.reason = reason;
  }

  /** {@code TLS_error: ...}, as Envoy's transport failure reasons start. */
  public String reason() {
    return reason;
  }

  /** The reason for {@code cause}, the most specific message in its chain. */
  static String reasonOf(Throwable cause) {
    String msg = null;
    for (Throwable t = cause; t != null; t = t.getCause()) {
      if (t.getMessage() != null) {
        msg = t.getMessage();
        if (t instanceof java.security.cert.CertificateException) {
          break;
        }
      }
    }
    return "TLS_error: " + (msg == null ? String.valueOf(cause) : msg);
  }
}
