package dev.weft.proxy.tls;

/** A TLS configuration or secret that cannot be used; the message names the field. */
public final class TlsConfigException extends Exception {
  public TlsConfigException(String message) {
    super(message);
  }

  public TlsConfigException(String message, Throwable cause) {
    super(message, cause);
  }
}
