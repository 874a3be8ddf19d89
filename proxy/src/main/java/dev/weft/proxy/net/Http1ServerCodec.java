package dev.weft.proxy.net;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.CombinedChannelDuplexHandler;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.codec.http.HttpServerUpgradeHandler;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;
import java.util.List;

/**
 * The downstream HTTP/1.1 codec of the proxy's listeners: Netty's {@code HttpServerCodec} (4.2),
 * its request decoder behind {@link Http1RequestDecoder}'s one-pass path for whole bodiless heads,
 * the same pairing of requests with responses, and a response encoder whose header block is written
 * by {@link Http1HeaderBlock} in one bulk copy. Netty's codec is final and its encoder private, so
 * the pairing is repeated here as Netty does it:
 *
 * <ul>
 *   <li>each decoded request's method is queued and taken by its response: a response to HEAD has
 *       no body (RFC 9110 9.3.2), a 2xx to CONNECT loses {@code Transfer-Encoding} (RFC 9112 6.1);
 *   <li>at most {@link #MAX_PIPELINE_DEPTH} requests wait for their responses; the next one is
 *       refused ({@code IllegalStateException} out of the decoder) and what follows is discarded;
 *   <li>a request with both {@code Transfer-Encoding: chunked} and {@code Content-Length} (read as
 *       chunked, RFC 9112 6.3) closes the connection after its response's end.
 * </ul>
 *
 * <p>Everything else (framing, validation, limits, chunked bodies, trailers) is as Netty's decoder
 * and encoder do it: the decoder's fast path takes only what Netty's would keep as it is, and hands
 * the rest to it. Not sharable: one per connection.
 */
public final class Http1ServerCodec
    extends CombinedChannelDuplexHandler<Http1RequestDecoder, HttpResponseEncoder>
    implements HttpServerUpgradeHandler.SourceCodec {
  /** Netty's default ({@code HttpServerCodec.DEFAULT_MAX_PIPELINE_DEPTH}). */
  static final int MAX_PIPELINE_DEPTH = 128;

  /** The methods of the requests waiting for their responses, oldest first. */
  private final ArrayDeque<HttpMethod> methods = new ArrayDeque<>(4);

  private boolean closeAfterResponse;

  /** A codec whose decoder reads with {@code config}. */
  public Http1ServerCodec(HttpDecoderConfig config) {
    init(new Decoder(config), new Encoder());
  }

  @Override
  public void upgradeFrom(ChannelHandlerContext ctx) {
    ctx.pipeline().remove(this);
  }

  private boolean enqueue(HttpMethod method) {
    if (methods.size() >= MAX_PIPELINE_DEPTH) {
      return false;
    }
    methods.offer(method);
    return true;
  }

  private final class Decoder extends Http1RequestDecoder {
    private boolean discard;

    Decoder(HttpDecoderConfig config) {
      super(config);
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf buffer, List<Object> out)
        throws Exception {
      if (discard) {
        buffer.skipBytes(buffer.readableBytes());
        return;
      }
      int from = out.size();
      super.decode(ctx, buffer, out);
      int to = out.size();
      for (int i = from; i < to; i++) {
        if (out.get(i) instanceof HttpRequest r && !enqueue(r.method())) {
          closeAfterResponse = true;
          discard = true;
          // Netty drops them all; the ones before this request are released too, not leaked.
          for (int j = from; j < to; j++) {
            ReferenceCountUtil.release(out.get(j));
          }
          out.subList(from, to).clear();
          throw new IllegalStateException("maxPipelineDepth exceeded: " + MAX_PIPELINE_DEPTH);
        }
      }
    }

    @Override
    protected void handleTransferEncodingChunkedWithContentLength(HttpMessage message) {
      super.handleTransferEncodingChunkedWithContentLength(message);
      closeAfterResponse = true;
    }
  }

  private final class Encoder extends HttpResponseEncoder {
    /** The method of the request the response being encoded answers (null: none waited). */
    private HttpMethod method;

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise)
        throws Exception {
      if (closeAfterResponse && msg instanceof LastHttpContent) {
        closeAfterResponse = false;
        promise = promise.unvoid().addListener(ChannelFutureListener.CLOSE);
      }
      super.write(ctx, msg, promise);
    }

    @Override
    protected boolean isContentAlwaysEmpty(HttpResponse msg) {
      method = methods.poll();
      return HttpMethod.HEAD.equals(method) || super.isContentAlwaysEmpty(msg);
    }

    @Override
    protected void sanitizeHeadersBeforeEncode(HttpResponse msg, boolean isAlwaysEmpty) {
      if (!isAlwaysEmpty
          && HttpMethod.CONNECT.equals(method)
          && msg.status().codeClass() == HttpStatusClass.SUCCESS) {
        msg.headers().remove(HttpHeaderNames.TRANSFER_ENCODING);
        return;
      }
      super.sanitizeHeadersBeforeEncode(msg, isAlwaysEmpty);
    }

    @Override
    protected void encodeHeaders(HttpHeaders headers, ByteBuf buf) {
      Http1HeaderBlock.write(headers, buf);
    }
  }
}
