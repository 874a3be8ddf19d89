package dev.weft.proxy.admin;

import dev.weft.proxy.net.Transport;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Objects;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * A small HTTP/1.1 server for the admin (15000) and metrics (15090) ports, on the proxy's own Netty
 * event loops: no thread of its own while idle (issue #10; the JDK's HTTP server it replaces kept a
 * dispatcher, a timer and a pool per port). Requests of a connection are answered one at a time, in
 * order (RFC 9112 §9.3.2: pipelined responses keep the requests' order). Answers that only read a
 * flag ({@link Options#inline}) are made on the event loop; the others (config dumps, stats) walk
 * the configuration or every counter and run on the {@linkplain #renderer() renderer}, one thread
 * that exists only while there is such work, so that a large dump never holds up the event loop's
 * data-plane connections. Bodies are aggregated up to 64 KiB (413 beyond, by Netty's aggregator); a
 * request that does not parse gets 400 and the connection closes; a connection idle for a minute is
 * closed.
 */
final class AdminHttp implements AutoCloseable {
  /** The most requests one connection may have waiting for their answer before it is closed. */
  private static final int MAX_PENDING = 16;

  /** How many renders may wait for the renderer before a request is answered 503. */
  private static final int MAX_QUEUED_RENDERS = 64;

  /** An admin request: method, path (not decoded) and raw query ({@code null} when none). */
  record Request(String method, String path, String rawQuery) {}

  /**
   * An admin answer; the body is UTF-8 text; {@code afterWrite}, when not null, runs once the
   * answer has been written (on the event loop; it must not block: start a thread).
   */
  record Response(int status, String contentType, String body, Runnable afterWrite) {
    Response {
      Objects.requireNonNull(contentType, "contentType");
      Objects.requireNonNull(body, "body");
    }

    Response(int status, String contentType, String body) {
      this(status, contentType, body, null);
    }
  }

  /**
   * What one port serves.
   *
   * @param what the port's name in error messages ({@code admin}, {@code prometheus})
   * @param handler answers a request; runs on the event loop or the renderer; must not throw (a
   *     throw is answered 500)
   * @param inline which requests are cheap enough to answer on the event loop
   */
  record Options(String what, Function<Request, Response> handler, Predicate<Request> inline) {}

  private final Channel server;

  private AdminHttp(Channel server) {
    this.server = server;
  }

  /**
   * The thread admin answers are rendered on: one, started on demand and gone after 1 s without
   * work (a scrape every 5 s, the dashboard's, would otherwise keep it for good); at most {@value
   * #MAX_QUEUED_RENDERS} renders wait. The caller owns it and shuts it down.
   */
  static ExecutorService renderer() {
    ThreadPoolExecutor e =
        new ThreadPoolExecutor(
            1,
            1,
            1,
            TimeUnit.SECONDS,
            new ArrayBlockingQueue<>(MAX_QUEUED_RENDERS),
            r -> Thread.ofPlatform().name("weft-admin").daemon().unstarted(r));
    e.allowCoreThreadTimeOut(true);
    return e;
  }

  /**
   * Binds {@code address} on {@code transport}'s event loops and starts serving.
   *
   * @throws IOException naming {@code host:port} when the address cannot be bound
   */
  static AdminHttp bind(
      InetSocketAddress address, Transport transport, ExecutorService renderer, Options options)
      throws IOException {
    String where = address.getHostString() + ":" + address.getPort();
    ChannelFuture bound =
        new ServerBootstrap()
            .group(transport.group())
            .channel(transport.serverChannel())
            .option(ChannelOption.SO_BACKLOG, 64)
            .childHandler(
                new ChannelInitializer<Channel>() {
                  @Override
                  protected void initChannel(Channel ch) {
                    ch.pipeline()
                        .addLast(new IdleStateHandler(0, 0, 60, TimeUnit.SECONDS))
                        .addLast(new HttpServerCodec())
                        .addLast(new HttpObjectAggregator(64 * 1024))
                        .addLast(new Conn(renderer, options));
                  }
                })
            .bind(address)
            .awaitUninterruptibly();
    if (!bound.isSuccess()) {
      Throwable cause = bound.cause();
      String msg = String.valueOf(cause == null ? null : cause.getMessage());
      if (cause instanceof BindException || msg.contains("in use")) {
        throw new IOException(options.what() + " address " + where + " already in use", cause);
      }
      throw new IOException(
          "cannot bind " + options.what() + " address " + where + ": " + msg, cause);
    }
    return new AdminHttp(bound.channel());
  }

  /** The bound address (the configured one, with its actual port when 0 was given). */
  InetSocketAddress address() {
    return (InetSocketAddress) server.localAddress();
  }

  /** Stops accepting; open admin connections close with the event loops. */
  @Override
  public void close() {
    server.close().awaitUninterruptibly(5_000);
  }

  /** One connection: its requests, answered in order. Event-loop confined. */
  private static final class Conn extends SimpleChannelInboundHandler<FullHttpRequest> {
    private final ExecutorService renderer;
    private final Options options;
    private final ArrayDeque<Pending> pending = new ArrayDeque<>();
    private boolean busy;

    private record Pending(Request request, boolean keepAlive, boolean head) {}

    Conn(ExecutorService renderer, Options options) {
      this.renderer = renderer;
      this.options = options;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest msg) {
      if (msg.decoderResult().isFailure()) {
        pending.clear();
        FullHttpResponse bad = response(new Response(400, "text/plain", "bad request\n"), false);
        bad.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        ctx.writeAndFlush(bad).addListener(ChannelFutureListener.CLOSE);
        return;
      }
      if (pending.size() >= MAX_PENDING) {
        ctx.close();
        return;
      }
      String uri = msg.uri();
      int q = uri.indexOf('?');
      Request r =
          new Request(
              msg.method().name(),
              q < 0 ? uri : uri.substring(0, q),
              q < 0 ? null : uri.substring(q + 1));
      pending.add(new Pending(r, HttpUtil.isKeepAlive(msg), msg.method().equals(HttpMethod.HEAD)));
      next(ctx);
    }

    /** Answers the oldest waiting request unless one is being answered. On the event loop. */
    private void next(ChannelHandlerContext ctx) {
      if (busy || pending.isEmpty() || !ctx.channel().isActive()) {
        return;
      }
      Pending p = pending.poll();
      busy = true;
      if (options.inline().test(p.request())) {
        write(ctx, p, answer(p.request()));
        return;
      }
      try {
        renderer.execute(
            () -> {
              Response a = answer(p.request());
              ctx.executor().execute(() -> write(ctx, p, a));
            });
      } catch (RejectedExecutionException e) {
        write(ctx, p, new Response(503, "text/plain", "busy, retry\n"));
      }
    }

    private Response answer(Request r) {
      try {
        return options.handler().apply(r);
      } catch (RuntimeException e) {
        return new Response(500, "text/plain", "error: " + e + "\n");
      }
    }

    private void write(ChannelHandlerContext ctx, Pending p, Response a) {
      busy = false;
      FullHttpResponse res = response(a, p.head());
      if (!p.keepAlive()) {
        res.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
      }
      ChannelFuture written = ctx.writeAndFlush(res);
      if (a.afterWrite() != null) {
        written.addListener(f -> a.afterWrite().run());
      }
      if (!p.keepAlive()) {
        pending.clear();
        written.addListener(ChannelFutureListener.CLOSE);
        return;
      }
      next(ctx);
    }

    /** The response; a HEAD's carries the length the body would have had, and no body. */
    private static FullHttpResponse response(Response a, boolean head) {
      byte[] body = a.body().getBytes(StandardCharsets.UTF_8);
      FullHttpResponse res =
          new DefaultFullHttpResponse(
              HttpVersion.HTTP_1_1,
              HttpResponseStatus.valueOf(a.status()),
              head ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(body));
      res.headers()
          .set(HttpHeaderNames.CONTENT_TYPE, a.contentType())
          .setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
      return res;
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
      if (evt instanceof IdleStateEvent) {
        ctx.close();
        return;
      }
      super.userEventTriggered(ctx, evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close(); // a reset or a codec error: the connection only
    }
  }
}
