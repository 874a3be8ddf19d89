package dev.weft.proxy.listener;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Envoy's {@code envoy.filters.listener.http_inspector}: looks at the first plaintext bytes of a
 * connection and sets its application protocol for filter chain matching: {@code h2c} for the
 * HTTP/2 connection preface (RFC 9113 3.4), {@code http/1.1} or {@code http/1.0} for an HTTP/1.x
 * request line (RFC 9112 3: {@code method SP request-target SP HTTP-version CRLF}), nothing for
 * anything else (Istio's TCP chain then takes it). It waits while the bytes are a prefix of either
 * and decides at the first byte that is not, or after {@link #MAX_INSPECT} bytes without a decision
 * (Envoy's limit). A connection the TLS inspector found to be TLS is not inspected. Nothing is
 * consumed: once it decided, its cumulated bytes go on to the chain's handlers. One per connection,
 * on its event loop; the cumulation buffer is its own until it is removed.
 */
final class HttpInspector extends ByteToMessageDecoder {
  /** Envoy's http_inspector reads at most 64 KiB. */
  static final int MAX_INSPECT = 64 * 1024;

  /** Method tokens longer than this are not taken for HTTP (the longest standard one is 7). */
  private static final int MAX_METHOD = 20;

  private static final byte[] PREFACE =
      "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

  static final String H2C = "h2c";
  static final String HTTP11 = "http/1.1";
  static final String HTTP10 = "http/1.0";

  /** Not decided yet: the bytes so far are a prefix of an HTTP/1.x request line or the preface. */
  static final String MORE = "";

  private final Inspection inspection;

  HttpInspector(Inspection inspection) {
    this.inspection = inspection;
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    if (inspection.done()) {
      ctx.fireChannelActive();
    }
    // Else held back: the chain's handlers do not exist yet; decode fires it for them.
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    if (inspection.done()) {
      in.skipBytes(in.readableBytes()); // given up (closing): its bytes go nowhere
      return;
    }
    String found = detect(in);
    boolean undecided = found != null && found.isEmpty();
    if (undecided && in.readableBytes() < MAX_INSPECT) {
      return;
    }
    if (found != null && !undecided) {
      inspection.applicationProtocol(found);
    }
    inspection.finish();
    if (!ctx.channel().isActive()) {
      return;
    }
    ctx.fireChannelActive();
    ctx.pipeline().remove(this);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    inspection.cancel();
    super.channelInactive(ctx);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    ctx.close();
  }

  /**
   * What the readable bytes of {@code in} are: {@link #H2C}, {@link #HTTP11}, {@link #HTTP10},
   * {@link #MORE} when they are a prefix of a request line or the preface, or null (not HTTP).
   * Reads without moving the indexes.
   */
  static String detect(ByteBuf in) {
    int start = in.readerIndex();
    int n = in.readableBytes();
    boolean preface = true;
    for (int i = 0; i < Math.min(n, PREFACE.length); i++) {
      if (in.getByte(start + i) != PREFACE[i]) {
        preface = false;
        break;
      }
    }
    if (preface) {
      return n >= PREFACE.length ? H2C : MORE;
    }
    // method: a token of upper-case letters (http-parser's and Envoy's known methods), then SP.
    int i = 0;
    while (i < n) {
      byte b = in.getByte(start + i);
      if (b == ' ') {
        break;
      }
      if (!((b >= 'A' && b <= 'Z') || b == '-' || b == '_') || i >= MAX_METHOD) {
        return null;
      }
      i++;
    }
    if (i == n) {
      return MORE;
    }
    if (i == 0) {
      return null;
    }
    i++; // SP
    // request-target: visible characters up to the next SP.
    int target = i;
    while (i < n) {
      byte b = in.getByte(start + i);
      if (b == ' ') {
        break;
      }
      if (b < 0x21 || b == 0x7f) {
        return null;
      }
      i++;
    }
    if (i == n) {
      return MORE;
    }
    if (i == target) {
      return null;
    }
    i++; // SP
    // HTTP-version, then CRLF.
    byte[] version = "HTTP/1.".getBytes(StandardCharsets.US_ASCII);
    for (byte v : version) {
      if (i == n) {
        return MORE;
      }
      if (in.getByte(start + i) != v) {
        return null;
      }
      i++;
    }
    if (i == n) {
      return MORE;
    }
    byte minor = in.getByte(start + i);
    if (minor != '0' && minor != '1') {
      return null;
    }
    i++;
    if (i == n) {
      return MORE;
    }
    byte cr = in.getByte(start + i);
    if (cr == '\n') {
      return minor == '1' ? HTTP11 : HTTP10;
    }
    if (cr != '\r') {
      return null;
    }
    i++;
    if (i == n) {
      return MORE;
    }
    if (in.getByte(start + i) != '\n') {
      return null;
    }
    return minor == '1' ? HTTP11 : HTTP10;
  }
}
