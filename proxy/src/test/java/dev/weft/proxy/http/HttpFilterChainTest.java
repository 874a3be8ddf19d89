package dev.weft.proxy.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.proxy.accesslog.AccessLogger;
import dev.weft.proxy.config.FilterChainConfig;
import dev.weft.proxy.config.FilterChainMatch;
import dev.weft.proxy.config.ListenerConfig;
import dev.weft.proxy.config.RuntimeConfig;
import dev.weft.proxy.http.filter.FilterStatus;
import dev.weft.proxy.http.filter.HttpConnectionManagerConfig;
import dev.weft.proxy.http.filter.HttpFilter;
import dev.weft.proxy.http.filter.HttpFilterCallbacks;
import dev.weft.proxy.http.filter.HttpFilterChain;
import dev.weft.proxy.http.filter.HttpFilterFactory;
import dev.weft.proxy.net.Http1ServerCodec;
import dev.weft.proxy.stats.ProxyStats;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerUpgradeHandler;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The connection manager's filter chain over an {@link EmbeddedChannel}: test-only filters that
 * stop and continue, and one that answers with a local reply; a test-only terminal filter that
 * echoes the request body, so that no upstream is involved.
 */
class HttpFilterChainTest {
  @TempDir Path dir;

  final ProxyStats stats = new ProxyStats();
  AccessLogger accessLog;
  EmbeddedChannel channel;

  /** The filters the last request created, in creation order. */
  final List<Object> created = new ArrayList<>();

  @AfterEach
  void close() {
    if (channel != null) {
      channel.finishAndReleaseAll();
    }
    if (accessLog != null) {
      accessLog.close();
    }
  }

  /** Stops the request head (and, if asked, the response head) until the test continues it. */
  final class Gate implements HttpFilter {
    final HttpFilterCallbacks callbacks;
    final boolean onResponse;
    boolean sawHeaders;
    int chunks;

    Gate(HttpFilterCallbacks callbacks, boolean onResponse) {
      this.callbacks = callbacks;
      this.onResponse = onResponse;
      created.add(this);
    }

    @Override
    public FilterStatus decodeHeaders(HttpRequest request) {
      sawHeaders = true;
      request.headers().set("x-gate", "passed");
      return onResponse ? FilterStatus.CONTINUE : FilterStatus.STOP;
    }

    @Override
    public FilterStatus decodeData(HttpContent chunk) {
      chunks++;
      return FilterStatus.CONTINUE;
    }

    @Override
    public FilterStatus encodeHeaders(HttpResponse response) {
      response.headers().set("x-gate-response", "seen");
      return onResponse ? FilterStatus.STOP : FilterStatus.CONTINUE;
    }
  }

  /** Answers every request with a 403 local reply carrying a response flag. */
  static final class Deny implements HttpFilter {
    final HttpFilterCallbacks callbacks;

    Deny(HttpFilterCallbacks callbacks) {
      this.callbacks = callbacks;
    }

    @Override
    public FilterStatus decodeHeaders(HttpRequest request) {
      callbacks.sendLocalReply(403, "RBAC: access denied", "RBAC", "rbac_access_denied");
      return FilterStatus.STOP;
    }
  }

  /** Terminal: echoes the request body and the x-gate header once the request is complete. */
  final class Echo implements HttpFilter {
    final HttpFilterCallbacks callbacks;
    final ByteBuf body = Unpooled.buffer();
    String gate;
    boolean destroyed;

    Echo(HttpFilterCallbacks callbacks) {
      this.callbacks = callbacks;
      created.add(this);
    }

    @Override
    public FilterStatus decodeHeaders(HttpRequest request) {
      gate = request.headers().get("x-gate");
      return FilterStatus.CONTINUE;
    }

    @Override
    public FilterStatus decodeData(HttpContent chunk) {
      body.writeBytes(chunk.content());
      boolean last = chunk instanceof LastHttpContent;
      chunk.release(); // the terminal filter owns what it is given
      if (last) {
        HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        head.headers().set(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes());
        head.headers().set("x-echo-gate", String.valueOf(gate));
        callbacks.encodeHeaders(head);
        callbacks.encodeData(new DefaultLastHttpContent(body.retainedDuplicate()));
      }
      return FilterStatus.CONTINUE;
    }

    @Override
    public void onDestroy() {
      destroyed = true;
      body.release();
    }
  }

  static HttpFilterFactory factory(java.util.function.Function<HttpFilterCallbacks, HttpFilter> f) {
    return f::apply;
  }

  HttpFilterFactory echo() {
    return new HttpFilterFactory() {
      @Override
      public HttpFilter create(HttpFilterCallbacks callbacks) {
        return new Echo(callbacks);
      }

      @Override
      public boolean terminal() {
        return true;
      }
    };
  }

  /** What the connection manager wrote towards the codec: message types, and flushes. */
  final List<String> written = new ArrayList<>();

  final ChannelOutboundHandlerAdapter recorder =
      new ChannelOutboundHandlerAdapter() {
        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
          written.add(msg.getClass().getSimpleName());
          ctx.write(msg, promise);
        }

        @Override
        public void flush(ChannelHandlerContext ctx) {
          written.add("flush");
          ctx.flush();
        }
      };

  void start(List<HttpFilterFactory> filters) throws Exception {
    start(filters, echo(), false);
  }

  void start(List<HttpFilterFactory> filters, HttpFilterFactory terminal, boolean h2c)
      throws Exception {
    accessLog = AccessLogger.open(dir.resolve("access.log"), stats);
    DataPlane dp = new DataPlane(stats, accessLog, null, null);
    HttpConnectionManagerConfig hcm =
        new HttpConnectionManagerConfig(
            "test", "unused", null, "envoy", false, new HttpFilterChain(filters, terminal));
    ListenerConfig lc =
        new ListenerConfig(
            "l",
            new InetSocketAddress("127.0.0.1", 0),
            List.of(new FilterChainConfig("", FilterChainMatch.ANY, hcm)),
            stats.listener("l"));
    dp.publish(
        new RuntimeConfig(java.util.Map.of("l", lc), java.util.Map.of(), java.util.Map.of()));
    Http1ServerCodec codec =
        new Http1ServerCodec(new io.netty.handler.codec.http.HttpDecoderConfig());
    HttpConnectionManager manager = new HttpConnectionManager(dp, lc, 0, hcm);
    if (h2c) {
      manager.allowH2cUpgrade(codec);
    }
    channel = new EmbeddedChannel(codec, recorder, manager);
  }

  void send(String s) {
    channel.writeInbound(Unpooled.copiedBuffer(s, StandardCharsets.US_ASCII));
  }

  String response() {
    StringBuilder sb = new StringBuilder();
    ByteBuf b;
    while ((b = channel.readOutbound()) != null) {
      sb.append(b.toString(StandardCharsets.US_ASCII));
      b.release();
    }
    return sb.toString();
  }

  static final String POST = "POST /echo HTTP/1.1\r\nhost: h\r\ncontent-length: 5\r\n\r\nhel";

  @Test
  void theFaultFilterDecidesWithItsInjectedRandomSource() throws Exception {
    // Abort 30 % (Envoy's featureEnabled: a draw below 300,000 in a million hits).
    io.envoyproxy.envoy.extensions.filters.http.fault.v3.HTTPFault f =
        io.envoyproxy.envoy.extensions.filters.http.fault.v3.HTTPFault.newBuilder()
            .setAbort(
                io.envoyproxy.envoy.extensions.filters.http.fault.v3.FaultAbort.newBuilder()
                    .setHttpStatus(503)
                    .setPercentage(
                        io.envoyproxy.envoy.type.v3.FractionalPercent.newBuilder()
                            .setNumerator(30)))
            .build();
    java.util.ArrayDeque<Integer> draws = new java.util.ArrayDeque<>(List.of(299_999, 300_000));
    List<Integer> bounds = new ArrayList<>();
    HttpFilterFactory fault =
        dev.weft.proxy.filters.fault.FaultFilterFactory.provider(
                bound -> {
                  bounds.add(bound);
                  return draws.poll();
                })
            .create(com.google.protobuf.Any.pack(f));
    start(List.of(fault));
    send("GET /a HTTP/1.1\r\nhost: h\r\n\r\n");
    assertThat(response()).startsWith("HTTP/1.1 503").endsWith("fault filter abort");
    send("GET /b HTTP/1.1\r\nhost: h\r\n\r\n");
    assertThat(response()).startsWith("HTTP/1.1 200");
    assertThat(draws).isEmpty();
    assertThat(bounds).containsExactly(1_000_000, 1_000_000);
  }

  @Test
  void istioAlpnCreatesNothingPerStreamAndTheChainCarriesItsListsToTheTerminalFilter()
      throws Exception {
    // Istio's istio.alpn: upstream_protocol HTTP11 -> [istio-http/1.1, istio].
    com.google.protobuf.ByteString.Output b = com.google.protobuf.ByteString.newOutput();
    com.google.protobuf.CodedOutputStream o = com.google.protobuf.CodedOutputStream.newInstance(b);
    o.writeEnum(1, 1);
    o.writeString(2, "istio-http/1.1");
    o.writeString(2, "istio");
    o.flush();
    com.google.protobuf.ByteString.Output c = com.google.protobuf.ByteString.newOutput();
    com.google.protobuf.CodedOutputStream oc = com.google.protobuf.CodedOutputStream.newInstance(c);
    oc.writeBytes(1, b.toByteString());
    oc.flush();
    HttpFilterFactory alpn =
        dev.weft.proxy.filters.alpn.AlpnFilterFactory.PROVIDER.create(
            com.google.protobuf.Any.newBuilder()
                .setTypeUrl(dev.weft.proxy.filters.alpn.AlpnFilterFactory.TYPE_URL)
                .setValue(c.toByteString())
                .build());
    List<dev.weft.proxy.upstream.AlpnOverrides> seen = new ArrayList<>();
    HttpFilterFactory looking =
        factory(
            cb ->
                new HttpFilter() {
                  @Override
                  public FilterStatus decodeHeaders(HttpRequest request) {
                    seen.add(cb.connectionManager().httpFilters().alpnOverrides());
                    return FilterStatus.CONTINUE;
                  }
                });
    HttpFilterChain chain = new HttpFilterChain(List.of(alpn, looking), echo());
    assertThat(chain.size()).isEqualTo(2);
    assertThat(chain.perStreamSize()).as("istio.alpn has no object per stream").isEqualTo(1);
    assertThat(chain.perStream(0)).isSameAs(looking);
    assertThat(chain.alpnOverrides().forUpstream(false, 1))
        .containsExactly("istio-http/1.1", "istio");

    start(List.of(alpn, looking));
    send("GET /a HTTP/1.1\r\nhost: h\r\n\r\n");
    assertThat(response()).startsWith("HTTP/1.1 200");
    assertThat(seen).hasSize(1);
    assertThat(seen.get(0).forUpstream(false, 1)).containsExactly("istio-http/1.1", "istio");
    assertThat(created).as("only the terminal filter was created").hasSize(1);
    assertThat(new HttpFilterChain(List.of(looking), echo()).alpnOverrides()).isNull();
  }

  @Test
  void aFilterThatStopsHoldsTheRequestUntilItContinues() throws Exception {
    start(List.of(factory(cb -> new Gate(cb, false))));
    send(POST);
    send("lo");
    Gate gate = (Gate) created.get(0);
    Echo echo = (Echo) created.get(1);
    assertThat(gate.sawHeaders).isTrue();
    assertThat(echo.gate).as("the terminal filter has not seen the request yet").isNull();
    assertThat(gate.chunks).isZero();
    assertThat(response()).isEmpty();

    gate.callbacks.continueDecoding();

    assertThat(echo.gate).isEqualTo("passed");
    assertThat(gate.chunks).as("queued chunks go through the whole chain").isEqualTo(2);
    String r = response();
    assertThat(r)
        .startsWith("HTTP/1.1 200 OK\r\n")
        .contains("x-echo-gate: passed")
        .endsWith("hello");
    assertThat(echo.destroyed).isTrue();
  }

  @Test
  void aFilterThatStopsTheResponseHoldsItUntilItContinues() throws Exception {
    start(List.of(factory(cb -> new Gate(cb, true))));
    send(POST + "lo");
    Gate gate = (Gate) created.get(0);
    assertThat(response()).as("head and body are held").isEmpty();

    gate.callbacks.continueEncoding();

    String r = response();
    assertThat(r).startsWith("HTTP/1.1 200 OK\r\n").contains("x-gate-response: seen");
    assertThat(r).endsWith("hello");

    // The connection stays usable: the next request runs through new filter instances.
    send(POST + "LO");
    ((Gate) created.get(2)).callbacks.continueEncoding();
    assertThat(response()).endsWith("helLO");
  }

  @Test
  void aLocalReplyEndsTheStreamWithItsResponseFlag() throws Exception {
    start(List.of(factory(Deny::new), factory(cb -> new Gate(cb, false))));
    send("GET /secret HTTP/1.1\r\nhost: h\r\n\r\n");
    assertThat(created).as("filters after the one that replied still exist").hasSize(2);
    assertThat(((Gate) created.get(0)).sawHeaders).isFalse();
    assertThat(((Echo) created.get(1)).destroyed).isTrue();
    String r = response();
    assertThat(r)
        .startsWith("HTTP/1.1 403 Forbidden\r\n")
        .contains("content-length: 19")
        .contains("server: envoy")
        .endsWith("RBAC: access denied");
    assertThat(channel.isOpen()).as("keep-alive after a local reply").isTrue();

    Path log = dir.resolve("access.log");
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    String line = "";
    while (System.nanoTime() < deadline) {
      line = Files.exists(log) ? Files.readString(log) : "";
      if (!line.isEmpty()) {
        break;
      }
      java.util.concurrent.locks.LockSupport.parkNanos(1_000_000); // poll the async logger
    }
    assertThat(line).contains("\"GET /secret HTTP/1.1\" 403 RBAC rbac_access_denied");
  }

  @Test
  void aResponseWhoseEndFollowsItsHeadLeavesAsOneMessageAndOneFlush() throws Exception {
    start(List.of());
    send(POST + "lo");
    assertThat(response())
        .startsWith("HTTP/1.1 200 OK\r\n")
        .contains("content-length: 5\r\n")
        .endsWith("\r\n\r\nhello");
    // Head and end in one pass through the codec's encoder, one flush.
    assertThat(written).containsExactly("DefaultFullHttpResponse", "flush");
  }

  /** Terminal: answers a head at the request's end, flushes it, and leaves the body to the test. */
  final class Streamer implements HttpFilter {
    final HttpFilterCallbacks callbacks;

    Streamer(HttpFilterCallbacks callbacks) {
      this.callbacks = callbacks;
      created.add(this);
    }

    @Override
    public FilterStatus decodeHeaders(HttpRequest request) {
      return FilterStatus.CONTINUE;
    }

    @Override
    public FilterStatus decodeData(HttpContent chunk) {
      boolean last = chunk instanceof LastHttpContent;
      chunk.release();
      if (last) {
        HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        head.headers().set(HttpHeaderNames.CONTENT_LENGTH, 4);
        callbacks.encodeHeaders(head);
        callbacks.flushDownstream();
      }
      return FilterStatus.CONTINUE;
    }
  }

  @Test
  void aResponseHeadHeldForItsEndStillLeavesAtAFlushBeforeTheBody() throws Exception {
    HttpFilterFactory streamer =
        new HttpFilterFactory() {
          @Override
          public HttpFilter create(HttpFilterCallbacks callbacks) {
            return new Streamer(callbacks);
          }

          @Override
          public boolean terminal() {
            return true;
          }
        };
    start(List.of(), streamer, false);
    send("GET /s HTTP/1.1\r\nhost: h\r\n\r\n");
    assertThat(response()).startsWith("HTTP/1.1 200 OK\r\n").endsWith("content-length: 4\r\n\r\n");
    HttpFilterCallbacks cb = ((Streamer) created.get(0)).callbacks;
    cb.encodeData(
        new io.netty.handler.codec.http.DefaultHttpContent(
            Unpooled.copiedBuffer("ab", StandardCharsets.US_ASCII)));
    cb.encodeData(
        new DefaultLastHttpContent(Unpooled.copiedBuffer("cd", StandardCharsets.US_ASCII)));
    assertThat(response()).isEqualTo("abcd");
    assertThat(written)
        .containsExactly(
            "DefaultHttpResponse",
            "flush",
            "DefaultHttpContent",
            "DefaultLastHttpContent",
            "flush");
  }

  @Test
  void theH2cUpgradeHandlerJoinsOnlyForARequestThatAsksForAnUpgrade() throws Exception {
    start(List.of(), echo(), true);
    send("GET /a HTTP/1.1\r\nhost: h\r\n\r\n");
    assertThat(response()).startsWith("HTTP/1.1 200 OK\r\n");
    assertThat(channel.pipeline().get(HttpServerUpgradeHandler.class))
        .as("plain requests pass no aggregator")
        .isNull();
    // An upgrade the proxy does not do here (not h2c): Netty's handler joins, passes it on.
    send("GET /b HTTP/1.1\r\nhost: h\r\nupgrade: foo\r\nconnection: upgrade\r\n\r\n");
    assertThat(channel.pipeline().get(HttpServerUpgradeHandler.class)).isNotNull();
    assertThat(response()).startsWith("HTTP/1.1 200 OK\r\n");
    send("GET /c HTTP/1.1\r\nhost: h\r\n\r\n");
    assertThat(response()).startsWith("HTTP/1.1 200 OK\r\n");
  }
}
