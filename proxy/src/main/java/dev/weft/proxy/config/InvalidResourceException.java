package dev.weft.proxy.config;

/** A resource that failed validation; its message becomes the NACK's {@code error_detail}. */
public final class InvalidResourceException extends Exception {
  public InvalidResourceException(String message) {
    super(message);
  }
}
