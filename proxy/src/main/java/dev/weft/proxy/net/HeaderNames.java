package dev.weft.proxy.net;

import io.netty.handler.codec.DefaultHeaders.NameValidator;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.util.AsciiString;
import java.util.Arrays;

/**
 * The header names the proxy sets itself, validated once when made and then trusted by the maps of
 * {@link Http1Headers#HEADERS} (whose name validator skips them: {@link #trusted}), and shared with
 * the HTTP/1.1 decoders, which give a name read from the wire this class's instance when its bytes
 * are exactly one of these (so that the proxy's lookups with the constants end at an identity
 * comparison, and every connection's maps hold the same hot objects).
 *
 * <p>How trust is decided: every name made here is a view of one private array, {@code POOL}, all
 * of whose bytes are RFC 9110 5.6.2 tchars at all times (it starts filled with {@code 'x'}, and
 * only names that passed Netty's name validation are copied into it). A non-empty {@link
 * AsciiString} whose {@link AsciiString#array()} is that array is therefore a valid token whatever
 * its offset and length (a {@code subSequence} of one too), and nothing from the network is ever
 * written into it: names the decoders read are trusted only when they are these instances. Names
 * past the pool's room are still made, as ordinary {@code AsciiString}s the maps validate on every
 * set. The pool's bytes must not be written through {@code array()} (no code in the proxy writes an
 * {@code AsciiString}'s array).
 */
public final class HeaderNames {
  /** The pool's room: the proxy's own names take about 1 KiB. */
  static final int POOL_BYTES = 4096;

  private static final byte[] POOL = new byte[POOL_BYTES];

  private static final NameValidator<CharSequence> NETTY =
      DefaultHttpHeadersFactory.headersFactory().getNameValidator();

  private static final int SLOTS = 256;

  static {
    Arrays.fill(POOL, (byte) 'x');
  }

  /** Pool bytes used; guarded by the class. */
  private static int used;

  /** The names made, by their bytes' hash (open addressing); replaced whole, never written. */
  private static volatile AsciiString[] table = new AsciiString[SLOTS];

  private static int count;

  // Names the proxy sets on the request path (docs/architecture.md's proxy rows name the setters).
  public static final AsciiString HOST = of("host");
  public static final AsciiString CONTENT_LENGTH = of("content-length");
  public static final AsciiString CONNECTION = of("connection");
  public static final AsciiString TE = of("te");
  public static final AsciiString SERVER = of("server");
  public static final AsciiString X_REQUEST_ID = of("x-request-id");
  public static final AsciiString X_FORWARDED_PROTO = of("x-forwarded-proto");
  public static final AsciiString X_ENVOY_ORIGINAL_PATH = of("x-envoy-original-path");
  public static final AsciiString X_ENVOY_EXPECTED_RQ_TIMEOUT_MS =
      of("x-envoy-expected-rq-timeout-ms");
  public static final AsciiString X_ENVOY_UPSTREAM_SERVICE_TIME =
      of("x-envoy-upstream-service-time");

  /** Istio's metadata exchange (istio/proxy {@code metadata_exchange}). */
  public static final AsciiString X_ENVOY_PEER_METADATA = of("x-envoy-peer-metadata");

  public static final AsciiString X_ENVOY_PEER_METADATA_ID = of("x-envoy-peer-metadata-id");

  // Names common on the wire, so that every connection's decoder shares their instances.
  static {
    for (String n :
        new String[] {
          "user-agent",
          "accept",
          "accept-encoding",
          "accept-language",
          "content-type",
          "content-encoding",
          "date",
          "cache-control",
          "authorization",
          "cookie",
          "set-cookie",
          "origin",
          "referer",
          "location",
          "vary",
          "etag",
          "last-modified",
          "x-content-type-options",
          "x-forwarded-for",
          "traceparent",
          "tracestate",
          "x-b3-traceid",
          "x-b3-spanid",
          "x-b3-parentspanid",
          "x-b3-sampled",
          "Host",
          "User-Agent",
          "Accept",
          "Content-Type",
          "Content-Length",
          "Date",
          "Connection",
          "Server",
          "X-Content-Type-Options"
        }) {
      of(n);
    }
  }

  private HeaderNames() {}

  /**
   * The trusted name {@code name}: the same instance for the same string, validated here once
   * (Netty's header name validation: RFC 9110 5.1 token).
   *
   * @throws IllegalArgumentException if {@code name} is not a valid header name
   */
  public static synchronized AsciiString of(String name) {
    NETTY.validateName(name);
    byte[] bytes = name.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
    AsciiString known = find(bytes, 0, bytes.length);
    if (known != null) {
      return known;
    }
    if (used + bytes.length > POOL_BYTES || count >= SLOTS / 2) {
      return new AsciiString(bytes, false); // validated by the maps on every set
    }
    // Every byte copied in is a tchar: validated above.
    System.arraycopy(bytes, 0, POOL, used, bytes.length);
    AsciiString made = new AsciiString(POOL, used, bytes.length, false);
    made.hashCode(); // computed once, before it is shared
    used += bytes.length;
    AsciiString[] t = table.clone();
    int i = hash(bytes, 0, bytes.length) & (SLOTS - 1);
    while (t[i] != null) {
      i = (i + 1) & (SLOTS - 1);
    }
    t[i] = made;
    count++;
    table = t;
    return made;
  }

  /**
   * Whether {@code name} is one of this class's pooled names (or a non-empty part of one): a valid
   * header name, not to be validated again.
   */
  public static boolean trusted(CharSequence name) {
    return name instanceof AsciiString a && a.array() == POOL && !a.isEmpty();
  }

  /** The name made here whose bytes are exactly {@code b[from, to)} (case too), or null. */
  static AsciiString find(byte[] b, int from, int to) {
    AsciiString[] t = table;
    int length = to - from;
    for (int i = hash(b, from, to) & (SLOTS - 1); ; i = (i + 1) & (SLOTS - 1)) {
      AsciiString a = t[i];
      if (a == null) {
        return null;
      }
      if (a.length() == length
          && Arrays.equals(a.array(), a.arrayOffset(), a.arrayOffset() + length, b, from, to)) {
        return a;
      }
    }
  }

  private static int hash(byte[] b, int from, int to) {
    int h = to - from;
    for (int i = from; i < to; i++) {
      h = 31 * h + b[i];
    }
    return h ^ (h >>> 11);
  }

  /**
   * A name validator that skips {@link #trusted} names and hands every other name to {@code
   * delegate}.
   */
  static NameValidator<CharSequence> trusting(NameValidator<CharSequence> delegate) {
    return n -> {
      if (!trusted(n)) {
        delegate.validateName(n);
      }
    };
  }
}
