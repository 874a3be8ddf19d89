package dev.weft.proxy.net;

import io.netty.handler.codec.DefaultHeaders.ValueValidator;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.util.AsciiString;

/**
 * The header maps of the proxy's HTTP/1.1 decoders (the listeners' {@code HttpServerCodec}, the
 * upstream pool's {@code HttpClientCodec}): messages' headers are {@link FlatHttpHeaders} (one
 * array of fields, not Netty's hash table of linked entries), and so are trailers; name and value
 * checked as Netty's default does (RFC 9110 5.1 token names; 5.5 values without CR, LF or NUL),
 * with three cuts measured on the latency pair:
 *
 * <ul>
 *   <li>the proxy's own header names ({@link HeaderNames}, validated once when made) are not
 *       validated again on each set into a message's map; every other name is (trailers' maps trust
 *       none: their validator also refuses framing fields);
 *   <li>a long {@link AsciiString} value that passed validation once is not scanned again when the
 *       proxy sets the same instance on the next request (the proxy's own constants: Istio's {@code
 *       x-envoy-peer-metadata}, hundreds of bytes set on every request and response); values read
 *       from the wire are Strings and always checked, as are short ones;
 *   <li>trailers (a decoded message's end, {@code LastHttpContent}) start without an array: almost
 *       every message has none, and each end of a response had a 16-bucket map.
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

  /**
   * Message headers: Netty's default validation, the proxy's own names ({@link HeaderNames})
   * trusted, long known values checked once.
   */
  public static final FlatHttpHeaders.Factory HEADERS =
      FlatHttpHeaders.factory(
          HeaderNames.trusting(DefaultHttpHeadersFactory.headersFactory().getNameValidator()),
          VALUES);

  /** Trailers: Netty's trailer validation (no Content-Length, Transfer-Encoding, Trailer). */
  public static final FlatHttpHeaders.Factory TRAILERS =
      FlatHttpHeaders.factory(
              DefaultHttpHeadersFactory.trailersFactory().getNameValidator(), VALUES)
          .withRoom(0);

  private Http1Headers() {}

  /**
   * Netty's value validation that skips {@code AsciiString} instances it already accepted, by
   * identity, from a small racy cache: a stale or torn-free miss only validates again.
   */
  static final class KnownValues implements ValueValidator<CharSequence> {
    private static final int SLOTS = 8;
    private final ValueValidator<CharSequence> delegate;
    private final AsciiString[] accepted = new AsciiString[SLOTS];
    private int next;

    KnownValues(ValueValidator<CharSequence> delegate) {
      this.delegate = delegate;
    }

    @Override
    public void validate(CharSequence value) {
      if (!(value instanceof AsciiString a) || a.length() < REMEMBERED_LENGTH) {
        delegate.validate(value);
        return;
      }
      AsciiString[] known = accepted;
      for (int i = 0; i < SLOTS; i++) {
        if (known[i] == a) {
          return;
        }
      }
      delegate.validate(value); // throws on a bad value, which is never remembered
      known[next++ & (SLOTS - 1)] = a;
    }

    /** Whether {@code value} is remembered (for tests). */
    boolean remembers(AsciiString value) {
      for (AsciiString a : accepted) {
        if (a == value) {
          return true;
        }
      }
      return false;
    }
  }
}
