package dev.weft.proxy.net;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpResponseDecoder;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import java.util.List;

/**
 * The response decoder of {@link Http1ClientCodec}: {@link Http1Decoder}'s one-pass path for whole
 * response heads with one Content-Length (RFC 9112 6.3 rule 6), Netty's {@code HttpResponseDecoder}
 * for the rest (1xx, chunked and close-delimited bodies). The fast path takes a status line of
 * {@code HTTP/1.1} or {@code HTTP/1.0}, a three-digit status of 200 to 599 and a reason phrase of
 * visible bytes and inner spaces, each separated by one SP (RFC 9112 4); whether the body is there
 * at all is {@link #isContentAlwaysEmpty}'s, as Netty's decoder asks it. Not sharable: one per
 * connection.
 */
class Http1ResponseDecoder extends Http1Decoder {
  /** A decoder reading with {@code config}. */
  Http1ResponseDecoder(HttpDecoderConfig config) {
    super(config);
  }

  /**
   * Whether {@code msg} has no body whatever its headers say: Netty's decoder's answer (1xx but a
   * WebSocket 101, 204, 304); asked once per response, by either path, as Netty's decoder asks it.
   */
  protected boolean isContentAlwaysEmpty(HttpMessage msg) {
    return ((Netty) netty).nettysAnswer(msg);
  }

  @Override
  Delegate delegate(HttpDecoderConfig config) {
    return new Netty(config);
  }

  @Override
  HttpMessage startLine(byte[] b, int from, int to) {
    // HTTP/1.x SP 3DIGIT SP reason-phrase, at least one byte of it (RFC 9112 4)
    if (to - from < 14 || b[from + 8] != ' ' || b[from + 12] != ' ') {
      return null;
    }
    HttpVersion version = version(b, from);
    int d0 = b[from + 9] - '0';
    int d1 = b[from + 10] - '0';
    int d2 = b[from + 11] - '0';
    if (version == null || d0 < 2 || d0 > 5 || d1 < 0 || d1 > 9 || d2 < 0 || d2 > 9) {
      return null;
    }
    int reason = from + 13;
    if (b[reason] == ' ' || b[to - 1] == ' ') {
      return null;
    }
    for (int i = reason; i < to; i++) {
      int c = b[i] & 0xFF;
      if (c < 0x20 || c >= 0x7F) {
        return null;
      }
    }
    int code = d0 * 100 + d1 * 10 + d2;
    HttpResponseStatus status = HttpResponseStatus.valueOf(code);
    if (!sameText(status.reasonPhrase(), b, reason, to)) {
      status = HttpResponseStatus.valueOf(code, latin1(b, reason, to));
    }
    return new DefaultHttpResponse(version, status, headersFactory);
  }

  @Override
  long bodyLength(HttpMessage message) {
    if (contentLength < 0) {
      return -2; // read until the connection closes: Netty's decoder's
    }
    if (isContentAlwaysEmpty(message)) {
      HttpUtil.setTransferEncodingChunked(message, false);
      return 0;
    }
    return contentLength;
  }

  private static boolean sameText(String s, byte[] b, int from, int to) {
    if (s.length() != to - from) {
      return false;
    }
    for (int i = from; i < to; i++) {
      if (s.charAt(i - from) != (b[i] & 0xFF)) {
        return false;
      }
    }
    return true;
  }

  /** Netty's response decoder, for what the fast path does not take. */
  private final class Netty extends HttpResponseDecoder implements Delegate {
    Netty(HttpDecoderConfig config) {
      super(config);
    }

    boolean nettysAnswer(HttpMessage msg) {
      return super.isContentAlwaysEmpty(msg);
    }

    @Override
    protected boolean isContentAlwaysEmpty(HttpMessage msg) {
      return Http1ResponseDecoder.this.isContentAlwaysEmpty(msg);
    }

    @Override
    public void decodeSome(ChannelHandlerContext ctx, ByteBuf in, List<Object> out)
        throws Exception {
      decode(ctx, in, out);
    }

    @Override
    public void decodeLast(ChannelHandlerContext ctx, ByteBuf in, List<Object> out)
        throws Exception {
      super.decodeLast(ctx, in, out);
    }

    @Override
    public ByteToMessageDecoder handler() {
      return this;
    }
  }
}
