package dev.weft.proxy.net;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.CombinedChannelDuplexHandler;
import io.netty.handler.codec.http.HttpClientUpgradeHandler;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestEncoder;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpStatusClass;
import java.util.ArrayDeque;
import java.util.List;

/**
 * The upstream HTTP/1.1 codec of the proxy's connection pool: Netty's {@code HttpClientCodec} (4.2)
 * as the pool built it ({@code parseHttpAfterConnectRequest} and {@code failOnMissingResponse}
 * off), its response decoder behind {@link Http1ResponseDecoder}'s one-pass path for whole heads
 * with a Content-Length, the same pairing of responses with requests, with a request encoder whose
 * header block is written by {@link Http1HeaderBlock} in one bulk copy. Netty's codec is final and
 * its encoder private, so the pairing is repeated here as Netty does it: each encoded request's
 * method is queued and taken by the next final response, so that a response to HEAD has no body
 * (RFC 9110 9.3.2) and a 200 to CONNECT ends HTTP on the connection (RFC 9110 9.3.6: what follows
 * is passed on as bytes); a 1xx response takes nothing. Everything else (framing, validation,
 * limits, chunked bodies, trailers) is as Netty's decoder and encoder do it: the decoder's fast
 * path takes only what Netty's would keep as it is, and hands the rest to it. Not sharable: one per
 * connection.
 */
public final class Http1ClientCodec
    extends CombinedChannelDuplexHandler<Http1ResponseDecoder, HttpRequestEncoder>
    implements HttpClientUpgradeHandler.SourceCodec {
  private final ArrayDeque<HttpMethod> methods = new ArrayDeque<>(4);

  /** After a 200 to CONNECT: the bytes that follow are not HTTP. */
  private boolean done;

  /** A codec whose decoder reads with {@code config}. */
  public Http1ClientCodec(HttpDecoderConfig config) {
    init(new Decoder(config), new Encoder());
  }

  @Override
  public void prepareUpgradeFrom(ChannelHandlerContext ctx) {
    ((Encoder) outboundHandler()).upgraded = true;
  }

  @Override
  public void upgradeFrom(ChannelHandlerContext ctx) {
    ctx.pipeline().remove(this);
  }

  private final class Encoder extends HttpRequestEncoder {
    boolean upgraded;

    @Override
    protected void encode(ChannelHandlerContext ctx, Object msg, List<Object> out)
        throws Exception {
      if (upgraded) {
        out.add(msg);
        return;
      }
      if (msg instanceof HttpRequest r) {
        methods.offer(r.method());
      }
      super.encode(ctx, msg, out);
    }

    @Override
    protected void encodeHeaders(HttpHeaders headers, ByteBuf buf) {
      Http1HeaderBlock.write(headers, buf);
    }
  }

  private final class Decoder extends Http1ResponseDecoder {
    Decoder(HttpDecoderConfig config) {
      super(config);
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf buffer, List<Object> out)
        throws Exception {
      if (done) {
        int readable = actualReadableBytes();
        if (readable == 0) {
          return;
        }
        out.add(buffer.readBytes(readable));
      } else {
        super.decode(ctx, buffer, out);
      }
    }

    @Override
    protected boolean isContentAlwaysEmpty(HttpMessage msg) {
      HttpResponseStatus status = ((HttpResponse) msg).status();
      if (status.codeClass() == HttpStatusClass.INFORMATIONAL) {
        return super.isContentAlwaysEmpty(msg);
      }
      HttpMethod method = methods.poll();
      if (method != null) {
        if (HttpMethod.HEAD.equals(method)) {
          return true;
        }
        if (status.code() == 200 && HttpMethod.CONNECT.equals(method)) {
          done = true;
          methods.clear();
          return true;
        }
      }
      return super.isContentAlwaysEmpty(msg);
    }
  }
}
