package dev.weft.proxy.http.filter;

import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;

/**
 * gRPC over HTTP (the gRPC HTTP/2 protocol spec, PROTOCOL-HTTP2.md) as the proxy needs it: which
 * requests are gRPC, the {@code grpc-status} of a response (headers of a trailers-only response, or
 * trailers), Envoy's gRPC local reply, and the {@code grpc-timeout} header.
 */
public final class Grpc {
  public static final AsciiString GRPC_STATUS = AsciiString.cached("grpc-status");
  public static final AsciiString GRPC_MESSAGE = AsciiString.cached("grpc-message");
  public static final AsciiString GRPC_TIMEOUT = AsciiString.cached("grpc-timeout");
  private static final AsciiString APPLICATION_GRPC = AsciiString.cached("application/grpc");

  public static final int CANCELLED = 1;
  public static final int UNKNOWN = 2;
  public static final int DEADLINE_EXCEEDED = 4;
  public static final int PERMISSION_DENIED = 7;
  public static final int RESOURCE_EXHAUSTED = 8;
  public static final int UNIMPLEMENTED = 12;
  public static final int INTERNAL = 13;
  public static final int UNAVAILABLE = 14;
  public static final int UNAUTHENTICATED = 16;

  private Grpc() {}

  /** Whether {@code h} (request headers) is gRPC: {@code content-type: application/grpc[+...]}. */
  public static boolean isGrpc(HttpHeaders h) {
    String ct = h.get(HttpHeaderNames.CONTENT_TYPE);
    return ct != null
        && ct.regionMatches(true, 0, "application/grpc", 0, 16)
        && (ct.length() == 16 || ct.charAt(16) == '+' || ct.charAt(16) == ';');
  }

  /** The {@code grpc-status} in {@code h}, or -1 when absent or not a number. */
  public static int status(HttpHeaders h) {
    String s = h.get(GRPC_STATUS);
    if (s == null || s.isEmpty() || s.length() > 3) {
      return -1;
    }
    int v = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      v = v * 10 + (c - '0');
    }
    return v;
  }

  /** Notes the {@code grpc-status} in {@code h}, if any, in {@code info}. */
  public static void recordStatus(StreamInfo info, HttpHeaders h) {
    if (h.isEmpty()) {
      return;
    }
    int s = status(h);
    if (s >= 0) {
      info.grpcStatus(s);
    }
  }

  /**
   * Envoy's {@code Grpc::Utility::grpcToHttpStatus}: the HTTP status a gRPC status stands for (what
   * outlier detection hears of a trailers-only gRPC response, as Envoy's router reports it).
   */
  public static int grpcToHttp(int grpcStatus) {
    return switch (grpcStatus) {
      case 0 -> 200;
      case 1 -> 499;
      case 3, 9, 11 -> 400;
      case 4 -> 504;
      case 5 -> 404;
      case 6, 10 -> 409;
      case 7 -> 403;
      case 8 -> 429;
      case 12 -> 501;
      case 14 -> 503;
      case 16 -> 401;
      default -> 500;
    };
  }

  /** Envoy's {@code Grpc::Utility::httpToGrpcStatus}. */
  public static int httpToGrpc(int httpStatus) {
    return switch (httpStatus) {
      case 400 -> INTERNAL;
      case 401 -> UNAUTHENTICATED;
      case 403 -> PERMISSION_DENIED;
      case 404 -> UNIMPLEMENTED;
      case 429, 502, 503, 504 -> UNAVAILABLE;
      default -> UNKNOWN;
    };
  }

  /**
   * Envoy's local reply to a gRPC request: a trailers-only response, HTTP 200 with {@code
   * content-type: application/grpc}, {@code grpc-status} mapped from {@code httpStatus} and the
   * body as {@code grpc-message} (percent-encoded, as the spec requires). The caller owns it.
   */
  public static FullHttpResponse localReply(int httpStatus, String body) {
    FullHttpResponse r =
        new DefaultFullHttpResponse(
            HttpVersion.HTTP_1_1, HttpResponseStatus.OK, Unpooled.EMPTY_BUFFER);
    HttpHeaders h = r.headers();
    h.set(HttpHeaderNames.CONTENT_TYPE, APPLICATION_GRPC);
    h.set(GRPC_STATUS, Integer.toString(httpToGrpc(httpStatus)));
    if (!body.isEmpty()) {
      h.set(GRPC_MESSAGE, percentEncode(body));
    }
    h.set(HttpHeaderNames.CONTENT_LENGTH, 0);
    return r;
  }

  /** The spec's grpc-message encoding: bytes outside printable ASCII, and '%', as %XX. */
  static String percentEncode(String s) {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    StringBuilder sb = new StringBuilder(b.length);
    for (byte x : b) {
      int c = x & 0xff;
      if (c >= 0x20 && c <= 0x7e && c != '%') {
        sb.append((char) c);
      } else {
        sb.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)));
        sb.append(Character.toUpperCase(Character.forDigit(c & 0xf, 16)));
      }
    }
    return sb.toString();
  }

  /**
   * The {@code grpc-timeout} header in milliseconds (rounded up), or -1 when absent or malformed:
   * at most 8 digits and a unit, {@code H M S m u n} (hours to nanoseconds).
   */
  public static long timeoutMillis(HttpHeaders h) {
    String t = h.get(GRPC_TIMEOUT);
    if (t == null || t.length() < 2 || t.length() > 9) {
      return -1;
    }
    long v = 0;
    for (int i = 0; i < t.length() - 1; i++) {
      char c = t.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      v = v * 10 + (c - '0');
    }
    return switch (t.charAt(t.length() - 1)) {
      case 'H' -> v * 3_600_000;
      case 'M' -> v * 60_000;
      case 'S' -> v * 1000;
      case 'm' -> v;
      case 'u' -> (v + 999) / 1000;
      case 'n' -> (v + 999_999) / 1_000_000;
      default -> -1;
    };
  }
}
