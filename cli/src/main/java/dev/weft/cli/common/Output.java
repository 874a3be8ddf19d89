package dev.weft.cli.common;

import dev.weft.api.ResourceKind;
import dev.weft.api.ValidationError;
import java.io.PrintWriter;
import java.util.List;

/**
 * The wording several commands share: validation errors as {@code error: ...} lines, kubectl's
 * {@code not found}, and a proxy's NACK reason as {@code proxy-status} and {@code apply --wait}
 * print it.
 */
public final class Output {
  private Output() {}

  /** One {@code error: ...} line per validation error, as {@code apply}, {@code delete} print. */
  public static void printErrors(PrintWriter err, List<ValidationError> errors) {
    for (ValidationError e : errors) {
      err.println("error: " + e);
    }
  }

  /** kubectl's {@code virtualservices.networking.istio.io "podinfo" not found}. */
  public static String notFound(ResourceKind kind, String name) {
    String plural = kind.group().isEmpty() ? kind.plural() : kind.plural() + "." + kind.group();
    return plural + " \"" + name + "\" not found";
  }

  /**
   * A NACK's {@code error_detail} as {@code INVALID_ARGUMENT: message}; just the message when the
   * code is 0 (OK, which a NACK should not carry).
   */
  public static String nackReason(int code, String message) {
    return code == 0 ? message : grpcCodeName(code) + ": " + message;
  }

  /** A gRPC status code's name ({@code 3}: {@code INVALID_ARGUMENT}), or the number. */
  public static String grpcCodeName(int code) {
    io.grpc.Status.Code c = io.grpc.Status.fromCodeValue(code).getCode();
    return c.value() == code ? c.name() : Integer.toString(code);
  }
}
