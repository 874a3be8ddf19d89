package dev.weft.proxy.http;

import dev.weft.proxy.config.DownstreamLimits;
import dev.weft.proxy.net.Http1ServerCodec;
import dev.weft.proxy.upstream.Http2Windows;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpServerUpgradeHandler;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2ServerUpgradeCodec;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import java.util.List;

/**
 * HTTP/2 on a downstream connection of an HTTP connection manager (Envoy's {@code codec_type:
 * AUTO}): the first bytes the client sends (after TLS, if any) decide the protocol. The HTTP/2
 * connection preface (RFC 9113 3.4, sent with prior knowledge on cleartext, or after ALPN {@code
 * h2} over TLS) makes the connection HTTP/2; anything else stays HTTP/1.1.
 *
 * <p>An HTTP/2 connection runs Netty's {@link Http2FrameCodec} and {@link Http2MultiplexHandler}:
 * one child channel per stream, whose frames {@link Http2StreamFrameToHttpObjectCodec} turns into
 * the HTTP/1.1 message objects the rest of the proxy handles, so that each stream gets its own
 * {@link HttpConnectionManager} (in stream mode) and {@link HttpStream}: filters, routing, retries,
 * stats and the access log are those of HTTP/1.1. Bodies stream; flow control is end to end: a
 * stream stops reading (and so stops granting the client window) when its upstream is not writable,
 * and a stream whose window is exhausted reports itself unwritable, which stops reading from the
 * upstream.
 *
 * <p>Limits (Envoy's {@code http2_protocol_options} and its CVE-2023-44487 mitigation): {@link
 * #MAX_CONCURRENT_STREAMS} streams per connection, the connection manager's {@code
 * max_request_headers_kb} as {@code SETTINGS_MAX_HEADER_LIST_SIZE} (a larger header list gets 431),
 * and at most {@link #MAX_RESETS_PER_WINDOW} stream resets per {@link #RESET_WINDOW_SECONDS}
 * seconds, beyond which the connection gets GOAWAY and is closed. The connection manager's {@code
 * idle_timeout} closes a connection without open streams.
 */
public final class Http2Downstream {
  /**
   * Envoy's default {@code max_concurrent_streams} is 2^31-1; Weft chooses 1024, which bounds what
   * one connection can make the proxy hold at once.
   */
  public static final int MAX_CONCURRENT_STREAMS = 1024;

  /** Stream resets a client may cause (RST_STREAM sent or received) per window. */
  public static final int MAX_RESETS_PER_WINDOW = 200;

  public static final int RESET_WINDOW_SECONDS = 30;

  /** How long streams in flight may finish after GOAWAY when a connection is closed. */
  public static final long DRAIN_MILLIS = 1000;

  private static final ByteBuf PREFACE = Http2CodecUtil.connectionPrefaceBuf();
  private static final int PREFACE_LENGTH = PREFACE.readableBytes();

  /** {@code PRI * HTTP/2.0\r\n\r\n}: a client that sent this means HTTP/2. */
  private static final int PRI_LINE_LENGTH = 18;

  private Http2Downstream() {}

  /**
   * The handler that goes in front of the HTTP/1.1 handlers ({@link DownstreamReads}, the server
   * codec, {@code manager}) and replaces them when the client speaks HTTP/2.
   */
  public static ChannelInboundHandlerAdapter sniffer(
      HttpConnectionManager manager, boolean http2Only) {
    return new Sniffer(manager, http2Only);
  }

  /**
   * Reads the first bytes: the whole preface switches the connection to HTTP/2; a mismatch within
   * the first 18 bytes ({@code PRI * HTTP/2.0\r\n\r\n}) hands every byte to HTTP/1.1; the request
   * line of the preface followed by anything but {@code SM\r\n\r\n} is an invalid preface, and the
   * connection is closed, as is any mismatch under {@code codec_type: HTTP2}.
   */
  private static final class Sniffer extends ByteToMessageDecoder {
    private final HttpConnectionManager manager;
    private final boolean http2Only;

    Sniffer(HttpConnectionManager manager, boolean http2Only) {
      this.manager = manager;
      this.http2Only = http2Only;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
      int n = Math.min(in.readableBytes(), PREFACE_LENGTH);
      int mismatch = -1;
      for (int i = 0; i < n; i++) {
        if (in.getByte(in.readerIndex() + i) != PREFACE.getByte(i)) {
          mismatch = i;
          break;
        }
      }
      if (mismatch >= PRI_LINE_LENGTH || (mismatch >= 0 && http2Only)) {
        in.skipBytes(in.readableBytes());
        manager.invalidPreface();
        ctx.close();
        return;
      }
      ChannelPipeline p = ctx.pipeline();
      if (mismatch >= 0) {
        // HTTP/1.1: the bytes go on to the codec as they came.
        p.remove(this);
        return;
      }
      if (n < PREFACE_LENGTH) {
        return; // wait for more
      }
      // HTTP/2: the HTTP/1.1 handlers go; the frame codec takes the bytes, preface included.
      p.remove(DownstreamReads.class);
      p.remove(Http1ServerCodec.class);
      p.remove(manager);
      Runnable closed = manager.tunnelled();
      install(p, manager, closed);
      p.remove(this);
    }
  }

  private static void install(
      ChannelPipeline p, HttpConnectionManager template, Runnable onClosed) {
    Connection c = new Connection(template);
    c.tail.onClosed = onClosed;
    // Every stream's response flushes the connection: consolidated, one write(2) per read batch or
    // event-loop task instead of one per stream (the hop's largest cost under h2load, profiled).
    p.addLast(Http2Windows.flushConsolidation(), c.codec, c.mux, c.tail);
    c.started(p.channel());
  }

  /**
   * The handlers of one downstream HTTP/2 connection: the frame codec with Weft's limits, the
   * multiplexer whose streams (the upgrade's stream 1 too) each get a connection manager in stream
   * mode, and the connection's tail.
   */
  private static final class Connection {
    final HttpConnectionManager template;
    final Http2FrameCodec codec;
    final Http2MultiplexHandler mux;
    final ConnectionTail tail;

    Connection(HttpConnectionManager template) {
      this.template = template;
      DownstreamLimits limits = template.limits();
      Http2Settings settings =
          Http2Settings.defaultSettings()
              .maxConcurrentStreams(MAX_CONCURRENT_STREAMS)
              .initialWindowSize(Http2Windows.STREAM_WINDOW)
              .maxHeaderListSize(limits.maxRequestHeadersKb() * 1024L);
      codec =
          Http2FrameCodecBuilder.forServer()
              .initialSettings(settings)
              .validateHeaders(true)
              .decoderEnforceMaxRstFramesPerWindow(MAX_RESETS_PER_WINDOW, RESET_WINDOW_SECONDS)
              .encoderEnforceMaxRstFramesPerWindow(MAX_RESETS_PER_WINDOW, RESET_WINDOW_SECONDS)
              // On close (drain): GOAWAY, then streams in flight get this long to finish.
              .gracefulShutdownTimeoutMillis(DRAIN_MILLIS)
              .build();
      ConnectionTail t = new ConnectionTail(template);
      tail = t;
      ChannelInitializer<Http2StreamChannel> streams =
          new ChannelInitializer<Http2StreamChannel>() {
            @Override
            protected void initChannel(Http2StreamChannel ch) {
              t.streamOpened();
              ch.closeFuture().addListener(f -> t.streamClosed());
              ch.pipeline()
                  .addLast(new Http2StreamFrameToHttpObjectCodec(true, true), template.forStream());
            }
          };
      // The second handler serves stream 1 of an h2c upgrade (RFC 9113 3.2 of RFC 7540).
      mux = new Http2MultiplexHandler(streams, streams);
    }

    /** Once in the pipeline: the idle timeout, the connection window, the drain registry. */
    void started(Channel ch) {
      tail.startIdle(ch);
      Http2Windows.widen(codec, ch);
      template.dataPlane().http2Connection(ch);
    }
  }

  /** An HTTP/1.1 request body the h2c upgrade may carry (it is read whole before switching). */
  static final int MAX_UPGRADE_BODY = 64 * 1024;

  /**
   * The HTTP/1.1 {@code Upgrade: h2c} of RFC 7540 3.2 (cleartext only), the handler between the
   * server codec and {@code manager}: a request with {@code Upgrade: h2c}, {@code Connection:
   * Upgrade, HTTP2-Settings} and a valid {@code HTTP2-Settings} header, whose body (if any) has a
   * {@code Content-Length} of at most {@link #MAX_UPGRADE_BODY}, is answered {@code 101 Switching
   * Protocols}; the connection becomes HTTP/2 and the request is its stream 1, served and answered
   * over HTTP/2 like any stream. Envoy does not do this (its HTTP/1.1 codec removes the upgrade
   * headers, as Weft does for any other request asking for h2c: a chunked or larger body, a {@code
   * codec_type: HTTP1} connection manager, TLS). Other requests pass through untouched.
   */
  public static ChannelHandler h2cUpgrade(HttpConnectionManager manager, Http1ServerCodec codec) {
    return new HttpServerUpgradeHandler(
        codec,
        protocol ->
            AsciiString.contentEqualsIgnoreCase(Http2CodecUtil.HTTP_UPGRADE_PROTOCOL_NAME, protocol)
                ? new H2cUpgrade(new Connection(manager), manager)
                : null,
        MAX_UPGRADE_BODY) {
      @Override
      protected boolean shouldHandleUpgradeRequest(HttpRequest req) {
        String upgrade = req.headers().get(HttpHeaderNames.UPGRADE);
        if (upgrade == null) {
          return false;
        }
        boolean h2c = false;
        for (String token : upgrade.split(",")) {
          h2c |= token.trim().equalsIgnoreCase("h2c");
        }
        return h2c
            && !HttpUtil.isTransferEncodingChunked(req)
            && HttpUtil.getContentLength(req, 0L) <= MAX_UPGRADE_BODY;
      }
    };
  }

  /** Switches an upgraded connection's pipeline from the HTTP/1.1 handlers to HTTP/2. */
  private static final class H2cUpgrade extends Http2ServerUpgradeCodec {
    private final Connection connection;
    private final HttpConnectionManager manager;

    H2cUpgrade(Connection connection, HttpConnectionManager manager) {
      super(connection.codec, connection.mux, connection.tail);
      this.connection = connection;
      this.manager = manager;
    }

    @Override
    public void upgradeTo(ChannelHandlerContext ctx, FullHttpRequest upgradeRequest) {
      super.upgradeTo(ctx, upgradeRequest);
      ChannelPipeline p = ctx.pipeline();
      p.addBefore(p.context(connection.codec).name(), null, Http2Windows.flushConsolidation());
      p.remove(DownstreamReads.class);
      p.remove(manager);
      connection.tail.onClosed = manager.tunnelled();
      connection.started(p.channel());
    }
  }

  /**
   * The last handler of an HTTP/2 connection: connection-level frames the multiplexer passes on
   * (SETTINGS, PING, GOAWAY) end here; the connection's close is counted once.
   */
  private static final class ConnectionTail extends ChannelInboundHandlerAdapter {
    private final HttpConnectionManager template;
    private Runnable onClosed = () -> {};
    private LazyTimeout idle;
    private int streams;

    ConnectionTail(HttpConnectionManager template) {
      this.template = template;
    }

    /**
     * Envoy's {@code idle_timeout} for an HTTP/2 connection: no stream open for that long, and it
     * is closed (GOAWAY first), counted under {@code downstream_cx_idle_timeout}.
     */
    void startIdle(Channel ch) {
      idle =
          new LazyTimeout(
              ch.eventLoop(),
              template.limits().idleTimeoutMillis(),
              () -> {
                if (streams == 0 && ch.isActive()) {
                  template.idleTimedOut();
                  ch.close();
                }
              });
      idle.start();
    }

    void streamOpened() {
      if (streams++ == 0 && idle != null) {
        idle.stop();
      }
    }

    void streamClosed() {
      if (--streams == 0 && idle != null) {
        idle.start();
      }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      ReferenceCountUtil.release(msg);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      if (idle != null) {
        idle.cancel();
      }
      onClosed.run();
      ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }
  }
}
