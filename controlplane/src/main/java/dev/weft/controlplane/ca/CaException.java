package dev.weft.controlplane.ca;

/** A request the CA refuses, or CA material it cannot use; the message says why (no secrets). */
public final class CaException extends Exception {
  public CaException(String message) {
    super(message);
  }

  public CaException(String message, Throwable cause) {
    super(message, cause);
  }
}
