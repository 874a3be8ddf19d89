package dev.weft.proxy.net;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.DefaultHeaders.NameValidator;
import io.netty.handler.codec.DefaultHeaders.ValueValidator;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpExpectationFailedEvent;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpHeadersFactory;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.AsciiString;
import java.util.Arrays;
import java.util.List;

/**
 * The request decoder of {@link Http1ServerCodec}: the common request (a bodiless head, RFC 9112
 * 6.3 rule 7: no Content-Length, no Transfer-Encoding, CRLF line ends, no obs-fold, every name a
 * token and every value field-content) parsed in one pass from the buffer, anything else decoded by
 * Netty's {@code HttpRequestDecoder} (4.2) built from the same configuration.
 *
 * <p>The fast path takes a head only when the whole of it (up to its empty line) is in the buffer,
 * Netty's decoder is between messages, and the head is one Netty's decoder accepts as it is: so
 * Netty's decoder would have produced the same request (the same method, URI, version, header names
 * and values, in order) and the same shared {@link LastHttpContent#EMPTY_LAST_CONTENT} in the same
 * {@code decode} call. Whatever the fast path declines (a head split across reads, a body, a bad
 * line, a limit reached, leading CRLFs) goes to Netty's decoder, which then keeps every byte until
 * it has ended that message: its failures, limits, chunked bodies, trailers and what it discards
 * after a failure are its own. The one difference a caller can see: a fast-path request's {@code
 * decoderResult()} is {@code DecoderResult.SUCCESS}, not Netty's {@code HttpMessageDecoderResult}
 * (whose constructor is package-private; the proxy reads neither's sizes).
 *
 * <p>Cuts against Netty's decoder, on the profile of the latency pair: no copy of each line into a
 * scratch buffer (heap buffers are read in place, direct ones copied once per head); header names
 * looked up in a per-connection table of the names already seen (one {@link AsciiString} per name,
 * its hash computed once) and values of the same name that repeat the previous one reused as the
 * same {@code String}; the map's name and value validation skipped for what this parser checked (by
 * identity, see {@link Vouched}), so that headers the proxy sets later are validated as before.
 *
 * <p>Buffers: the input is the {@link ByteToMessageDecoder}'s cumulation; nothing here is retained.
 * Not sharable: one per connection.
 */
class Http1RequestDecoder extends ByteToMessageDecoder {
  /** More header lines than this go to Netty's decoder. */
  private static final int MAX_LINES = 64;

  /** Header names remembered per connection (a power of two). */
  private static final int NAMES = 32;

  /** Values up to this long are remembered to be reused when the next one is the same. */
  private static final int MAX_REMEMBERED_VALUE = 2048;

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

  private static final AsciiString[] FRAMING = {
    AsciiString.cached("content-length"),
    AsciiString.cached("transfer-encoding"),
    AsciiString.cached("sec-websocket-key1"),
    AsciiString.cached("sec-websocket-key2")
  };

  private static final HttpMethod[] METHODS = {
    HttpMethod.GET,
    HttpMethod.POST,
    HttpMethod.HEAD,
    HttpMethod.PUT,
    HttpMethod.DELETE,
    HttpMethod.OPTIONS,
    HttpMethod.PATCH,
    HttpMethod.CONNECT,
    HttpMethod.TRACE
  };

  private static final byte[] HTTP_1_ =
      "HTTP/1.".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

  private final Netty netty;
  private final HttpHeadersFactory headersFactory;
  private final Vouched vouched;
  private final int maxInitialLineLength;
  private final int maxHeaderSize;

  /** Netty's decoder has started a message and not ended it: the bytes are its own. */
  private boolean nettyBusy;

  private byte[] scratch = new byte[512];
  private final int[] lineEnds = new int[MAX_LINES + 1];
  private final Name[] names = new Name[NAMES];

  /** A decoder reading with {@code config}. */
  Http1RequestDecoder(HttpDecoderConfig config) {
    netty = new Netty(config);
    maxInitialLineLength = config.getMaxInitialLineLength();
    maxHeaderSize = config.getMaxHeaderSize();
    HttpHeadersFactory f = config.getHeadersFactory();
    if (f instanceof DefaultHttpHeadersFactory d) {
      vouched = new Vouched(d.getNameValidator(), d.getValueValidator());
      headersFactory = d.withNameValidator(vouched).withValueValidator(vouched);
    } else {
      vouched = null;
      headersFactory = f;
    }
  }

  /**
   * Called when a request has both {@code Transfer-Encoding: chunked} and {@code Content-Length},
   * after Netty's decoder removed the length (as its own hook of that name).
   */
  protected void handleTransferEncodingChunkedWithContentLength(HttpMessage message) {}

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
    if (!nettyBusy && fast(in, out)) {
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

  @Override
  protected void decodeLast(ChannelHandlerContext ctx, ByteBuf in, List<Object> out)
      throws Exception {
    super.decodeLast(ctx, in, out); // decodes what is left, as Netty's decodeLast does first
    netty.decodeEnd(ctx, out);
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
    if (evt instanceof HttpExpectationFailedEvent) {
      netty.userEventTriggered(ctx, evt); // resets a body being read, passes the event on
      return;
    }
    super.userEventTriggered(ctx, evt);
  }

  @Override
  protected void handlerRemoved0(ChannelHandlerContext ctx) throws Exception {
    netty.handlerRemoved(ctx); // its scratch buffer; it holds no cumulation
  }

  /** Decodes a whole bodiless head from {@code in}, or returns false having read nothing. */
  private boolean fast(ByteBuf in, List<Object> out) {
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
    DefaultHttpRequest request = requestLine(b, base, base + lineEnds[0]);
    if (request == null || !headers(b, base, lines, request.headers())) {
      return false;
    }
    in.readerIndex(headEnd);
    out.add(request);
    out.add(LastHttpContent.EMPTY_LAST_CONTENT);
    return true;
  }

  /** {@code method SP request-target SP HTTP/1.x} (RFC 9112 3), or null. */
  private DefaultHttpRequest requestLine(byte[] b, int from, int to) {
    int sp1 = -1;
    int sp2 = -1;
    for (int i = from; i < to; i++) {
      int c = b[i] & 0xFF;
      if (c <= 0x20 || c == 0x7F) {
        if (c != ' ' || sp2 >= 0) {
          return null;
        }
        if (sp1 < 0) {
          sp1 = i;
        } else {
          sp2 = i;
        }
      }
    }
    if (sp2 < 0 || sp1 == from || sp2 == sp1 + 1 || to - sp2 - 1 != 8) {
      return null;
    }
    HttpVersion version;
    if (!Arrays.equals(b, sp2 + 1, sp2 + 8, HTTP_1_, 0, 7)) {
      return null;
    } else if (b[sp2 + 8] == '1') {
      version = HttpVersion.HTTP_1_1;
    } else if (b[sp2 + 8] == '0') {
      version = HttpVersion.HTTP_1_0;
    } else {
      return null;
    }
    try {
      return new DefaultHttpRequest(
          version, method(b, from, sp1), new String(b, 0, sp1 + 1, sp2 - sp1 - 1), headersFactory);
    } catch (RuntimeException e) {
      return null; // Netty's decoder fails it the same way
    }
  }

  @SuppressWarnings("deprecation") // String(byte[], int, int, int): one Latin-1 copy, as Netty's
  private static HttpMethod method(byte[] b, int from, int to) {
    for (HttpMethod m : METHODS) {
      AsciiString name = m.asciiName();
      if (name.length() == to - from
          && Arrays.equals(
              name.array(), name.arrayOffset(), name.arrayOffset() + name.length(), b, from, to)) {
        return m;
      }
    }
    return HttpMethod.valueOf(new String(b, 0, from, to - from));
  }

  /** Adds the header lines to {@code headers}; false for a line the fast path does not take. */
  private boolean headers(byte[] b, int base, int lines, HttpHeaders headers) {
    Vouched v = vouched;
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
        Name name = name(b, from, colon);
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
    int slot = (length ^ (b[from] << 1) ^ (b[to - 1] << 3)) & (NAMES - 1);
    Name n = names[slot];
    if (n != null && Arrays.equals(n.bytes, 0, n.bytes.length, b, from, to)) {
      return n;
    }
    for (int i = from; i < to; i++) {
      int c = b[i];
      if (c < 0 || !TCHAR[c]) {
        return null;
      }
    }
    n = new Name(Arrays.copyOfRange(b, from, to));
    names[slot] = n;
    return n;
  }

  /** A header name seen on this connection, and the last value read for it. */
  private static final class Name {
    final byte[] bytes;
    final AsciiString name;

    /** Content-Length, Transfer-Encoding, or a WebSocket key: Netty's decoder frames by them. */
    final boolean framing;

    private byte[] value = new byte[0];
    private int valueLength = -1;
    private String valueString;

    Name(byte[] bytes) {
      this.bytes = bytes;
      this.name = new AsciiString(bytes, false); // never written: the map may keep it
      boolean f = false;
      for (AsciiString a : FRAMING) {
        f |= a.contentEqualsIgnoreCase(name);
      }
      this.framing = f;
    }

    /** The value in {@code b[from, to)}, trimmed of OWS, or null if not field-content. */
    @SuppressWarnings("deprecation") // String(byte[], int, int, int): one Latin-1 copy
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
      String s = new String(b, 0, from, length);
      if (length <= MAX_REMEMBERED_VALUE) {
        if (value.length < length) {
          value = new byte[Math.max(length, 32)];
        }
        System.arraycopy(b, from, value, 0, length);
        valueLength = length;
        valueString = s;
      }
      return s;
    }
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

  /** Netty's decoder, for what the fast path does not take. */
  private final class Netty extends HttpRequestDecoder {
    Netty(HttpDecoderConfig config) {
      super(config);
    }

    void decodeSome(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
      decode(ctx, in, out);
    }

    /** Netty's end of input after its last decode: a message cut short fails or ends. */
    void decodeEnd(ChannelHandlerContext ctx, List<Object> out) throws Exception {
      decodeLast(ctx, Unpooled.EMPTY_BUFFER, out);
    }

    @Override
    protected void handleTransferEncodingChunkedWithContentLength(HttpMessage message) {
      super.handleTransferEncodingChunkedWithContentLength(message);
      Http1RequestDecoder.this.handleTransferEncodingChunkedWithContentLength(message);
    }
  }

  /**
   * For tests: whether {@code o} came from the fast path (its result is the shared success, not
   * Netty's).
   */
  static boolean fromFastPath(HttpObject o) {
    return o instanceof DefaultHttpRequest
        && o.decoderResult() == io.netty.handler.codec.DecoderResult.SUCCESS;
  }
}
