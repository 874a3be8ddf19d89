package dev.weft.proxy.net;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.HttpVersion;
import java.util.List;

/**
 * The request decoder of {@link Http1ServerCodec}: {@link Http1Decoder}'s one-pass path for whole
 * request heads without a body or with one Content-Length (RFC 9112 6.3 rules 6 and 7), Netty's
 * {@code HttpRequestDecoder} for the rest. The fast path takes a request line of one method token,
 * one request-target of visible bytes (obs-text too, as Netty's decoder reads it as Latin-1) and
 * {@code HTTP/1.1} or {@code HTTP/1.0}, each separated by one SP (RFC 9112 3); whatever else
 * Netty's decoder reads leniently or refuses is its own. Not sharable: one per connection.
 */
class Http1RequestDecoder extends Http1Decoder {
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

  /** A decoder reading with {@code config}. */
  Http1RequestDecoder(HttpDecoderConfig config) {
    super(config);
  }

  /**
   * Called when a request has both {@code Transfer-Encoding: chunked} and {@code Content-Length},
   * after Netty's decoder removed the length (as its own hook of that name).
   */
  protected void handleTransferEncodingChunkedWithContentLength(HttpMessage message) {}

  @Override
  Delegate delegate(HttpDecoderConfig config) {
    return new Netty(config);
  }

  @Override
  HttpMessage startLine(byte[] b, int from, int to) {
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
    HttpVersion version = version(b, sp2 + 1);
    if (version == null) {
      return null;
    }
    try {
      return new DefaultHttpRequest(
          version, method(b, from, sp1), latin1(b, sp1 + 1, sp2), headersFactory);
    } catch (RuntimeException e) {
      return null; // Netty's decoder fails it the same way
    }
  }

  @Override
  long bodyLength(HttpMessage message) {
    return contentLength < 0 ? 0 : contentLength; // a request without a length has no body
  }

  private static HttpMethod method(byte[] b, int from, int to) {
    for (HttpMethod m : METHODS) {
      if (same(m.asciiName(), b, from, to)) {
        return m;
      }
    }
    return HttpMethod.valueOf(latin1(b, from, to));
  }

  /** Netty's request decoder, for what the fast path does not take. */
  private final class Netty extends HttpRequestDecoder implements Delegate {
    Netty(HttpDecoderConfig config) {
      super(config);
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

    @Override
    protected void handleTransferEncodingChunkedWithContentLength(HttpMessage message) {
      super.handleTransferEncodingChunkedWithContentLength(message);
      Http1RequestDecoder.this.handleTransferEncodingChunkedWithContentLength(message);
    }
  }
}
