package dev.weft.samples;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * One connection of a {@link PodinfoServer}: routes each request to its endpoint and writes the
 * response, in request order.
 *
 * <p>State is confined to the channel's event loop. An exchange is over when the request has been
 * read to its last content and the response written to its last content. A later (pipelined)
 * request that arrives while an earlier response is still pending ({@code /delay}) is queued and
 * reading pauses until the earlier response is written, so responses never overtake each other.
 * {@code /echo} hands each request content buffer to the response (ownership passes to the write);
 * reading pauses while the socket is not writable.
 */
final class PodinfoHandler extends ChannelInboundHandlerAdapter {

  private static final ObjectMapper JSON = new ObjectMapper();

  /** Longest accepted {@code /delay}, in seconds. */
  static final int MAX_DELAY_SECONDS = 3600;

  private final PodinfoInfo info;

  /** Messages of later requests, read while an earlier response is still pending; we own them. */
  private final ArrayDeque<Object> pending = new ArrayDeque<>();

  private boolean requestInProgress;
  private boolean responseInProgress;
  private boolean echoing;
  private boolean keepAlive;
  private boolean closing;
  private ScheduledFuture<?> delayed;

  PodinfoHandler(PodinfoInfo info) {
    this.info = info;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (closing) {
      ReferenceCountUtil.release(msg);
      return;
    }
    if (!pending.isEmpty() || waitingForResponse()) {
      pending.add(msg);
      updateAutoRead(ctx);
      return;
    }
    process(ctx, msg);
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    ctx.flush();
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    if (!ctx.channel().isWritable()) {
      ctx.flush();
    }
    updateAutoRead(ctx);
    ctx.fireChannelWritabilityChanged();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    cleanup();
    ctx.fireChannelInactive();
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    cleanup();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    // A broken peer (reset, bad bytes) costs only its own connection.
    cleanup();
    ctx.close();
  }

  /** True when the current request is fully read but its response is still to be written. */
  private boolean waitingForResponse() {
    return !requestInProgress && responseInProgress;
  }

  private void cleanup() {
    closing = true;
    if (delayed != null) {
      delayed.cancel(false);
      delayed = null;
    }
    Object msg;
    while ((msg = pending.poll()) != null) {
      ReferenceCountUtil.release(msg);
    }
  }

  private void updateAutoRead(ChannelHandlerContext ctx) {
    ctx.channel().config().setAutoRead(pending.isEmpty() && ctx.channel().isWritable());
  }

  private void process(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof HttpRequest request) {
      onRequest(ctx, request);
    }
    if (msg instanceof HttpContent content) {
      onContent(ctx, content);
    } else {
      ReferenceCountUtil.release(msg);
    }
  }

  /** Runs queued messages of later requests until one has to wait again. */
  private void drain(ChannelHandlerContext ctx) {
    while (!closing && !pending.isEmpty() && !waitingForResponse()) {
      process(ctx, pending.poll());
    }
    ctx.flush();
    if (!closing) {
      updateAutoRead(ctx);
    }
  }

  private void onRequest(ChannelHandlerContext ctx, HttpRequest request) {
    requestInProgress = true;
    if (request.decoderResult().isFailure()) {
      keepAlive = false;
      Throwable cause = request.decoderResult().cause();
      respond(
          ctx,
          json(
              HttpResponseStatus.BAD_REQUEST,
              error(400, "bad request: " + (cause != null ? cause.getMessage() : "malformed"))));
      return;
    }
    keepAlive = HttpUtil.isKeepAlive(request);
    HttpMethod method = request.method();
    boolean head = method.equals(HttpMethod.HEAD);
    boolean get = head || method.equals(HttpMethod.GET);
    String path = path(request.uri());

    if (path.equals("/echo")) {
      if (method.equals(HttpMethod.POST) || method.equals(HttpMethod.PUT)) {
        startEcho(ctx, request);
      } else {
        respond(ctx, methodNotAllowed("POST, PUT"));
      }
      return;
    }
    if (!get) {
      respond(ctx, isKnownGetPath(path) ? methodNotAllowed("GET, HEAD") : notFound());
      return;
    }
    FullHttpResponse response;
    switch (path) {
      case "/", "/api/info" -> response = json(HttpResponseStatus.OK, info.runtimeResponse());
      case "/version", "/api/version" ->
          response = json(HttpResponseStatus.OK, info.versionResponse());
      case "/headers" -> response = json(HttpResponseStatus.OK, headers(request));
      case "/healthz", "/readyz" -> response = json(HttpResponseStatus.OK, Map.of("status", "OK"));
      default -> {
        if (path.startsWith("/status/")) {
          response = status(path.substring("/status/".length()));
        } else if (path.startsWith("/bytes/")) {
          response = bytes(path.substring("/bytes/".length()));
        } else if (path.startsWith("/delay/")) {
          startDelay(ctx, path.substring("/delay/".length()), head);
          return;
        } else {
          response = notFound();
        }
      }
    }
    if (head) {
      response = headOnly(response);
    }
    respond(ctx, response);
  }

  private void onContent(ChannelHandlerContext ctx, HttpContent content) {
    boolean last = content instanceof LastHttpContent;
    if (!requestInProgress) {
      // Content without a request (cannot happen with HttpServerCodec): drop it.
      content.release();
      return;
    }
    if (echoing) {
      if (last) {
        echoing = false;
        requestInProgress = false;
        ctx.write(new DefaultLastHttpContent(content.content()));
        finishResponse(ctx);
      } else {
        ctx.write(new DefaultHttpContent(content.content()));
      }
      return;
    }
    content.release();
    if (last) {
      requestInProgress = false;
      if (!responseInProgress) {
        drain(ctx);
      }
    }
  }

  private void startEcho(ChannelHandlerContext ctx, HttpRequest request) {
    HttpResponse response = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
    String contentType = request.headers().get(HttpHeaderNames.CONTENT_TYPE);
    response
        .headers()
        .set(
            HttpHeaderNames.CONTENT_TYPE,
            contentType != null ? contentType : HttpHeaderValues.APPLICATION_OCTET_STREAM);
    if (HttpUtil.isTransferEncodingChunked(request) || !HttpUtil.isContentLengthSet(request)) {
      if (HttpUtil.isTransferEncodingChunked(request)) {
        HttpUtil.setTransferEncodingChunked(response, true);
      } else {
        // No Content-Length and not chunked: an HTTP/1.1 request without a body (RFC 9112 6.3).
        HttpUtil.setContentLength(response, 0);
      }
    } else {
      HttpUtil.setContentLength(response, HttpUtil.getContentLength(request, 0L));
    }
    HttpUtil.setKeepAlive(response, keepAlive);
    responseInProgress = true;
    echoing = true;
    ctx.write(response);
  }

  private void startDelay(ChannelHandlerContext ctx, String seconds, boolean head) {
    int delay = parseInt(seconds, 0, MAX_DELAY_SECONDS);
    if (delay < 0) {
      respond(
          ctx,
          json(
              HttpResponseStatus.BAD_REQUEST,
              error(400, "delay must be whole seconds in [0, " + MAX_DELAY_SECONDS + "]")));
      return;
    }
    responseInProgress = true;
    Map<String, Object> body = Map.of("delay", delay);
    delayed =
        ctx.executor()
            .schedule(
                () -> {
                  delayed = null;
                  if (closing) {
                    return;
                  }
                  FullHttpResponse response = json(HttpResponseStatus.OK, body);
                  respond(ctx, head ? headOnly(response) : response);
                  ctx.flush();
                },
                delay,
                TimeUnit.SECONDS);
  }

  /** Writes a complete response; the exchange ends when the request is read too. */
  private void respond(ChannelHandlerContext ctx, FullHttpResponse response) {
    HttpUtil.setKeepAlive(response, keepAlive);
    responseInProgress = true;
    ctx.write(response);
    finishResponse(ctx);
  }

  private void finishResponse(ChannelHandlerContext ctx) {
    responseInProgress = false;
    if (!keepAlive) {
      closing = true;
      ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
      return;
    }
    if (!requestInProgress && !pending.isEmpty()) {
      drain(ctx);
    }
  }

  private FullHttpResponse status(String code) {
    int status = parseInt(code, 200, 599);
    if (status < 0) {
      return json(HttpResponseStatus.BAD_REQUEST, error(400, "status code must be in [200, 599]"));
    }
    HttpResponseStatus responseStatus = HttpResponseStatus.valueOf(status);
    if (status == 204 || status == 304) {
      // These responses have no body (RFC 9110 15.3.5, 15.4.5).
      FullHttpResponse response =
          new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, responseStatus, Unpooled.EMPTY_BUFFER);
      if (status == 304) {
        HttpUtil.setContentLength(response, 0);
      }
      return response;
    }
    return json(responseStatus, Map.of("status", status));
  }

  private static FullHttpResponse notFound() {
    return json(HttpResponseStatus.NOT_FOUND, error(404, "not found"));
  }

  private static FullHttpResponse methodNotAllowed(String allow) {
    FullHttpResponse response =
        json(HttpResponseStatus.METHOD_NOT_ALLOWED, error(405, "method not allowed"));
    response.headers().set(HttpHeaderNames.ALLOW, allow);
    return response;
  }

  private static boolean isKnownGetPath(String path) {
    return switch (path) {
      case "/", "/api/info", "/version", "/api/version", "/headers", "/healthz", "/readyz" -> true;
      default ->
          path.startsWith("/status/") || path.startsWith("/delay/") || path.startsWith("/bytes/");
    };
  }

  private static Map<String, Object> error(int code, String message) {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("code", code);
    body.put("message", message);
    return body;
  }

  /** The request headers as Go's {@code http.Header} marshals them: canonical name → values. */
  private static Map<String, Object> headers(HttpRequest request) {
    Map<String, Object> body = new LinkedHashMap<>();
    for (Map.Entry<String, String> header : request.headers()) {
      @SuppressWarnings("unchecked")
      List<String> values =
          (List<String>)
              body.computeIfAbsent(canonicalHeaderName(header.getKey()), k -> new ArrayList<>());
      values.add(header.getValue());
    }
    return body;
  }

  /** Go's {@code textproto.CanonicalMIMEHeaderKey}: {@code x-canary} → {@code X-Canary}. */
  static String canonicalHeaderName(String name) {
    StringBuilder out = new StringBuilder(name.length());
    boolean upper = true;
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      if (c == ' ' || c > 0x7f) {
        return name; // Go leaves keys with spaces or non-ASCII bytes as they are.
      }
      out.append(upper ? Character.toUpperCase(c) : Character.toLowerCase(c));
      upper = c == '-';
    }
    return out.toString();
  }

  /** The path of an origin-form or absolute-form request target, without the query. */
  static String path(String uri) {
    String target = uri;
    int scheme = target.indexOf("://");
    if (scheme > 0 && !target.startsWith("/")) {
      int slash = target.indexOf('/', scheme + 3);
      target = slash < 0 ? "/" : target.substring(slash);
    }
    int end = target.length();
    int query = target.indexOf('?');
    if (query >= 0) {
      end = query;
    }
    int fragment = target.indexOf('#');
    if (fragment >= 0 && fragment < end) {
      end = fragment;
    }
    target = target.substring(0, end);
    return target.isEmpty() ? "/" : target;
  }

  /** Parses a decimal in [min, max]; -1 when it is not one. */
  private static int parseInt(String text, int min, int max) {
    if (text.isEmpty() || text.length() > 9) {
      return -1;
    }
    for (int i = 0; i < text.length(); i++) {
      if (text.charAt(i) < '0' || text.charAt(i) > '9') {
        return -1;
      }
    }
    int value = Integer.parseInt(text);
    return value < min || value > max ? -1 : value;
  }

  private static FullHttpResponse json(HttpResponseStatus status, Object body) {
    byte[] bytes;
    try {
      bytes = JSON.writeValueAsBytes(body);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write JSON", e); // maps of strings always serialize
    }
    FullHttpResponse response =
        new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.wrappedBuffer(bytes));
    response.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/json; charset=utf-8");
    HttpUtil.setContentLength(response, bytes.length);
    return response;
  }

  /** The most {@code GET /bytes/{n}} sends. */
  static final int MAX_BYTES = 1 << 20;

  /**
   * {@code GET /bytes/{n}} (as httpbin's, for benchmarks): {@code n} bytes of {@code
   * application/octet-stream}, the same every time (a repeating {@code a}..{@code z}), with {@code
   * Content-Length}; n in [0, {@link #MAX_BYTES}], else a JSON 400.
   */
  private static FullHttpResponse bytes(String text) {
    int n = parseInt(text, 0, MAX_BYTES);
    if (n < 0) {
      return json(
          HttpResponseStatus.BAD_REQUEST,
          error(400, "bytes: not a whole number in [0, " + MAX_BYTES + "]: " + text));
    }
    byte[] body = new byte[n];
    for (int i = 0; i < n; i++) {
      body[i] = (byte) ('a' + i % 26);
    }
    FullHttpResponse response =
        new DefaultFullHttpResponse(
            HttpVersion.HTTP_1_1, HttpResponseStatus.OK, Unpooled.wrappedBuffer(body));
    response.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_OCTET_STREAM);
    HttpUtil.setContentLength(response, n);
    return response;
  }

  /** The same response without its body (a HEAD answer keeps GET's Content-Length). */
  private static FullHttpResponse headOnly(FullHttpResponse response) {
    FullHttpResponse head = response.replace(Unpooled.EMPTY_BUFFER);
    response.release();
    return head;
  }
}
