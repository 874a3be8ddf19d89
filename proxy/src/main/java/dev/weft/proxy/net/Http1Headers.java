package dev.weft.proxy.net;

import io.netty.handler.codec.DefaultHeaders.ValueValidator;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpHeadersFactory;
import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;

/**
 * The header maps of the proxy's HTTP/1.1 decoders (the listeners' {@code HttpServerCodec}, the
 * upstream pool's {@code HttpClientCodec}): Netty's validating headers, name and value checked as
 * Netty's default does (RFC 9110 5.1 token names; 5.5 values without CR, LF or NUL), with three
 * cuts measured on the latency pair (docs/benchmarks.md):
 *
 * <ul>
 *   <li>values added as Strings (every value the decoder reads: Netty makes a String of each) are
 *       kept as {@link AsciiString}s of their ISO-8859-1 bytes, so that the encoder that forwards
 *       the message copies each value's bytes at once instead of writing it a char at a time (the
 *       bytes on the wire are the same: Netty's encoder writes a char above 0xFF as {@code ?}, as
 *       ISO-8859-1's encoder does); reading one back as a String makes that String once;
 *   <li>a long {@link AsciiString} value that the proxy sets again and again (its own constants:
 *       Istio's {@code x-envoy-peer-metadata}, hundreds of bytes on every request and response) is
 *       validated until it is seen a second time, then remembered by identity and not scanned
 *       again; a value read from the wire is a new instance each time and so always checked;
 *   <li>trailers (a decoded message's end, {@code LastHttpContent}) start as Netty's small "empty"
 *       map: almost every message has none, and each end of a response had a 16-bucket map.
 * </ul>
 *
 * <p>An {@code AsciiString} remembered here must not be changed afterwards (none in the proxy are:
 * they are built once from configuration).
 */
public final class Http1Headers {
  /** Shorter values are cheaper to check than to look up. */
  static final int REMEMBERED_LENGTH = 64;

  private static final ValueValidator<CharSequence> VALUES =
      new KnownValues(DefaultHttpHeadersFactory.headersFactory().getValueValidator());

  /** Message headers: Netty's default validation, String values kept as bytes. */
  public static final HttpHeadersFactory HEADERS =
      new Latin1(DefaultHttpHeadersFactory.headersFactory().withValueValidator(VALUES), 16);

  /** Trailers: Netty's trailer validation (no Content-Length, Transfer-Encoding, Trailer). */
  public static final HttpHeadersFactory TRAILERS =
      new Latin1(DefaultHttpHeadersFactory.trailersFactory().withValueValidator(VALUES), 2);

  private Http1Headers() {}

  /**
   * Netty's value validation that skips {@code AsciiString} instances it accepted before and saw a
   * second time, by identity, from two small racy rings (a stale read or a lost write only means
   * one more validation): one of instances seen once, one of instances seen again.
   */
  static final class KnownValues implements ValueValidator<CharSequence> {
    private static final int SLOTS = 8;
    private final ValueValidator<CharSequence> delegate;
    private final AsciiString[] seenOnce = new AsciiString[SLOTS];
    private final AsciiString[] accepted = new AsciiString[SLOTS];
    private int nextSeen;
    private int nextAccepted;

    KnownValues(ValueValidator<CharSequence> delegate) {
      this.delegate = delegate;
    }

    @Override
    public void validate(CharSequence value) {
      if (!(value instanceof AsciiString a) || a.length() < REMEMBERED_LENGTH) {
        delegate.validate(value);
        return;
      }
      if (contains(accepted, a)) {
        return;
      }
      delegate.validate(value); // throws on a bad value, which is never remembered
      if (contains(seenOnce, a)) {
        accepted[nextAccepted++ & (SLOTS - 1)] = a;
      } else {
        seenOnce[nextSeen++ & (SLOTS - 1)] = a;
      }
    }

    private static boolean contains(AsciiString[] ring, AsciiString a) {
      for (int i = 0; i < SLOTS; i++) {
        if (ring[i] == a) {
          return true;
        }
      }
      return false;
    }

    /** Whether {@code value} is remembered as valid (for tests). */
    boolean remembers(AsciiString value) {
      return contains(accepted, value);
    }
  }

  /**
   * Netty's {@code DefaultHttpHeaders} whose String values are kept as {@link AsciiString}s of
   * their ISO-8859-1 bytes (and validated as such, by the same validator).
   */
  static final class Latin1Headers extends DefaultHttpHeaders {
    Latin1Headers(DefaultHttpHeadersFactory f, int sizeHint) {
      super(f.getNameValidator(), f.getValueValidator(), sizeHint);
    }

    @Override
    public HttpHeaders add(CharSequence name, Object value) {
      return super.add(name, bytesOf(value));
    }

    @Override
    public HttpHeaders add(String name, Object value) {
      return super.add(name, bytesOf(value));
    }

    @Override
    public HttpHeaders set(CharSequence name, Object value) {
      return super.set(name, bytesOf(value));
    }

    @Override
    public HttpHeaders set(String name, Object value) {
      return super.set(name, bytesOf(value));
    }

    private static Object bytesOf(Object value) {
      return value instanceof String s
          ? new AsciiString(s.getBytes(StandardCharsets.ISO_8859_1), false)
          : value;
    }
  }

  /** A factory of {@link Latin1Headers} with {@code f}'s validators; new maps of {@code size}. */
  private record Latin1(DefaultHttpHeadersFactory f, int size) implements HttpHeadersFactory {
    @Override
    public HttpHeaders newHeaders() {
      return new Latin1Headers(f, size);
    }

    @Override
    public HttpHeaders newEmptyHeaders() {
      return new Latin1Headers(f, 2);
    }
  }
}
