package dev.weft.proxy.net;

import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;

/**
 * A fixed table of common HTTP/1.1 header names, spelt as clients, applications and proxies send
 * them (lower case as Envoy, Istio and HTTP/2-minded servers write them, and capitalised as curl,
 * wrk and browsers do), for the proxy's decoders ({@link Http1ServerCodec}, {@link
 * Http1ClientCodec}): a name read off the wire whose bytes are exactly one of these becomes that
 * shared {@link AsciiString} instead of a new copy, so its hash is computed once per process and
 * its validation (RFC 9110 5.1 token) is done once, here, not per message. The bytes are the
 * wire's, case kept: nothing about the message changes but the instance.
 *
 * <p>All names share one private backing array, which is how {@link #isTableName} knows them by
 * identity; nothing writes to it after class initialisation.
 */
public final class Http1HeaderNames {
  private static final String[] NAMES = {
    // lower case (Envoy, Istio, Netty, most HTTP/2-minded servers)
    "host",
    "user-agent",
    "accept",
    "accept-encoding",
    "accept-language",
    "authorization",
    "cache-control",
    "connection",
    "content-encoding",
    "content-length",
    "content-type",
    "cookie",
    "date",
    "etag",
    "expect",
    "keep-alive",
    "last-modified",
    "location",
    "origin",
    "range",
    "referer",
    "server",
    "set-cookie",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "vary",
    "via",
    "traceparent",
    "tracestate",
    "x-b3-traceid",
    "x-b3-spanid",
    "x-b3-parentspanid",
    "x-b3-sampled",
    "x-content-type-options",
    "x-envoy-attempt-count",
    "x-envoy-decorator-operation",
    "x-envoy-expected-rq-timeout-ms",
    "x-envoy-original-path",
    "x-envoy-peer-metadata",
    "x-envoy-peer-metadata-id",
    "x-envoy-upstream-service-time",
    "x-forwarded-client-cert",
    "x-forwarded-for",
    "x-forwarded-host",
    "x-forwarded-proto",
    "x-request-id",
    // capitalised (curl, wrk, browsers, many servers)
    "Host",
    "User-Agent",
    "Accept",
    "Accept-Encoding",
    "Accept-Language",
    "Authorization",
    "Cache-Control",
    "Connection",
    "Content-Encoding",
    "Content-Length",
    "Content-Type",
    "Cookie",
    "Date",
    "ETag",
    "Expect",
    "Keep-Alive",
    "Last-Modified",
    "Location",
    "Origin",
    "Range",
    "Referer",
    "Server",
    "Set-Cookie",
    "Transfer-Encoding",
    "Upgrade",
    "Vary",
    "Via",
    "X-Content-Type-Options",
    "X-Forwarded-For",
    "X-Forwarded-Proto",
    "X-Request-Id",
  };

  private static final int MAX_LENGTH = 32;

  /** Every name's bytes, one after the other: the names' shared backing array. */
  private static final byte[] BYTES;

  /** Open addressing by {@link #slot}, linear probing; a quarter full at most. */
  private static final AsciiString[] SLOTS = new AsciiString[512];

  static {
    int total = 0;
    for (String n : NAMES) {
      total += n.length();
    }
    BYTES = new byte[total];
    AsciiString[] all = new AsciiString[NAMES.length];
    int offset = 0;
    for (int i = 0; i < NAMES.length; i++) {
      byte[] b = NAMES[i].getBytes(StandardCharsets.US_ASCII);
      if (b.length > MAX_LENGTH) {
        throw new ExceptionInInitializerError("header name longer than " + MAX_LENGTH);
      }
      for (byte c : b) {
        if (!token(c)) {
          throw new ExceptionInInitializerError("not a token: " + NAMES[i]);
        }
      }
      System.arraycopy(b, 0, BYTES, offset, b.length);
      all[i] = new AsciiString(BYTES, offset, b.length, false);
      offset += b.length;
    }
    if (NAMES.length * 4 > SLOTS.length) {
      throw new ExceptionInInitializerError("table too full");
    }
    for (AsciiString a : all) {
      a.hashCode(); // computed once, cached in the instance
      int h = slot(a.array(), a.arrayOffset(), a.length());
      while (SLOTS[h] != null) {
        h = (h + 1) & (SLOTS.length - 1);
      }
      SLOTS[h] = a;
    }
  }

  private Http1HeaderNames() {}

  /**
   * The table's name whose bytes are {@code sb[start, start + length)}, exactly (case included), or
   * null.
   */
  public static AsciiString find(byte[] sb, int start, int length) {
    if (length == 0 || length > MAX_LENGTH) {
      return null;
    }
    int h = slot(sb, start, length);
    AsciiString a;
    while ((a = SLOTS[h]) != null) {
      if (a.length() == length && same(a.arrayOffset(), sb, start, length)) {
        return a;
      }
      h = (h + 1) & (SLOTS.length - 1);
    }
    return null;
  }

  private static int slot(byte[] b, int start, int length) {
    int h = length;
    h = h * 31 + b[start];
    h = h * 31 + b[start + (length >> 1)];
    h = h * 31 + b[start + length - 1];
    return (h ^ (h >>> 9)) & (SLOTS.length - 1);
  }

  private static boolean same(int offset, byte[] sb, int start, int length) {
    for (int i = 0; i < length; i++) {
      if (BYTES[offset + i] != sb[start + i]) {
        return false;
      }
    }
    return true;
  }

  /** The table's names (for tests). */
  static java.util.List<AsciiString> names() {
    java.util.List<AsciiString> all = new java.util.ArrayList<>();
    for (AsciiString a : SLOTS) {
      if (a != null) {
        all.add(a);
      }
    }
    return all;
  }

  /** Whether {@code name} is one of the table's instances (already checked to be a token). */
  public static boolean isTableName(AsciiString name) {
    return name.array() == BYTES;
  }

  /** RFC 9110 5.6.2 tchar. */
  private static boolean token(byte c) {
    return (c >= 'a' && c <= 'z')
        || (c >= 'A' && c <= 'Z')
        || (c >= '0' && c <= '9')
        || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
  }
}
