package dev.weft.proxy.net;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.DefaultHeaders.NameValidator;
import io.netty.handler.codec.DefaultHeaders.ValueValidator;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpExpectationFailedEvent;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpHeadersFactory;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/**
 * An HTTP/1.1 decoder of the proxy's codecs ({@link Http1RequestDecoder}, {@link
 * Http1ResponseDecoder}): the common message (RFC 9112: CRLF line ends, no obs-fold, every name a
 * token and every value field-content, framed by at most one plain {@code Content-Length} and no
 * {@code Transfer-Encoding}) parsed in one pass from the buffer and its body read by length;
 * anything else decoded by Netty's decoder (4.2) built from the same configuration.
 *
 * <p>The fast path takes a head only when the whole of it (up to its empty line) is in the buffer,
 * Netty's decoder is between messages, and the head is one Netty's decoder accepts as it is: so
 * Netty's decoder would have produced the same message (the same start line, header names and
 * values, in order) and the same body pieces ({@code maxChunkSize} at most, the last one a {@code
 * LastHttpContent}, the shared {@link LastHttpContent#EMPTY_LAST_CONTENT} for no body), one object
 * per {@code decode} call as it does. Whatever the fast path declines (a head split across reads,
 * chunked bodies, a bad line, a limit reached, leading CRLFs) goes to Netty's decoder, which then
 * keeps every byte until it has ended that message: its failures, limits, chunked bodies, trailers
 * and what it discards after a failure are its own. The one difference a caller can see: a
 * fast-path message's {@code decoderResult()} is {@code DecoderResult.SUCCESS}, not Netty's {@code
 * HttpMessageDecoderResult} (whose constructor is package-private; the proxy reads neither's
 * sizes).
 *
 * <p>Cuts against Netty's decoder, on the profile of the latency pair: no copy of each line into a
 * scratch buffer (heap buffers are read in place, direct ones copied once per head); header names
 * compared first with the name the previous head had at the same line, then looked up in a
 * per-connection table of the names already seen (one {@link AsciiString} per name, its hash
 * computed once) and values of the same name that repeat the previous one reused as the same {@code
 * String}; the map's name and value validation skipped for what this parser checked ({@link
 * FlatHttpHeaders#addChecked}; in Netty's maps by identity, see {@link Vouched}), so that headers
 * the proxy sets later are validated as before; a name whose bytes are exactly one of the proxy's
 * own ({@link HeaderNames}) is read as that shared instance.
 *
 * <p>Buffers: the input is the {@link ByteToMessageDecoder}'s cumulation; bodies are retained
 * slices of it, owned by whoever reads them. Not sharable: one per connection.
 */
abstract class Http1Decoder extends ByteToMessageDecoder {
  /** More header lines than this go to Netty's decoder. */
  private static final int MAX_LINES = 64;

  /** Header names remembered per connection (a power of two). */
  private static final int NAMES = 64;

  /** Values up to this long are remembered to be reused when the next one is the same. */
  private static final int MAX_REMEMBERED_VALUE = 2048;

  /**
   * The bytes of names and values one decoder keeps between heads, at most: past it, the tables
   * start again. Netty's decoder keeps nothing between heads; without a bound, a peer sending new
   * names or long values on one keep-alive connection would have the proxy keep up to 129 names of
   * up to a header block's length each, and a 2 KiB value beside each.
   */
  static final int REMEMBERED_BYTES = 16 * 1024;

  /** RFC 9110 5.6.2 tchar. */
  private static final boolean[] TCHAR = new boolean[128];

  static {
    for (char c = '0'; c <= '9'; c++) {
      TCHAR[c] = true;
    }
    for (char c = 'a'; c <= 'z'; c++) {
      TCHAR[c] = true;
      TCHAR[c - 'a' + 'A'] = true;
    }
    for (char c : "!#$%&'*+-.^_`|~".toCharArray()) {
      TCHAR[c] = true;
    }
  }

  private static final AsciiString CONTENT_LENGTH = AsciiString.cached("content-length");

  /** Names by which Netty's decoder frames a message other than by one Content-Length. */
  private static final AsciiString[] FRAMING = {
    AsciiString.cached("transfer-encoding"),
    AsciiString.cached("sec-websocket-key1"),
    AsciiString.cached("sec-websocket-key2"),
    AsciiString.cached("sec-websocket-origin"),
    AsciiString.cached("sec-websocket-location")
  };

  static final byte[] HTTP_1_ = "HTTP/1.".getBytes(StandardCharsets.US_ASCII);

  /** Netty's decoder for what the fast path does not take. */
  final Delegate netty;

  final HttpHeadersFactory headersFactory;
  private final HttpHeadersFactory trailersFactory;
  private final Vouched vouched;
  private final int maxInitialLineLength;
  private final int maxHeaderSize;
  private final int maxChunkSize;

  /** Netty's decoder has started a message and not ended it: the bytes are its own. */
  private boolean nettyBusy;

  /** Body bytes still to read of a fast-path message (0: between messages). */
  private long remaining;

  private byte[] scratch = new byte[512];
  private final int[] lineEnds = new int[MAX_LINES + 1];
  private final Name[] names = new Name[NAMES];

  /** The name last read at each header line: a connection's messages repeat their order. */
  private final Name[] byLine = new Name[MAX_LINES + 1];

  /** What the remembered names and values hold, counted as {@link #REMEMBERED_BYTES} says. */
  private int rememberedBytes;

  /** The Content-Length of the head being parsed, -1 for none. */
  long contentLength;

  Http1Decoder(HttpDecoderConfig config) {
    netty = delegate(config);
    maxInitialLineLength = config.getMaxInitialLineLength();
    maxHeaderSize = config.getMaxHeaderSize();
    maxChunkSize = config.getMaxChunkSize();
    trailersFactory = config.getTrailersFactory();
    HttpHeadersFactory f = config.getHeadersFactory();
    if (f instanceof FlatHttpHeaders.Factory) {
      vouched = null; // the fast path adds what it checked with FlatHttpHeaders.addChecked
      headersFactory = f;
    } else if (f instanceof DefaultHttpHeadersFactory d) {
      vouched = new Vouched(d.getNameValidator(), d.getValueValidator());
      headersFactory = d.withNameValidator(vouched).withValueValidator(vouched);
    } else {
      vouched = null;
      headersFactory = f;
    }
  }

  /** Netty's decoder of the same direction, built from {@code config}. */
  abstract Delegate delegate(HttpDecoderConfig config);

  /**
   * The message of the start line in {@code b[from, to)} (CRLF excluded), or null to leave it to
   * Netty's decoder.
   */
  abstract HttpMessage startLine(byte[] b, int from, int to);

  /**
   * The body length of {@code message}, whose headers are all read ({@link #contentLength} holds
   * its Content-Length, or -1), or -2 to leave it to Netty's decoder; from here on the message is
   * the fast path's.
   */
  abstract long bodyLength(HttpMessage message);

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
    if (remaining > 0) {
      body(in, out);
      return;
    }
    if (!nettyBusy && head(in, out)) {
      return;
    }
    int from = out.size();
    netty.decodeSome(ctx, in, out);
    // Netty's decoder returns after a message's end, then back at its start (a failure ends
    // nothing: it discards what follows).
    int to = out.size();
    nettyBusy =
        to == from
            || !(out.get(to - 1) instanceof LastHttpContent last)
            || !last.decoderResult().isSuccess();
  }

  /** One piece of a fast-path body (as Netty's {@code READ_FIXED_LENGTH_CONTENT}). */
  private void body(ByteBuf in, List<Object> out) {
    int readable = in.readableBytes();
    if (readable == 0) {
      return;
    }
    int n = (int) Math.min(Math.min(readable, maxChunkSize), remaining);
    ByteBuf content = in.readRetainedSlice(n);
    remaining -= n;
    out.add(
        remaining == 0
            ? new DefaultLastHttpContent(content, trailersFactory)
            : new DefaultHttpContent(content));
  }

  @Override
  protected void decodeLast(ChannelHandlerContext ctx, ByteBuf in, List<Object> out)
      throws Exception {
    super.decodeLast(ctx, in, out); // decodes what is left, as Netty's decodeLast does first
    if (remaining > 0) {
      // A body cut short: Netty's decoder ends it without a LastHttpContent (a request's always,
      // a response's when it had a length).
      remaining = 0;
      return;
    }
    netty.decodeEnd(ctx, out);
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
    if (evt instanceof HttpExpectationFailedEvent) {
      if (remaining > 0) {
        remaining = 0; // as Netty's reset(): the body is not read, what follows is a message
      } else {
        netty.handler().userEventTriggered(ctx, evt); // resets a body being read, passes it on
        return;
      }
    }
    super.userEventTriggered(ctx, evt);
  }

  @Override
  protected void handlerRemoved0(ChannelHandlerContext ctx) throws Exception {
    netty.handler().handlerRemoved(ctx); // its scratch buffer; it holds no cumulation
  }

  /** Decodes a whole head from {@code in}, or returns false having read nothing. */
  private boolean head(ByteBuf in, List<Object> out) {
    int start = in.readerIndex();
    int end = in.writerIndex();
    int first = start < end ? in.getByte(start) & 0xFF : 0;
    if (first <= 0x20 || first >= 0x7F) {
      return false; // leading CRLFs (Netty skips them) or nothing to read
    }
    // The lines: each ends in CRLF; their lengths within Netty's limits (RFC 9112 2.2).
    int lines = 0;
    int pos = start;
    int headerBytes = 0;
    int headEnd;
    while (true) {
      int limit = lines == 0 ? maxInitialLineLength : maxHeaderSize - headerBytes;
      int lf = in.indexOf(pos, (int) Math.min(end, pos + limit + 2L), (byte) '\n');
      if (lf <= pos || in.getByte(lf - 1) != '\r') {
        return false; // incomplete, too long, or a bare LF
      }
      int length = lf - 1 - pos;
      if (length == 0) {
        headEnd = lf + 1;
        break;
      }
      if (length > limit || lines == MAX_LINES) {
        return false;
      }
      if (lines > 0) {
        headerBytes += length;
      }
      lineEnds[lines++] = lf - 1 - start;
      pos = lf + 1;
    }
    byte[] b;
    int base;
    if (in.hasArray()) {
      b = in.array();
      base = in.arrayOffset() + start;
    } else {
      int n = headEnd - start;
      if (scratch.length < n) {
        scratch = new byte[Math.max(n, scratch.length * 2)];
      }
      in.getBytes(start, scratch, 0, n);
      b = scratch;
      base = 0;
    }
    HttpMessage message = startLine(b, base, base + lineEnds[0]);
    contentLength = -1;
    if (message == null || !headers(b, base, lines, message.headers())) {
      return false;
    }
    long length = bodyLength(message);
    if (length < -1) {
      return false;
    }
    in.readerIndex(headEnd);
    out.add(message);
    if (length <= 0) {
      out.add(LastHttpContent.EMPTY_LAST_CONTENT);
    } else {
      remaining = length;
    }
    return true;
  }

  /** Adds the header lines to {@code headers}; false for a line the fast path does not take. */
  private boolean headers(byte[] b, int base, int lines, HttpHeaders headers) {
    Vouched v = vouched;
    FlatHttpHeaders flat = headers instanceof FlatHttpHeaders f ? f : null;
    try {
      for (int i = 1; i < lines; i++) {
        int from = base + lineEnds[i - 1] + 2;
        int to = base + lineEnds[i];
        byte c0 = b[from];
        if (c0 == ' ' || c0 == '\t') {
          return false; // obs-fold (RFC 9112 5.2)
        }
        int colon = from;
        while (colon < to && b[colon] != ':') {
          colon++;
        }
        if (colon == to) {
          return false;
        }
        Name name = byLine[i];
        if (name == null || !Arrays.equals(name.bytes, 0, name.bytes.length, b, from, colon)) {
          name = name(b, from, colon);
          byLine[i] = name;
        }
        if (name == null || name.framing) {
          return false;
        }
        int vs = colon + 1;
        while (vs < to && (b[vs] == ' ' || b[vs] == '\t')) {
          vs++;
        }
        int ve = to;
        while (ve > vs && (b[ve - 1] == ' ' || b[ve - 1] == '\t')) {
          ve--;
        }
        String value = name.value(b, vs, ve);
        if (value == null) {
          return false;
        }
        if (name.contentLength) {
          // One Content-Length of plain digits (RFC 9110 8.6), as Netty's decoder keeps it
          // unchanged; any other shape is Netty's to normalise or refuse.
          if (contentLength >= 0 || ve - vs > 18) {
            return false;
          }
          long n = 0;
          for (int j = vs; j < ve; j++) {
            int d = b[j] - '0';
            if (d < 0 || d > 9 || (d == 0 && j == vs && ve - vs > 1)) {
              return false;
            }
            n = n * 10 + d;
          }
          contentLength = n;
        }
        if (flat != null) {
          flat.addChecked(name.name, value);
          continue;
        }
        if (v != null) {
          v.name = name.name;
          v.value = value;
        }
        headers.add(name.name, value);
      }
      return true;
    } finally {
      if (v != null) {
        v.name = null;
        v.value = null;
      }
    }
  }

  /** The name in {@code b[from, to)} (a token: RFC 9110 5.1), remembered, or null. */
  private Name name(byte[] b, int from, int to) {
    int length = to - from;
    if (length == 0) {
      return null;
    }
    int h = length;
    for (int i = from; i < to; i++) {
      h = 31 * h + b[i];
    }
    int slot = (h ^ (h >>> 7)) & (NAMES - 1);
    Name n = names[slot];
    if (n != null && Arrays.equals(n.bytes, 0, n.bytes.length, b, from, to)) {
      return n;
    }
    int other = slot ^ 1;
    Name o = names[other];
    if (o != null && Arrays.equals(o.bytes, 0, o.bytes.length, b, from, to)) {
      return o;
    }
    for (int i = from; i < to; i++) {
      int c = b[i];
      if (c < 0 || !TCHAR[c]) {
        return null;
      }
    }
    if (rememberedBytes + length > REMEMBERED_BYTES) {
      forget();
      n = null;
      o = null;
    }
    rememberedBytes += length;
    Name created = new Name(Arrays.copyOfRange(b, from, to));
    names[n == null || o != null ? slot : other] = created;
    return created;
  }

  /** Lets go of every remembered name and value (the heads that follow remember theirs again). */
  private void forget() {
    Arrays.fill(names, null);
    Arrays.fill(byLine, null);
    rememberedBytes = 0;
  }

  /** For tests: the bytes the remembered names and values hold. */
  int rememberedBytes() {
    return rememberedBytes;
  }

  /** A header name seen on this connection, and the last value read for it. */
  private final class Name {
    final byte[] bytes;
    final AsciiString name;
    final boolean contentLength;

    /** Transfer-Encoding or a WebSocket key: Netty's decoder frames by them. */
    final boolean framing;

    private byte[] value = new byte[0];
    private int valueLength = -1;
    private String valueString;

    Name(byte[] bytes) {
      this.bytes = bytes;
      // The proxy's own instance when the bytes are one of its names (shared by every
      // connection; its lookups then compare by identity), else one of this connection's.
      AsciiString known = HeaderNames.find(bytes, 0, bytes.length);
      this.name = known != null ? known : new AsciiString(bytes, false); // never written
      this.contentLength = CONTENT_LENGTH.contentEqualsIgnoreCase(name);
      boolean f = false;
      for (AsciiString a : FRAMING) {
        f |= a.contentEqualsIgnoreCase(name);
      }
      this.framing = f;
    }

    /** The value in {@code b[from, to)}, trimmed of OWS, or null if not field-content. */
    String value(byte[] b, int from, int to) {
      int length = to - from;
      if (length == 0) {
        return "";
      }
      if (length == valueLength && Arrays.equals(value, 0, length, b, from, to)) {
        return valueString;
      }
      // RFC 9110 5.5 field-content: VCHAR, obs-text, SP and HTAB inside (the ends are not OWS).
      for (int i = from; i < to; i++) {
        int c = b[i] & 0xFF;
        if (c < 0x20 && c != '\t' || c == 0x7F) {
          return null;
        }
      }
      String s = latin1(b, from, to);
      if (length <= MAX_REMEMBERED_VALUE) {
        if (value.length < length) {
          // the bytes and the String's, both kept
          int grown = Math.max(length, 32);
          int more = 2 * (grown - value.length);
          if (rememberedBytes + more > REMEMBERED_BYTES) {
            return s; // past the bound: this name's value is not remembered
          }
          rememberedBytes += more;
          value = new byte[grown];
        }
        System.arraycopy(b, from, value, 0, length);
        valueLength = length;
        valueString = s;
      }
      return s;
    }
  }

  /**
   * The bytes {@code b[from, to)} as a String, one char per byte (one Latin-1 copy, as Netty's).
   */
  @SuppressWarnings("deprecation") // String(byte[], int, int, int)
  static String latin1(byte[] b, int from, int to) {
    return new String(b, 0, from, to - from);
  }

  /** {@code HTTP/1.1} or {@code HTTP/1.0} in {@code b[from, from + 8)}, or null. */
  static HttpVersion version(byte[] b, int from) {
    if (!Arrays.equals(b, from, from + 7, HTTP_1_, 0, 7)) {
      return null;
    }
    return switch (b[from + 7]) {
      case '1' -> HttpVersion.HTTP_1_1;
      case '0' -> HttpVersion.HTTP_1_0;
      default -> null;
    };
  }

  /** Whether {@code b[from, to)} holds the bytes of {@code s}. */
  static boolean same(AsciiString s, byte[] b, int from, int to) {
    return s.length() == to - from
        && Arrays.equals(s.array(), s.arrayOffset(), s.arrayOffset() + s.length(), b, from, to);
  }

  /**
   * The map's validators with one exception: the name and the value this decoder is adding, which
   * it has checked itself; the instances are immutable, so skipping them is right whoever adds
   * them. Everything else (what the proxy sets later) is validated by the factory's own.
   */
  private static final class Vouched
      implements NameValidator<CharSequence>, ValueValidator<CharSequence> {
    private final NameValidator<CharSequence> names;
    private final ValueValidator<CharSequence> values;
    CharSequence name;
    CharSequence value;

    Vouched(NameValidator<CharSequence> names, ValueValidator<CharSequence> values) {
      this.names = names;
      this.values = values;
    }

    @Override
    public void validateName(CharSequence n) {
      if (n != name || n == null) {
        names.validateName(n);
      }
    }

    @Override
    public void validate(CharSequence v) {
      if (v != value || v == null) {
        values.validate(v);
      }
    }
  }

  /**
   * Netty's decoder, driven from here (its {@code decode} and {@code decodeLast} are protected).
   */
  interface Delegate {
    void decodeSome(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception;

    /** Netty's end of input after its last decode: a message cut short fails or ends. */
    default void decodeEnd(ChannelHandlerContext ctx, List<Object> out) throws Exception {
      decodeLast(ctx, Unpooled.EMPTY_BUFFER, out);
    }

    void decodeLast(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception;

    ByteToMessageDecoder handler();
  }

  /** For tests: whether {@code o} came from the fast path (its result is the shared success). */
  static boolean fromFastPath(HttpObject o) {
    return o instanceof HttpMessage && o.decoderResult() == DecoderResult.SUCCESS;
  }
}
