package dev.weft.cli.common;

/**
 * An error the user can act on; {@link Weft} prints its message as {@code error: <message>} on
 * standard error and exits with status 1, without a stack trace.
 */
public final class CliException extends RuntimeException {
  public CliException(String message) {
    super(message);
  }

  public CliException(String message, Throwable cause) {
    super(message, cause);
  }
}
