package dev.weft.proxy.http;

import static dev.weft.proxy.testing.TestAdsServer.CDS;
import static dev.weft.proxy.testing.TestAdsServer.LDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.weft.proxy.Proxy;
import dev.weft.proxy.ProxyBootstrap;
import dev.weft.proxy.testing.TestAdsServer;
import dev.weft.proxy.testing.Xds;
import dev.weft.xds.NodeId;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Abusive HTTP/2 clients (a Netty HTTP/2 client that misbehaves on purpose, and curl): a rapid
 * reset flood (CVE-2023-44487), a stream that never reads, an oversized header list, and GOAWAY
 * when the proxy shuts down. In each case the proxy refuses the abuse and keeps serving others.
 */
class Http2AbuseTest {
  static final String CLUSTER = "inbound|9898||";

  @TempDir Path tmp;
  TestAdsServer ads;
  Proxy proxy;
  int port;
  EventLoopGroup group;
  ServerSocket upstream;
  final AtomicLong upstreamWritten = new AtomicLong();
  Thread upstreamThread;

  @BeforeEach
  void setUp() throws Exception {
    group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    // An HTTP/1.1 upstream that answers every request with an endless chunked body, counting
    // what it managed to write (its writes block once nobody reads).
    // Its listen backlog holds every connection the proxy may open at once: each flood stream that
    // reaches the router before its reset opens one (Envoy's HTTP/1.1 pool does too), up to the
    // reset budget's 200, faster than this accept loop takes them on a busy machine. With a backlog
    // of 50 the kernel dropped the SYN of the test's own request (TcpExtListenOverflows), whose
    // connect then failed at the cluster's 1 s connect_timeout: 503 UF, 4 of 50 runs under load.
    upstream =
        new ServerSocket(
            0,
            4 * Http2Downstream.MAX_RESETS_PER_WINDOW,
            java.net.InetAddress.getLoopbackAddress());
    upstreamThread = Thread.ofVirtual().start(this::serveUpstream);
    ads = TestAdsServer.start();
    port = Xds.freePort();
    ads.set(
        CDS,
        "c1",
        Xds.staticCluster(CLUSTER, (InetSocketAddress) upstream.getLocalSocketAddress()));
    ads.set(
        LDS,
        "l1",
        Xds.listener(
            "127.0.0.1_" + port,
            port,
            Xds.hcm()
                .setRouteConfig(
                    Xds.routes(
                        "r",
                        Xds.vhost(
                            "v",
                            List.of("*"),
                            Xds.prefixRoute("/", CLUSTER).toBuilder()
                                .setRoute(
                                    Xds.prefixRoute("/", CLUSTER).getRoute().toBuilder()
                                        .setTimeout(
                                            com.google.protobuf.Duration.newBuilder()
                                                .setSeconds(0)))
                                .build())))
                .build()));
    proxy =
        Proxy.start(
            ProxyBootstrap.builder()
                .nodeId(new NodeId(NodeId.SIDECAR, "127.0.0.1", "app-v1", "demo"))
                .metadata(Map.of("NAMESPACE", "demo"))
                .xdsServer(new InetSocketAddress("127.0.0.1", ads.port()))
                .adminAddress(new InetSocketAddress("127.0.0.1", 0))
                .accessLogPath(tmp.resolve("access.log"))
                .build());
    assertThat(proxy.awaitReady(Duration.ofSeconds(30))).as("%s", proxy.failure()).isTrue();
  }

  private void serveUpstream() {
    while (!upstream.isClosed()) {
      Socket s;
      try {
        s = upstream.accept();
      } catch (IOException e) {
        return;
      }
      Thread.ofVirtual()
          .start(
              () -> {
                try (s) {
                  InputStream in = s.getInputStream();
                  OutputStream out = s.getOutputStream();
                  String head;
                  // Keep-alive: the proxy pools a connection whose response completed (as for a
                  // flood's stream answered before its reset arrived, on a busy machine) and sends
                  // the next request on it; answering only the first and closing on the second
                  // made that request a 503 (upstream reset before headers).
                  while ((head = readHead(in)) != null && head.startsWith("GET /small")) {
                    out.write(
                        "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"
                            .getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                  }
                  if (head == null) {
                    return; // the proxy closed it
                  }
                  out.write(
                      "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"
                          .getBytes(StandardCharsets.US_ASCII));
                  byte[] chunk = new byte[64 * 1024];
                  byte[] size = "10000\r\n".getBytes(StandardCharsets.US_ASCII);
                  byte[] crlf = "\r\n".getBytes(StandardCharsets.US_ASCII);
                  // 1 GiB at most: a proxy without flow control would take it all.
                  for (int i = 0; i < 16 * 1024; i++) {
                    out.write(size);
                    out.write(chunk);
                    out.write(crlf);
                    upstreamWritten.addAndGet(chunk.length);
                  }
                } catch (IOException e) {
                  // the proxy reset the request
                }
              });
    }
  }

  /** A request head (up to the empty line), or null at the end of the stream. */
  private static String readHead(InputStream in) throws IOException {
    StringBuilder head = new StringBuilder();
    int b;
    while ((b = in.read()) >= 0) {
      head.append((char) b);
      if (head.length() >= 4 && head.lastIndexOf("\r\n\r\n") == head.length() - 4) {
        return head.toString();
      }
    }
    return null;
  }

  @AfterEach
  void tearDown() throws Exception {
    if (proxy != null) {
      proxy.close();
    }
    ads.close();
    upstream.close();
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
  }

  /** An HTTP/2 client connection (prior knowledge) whose streams the test drives by hand. */
  final class Client {
    final Channel parent;
    final CompletableFuture<Http2GoAwayFrame> goAway = new CompletableFuture<>();
    final int port;

    Client() throws InterruptedException {
      this(Http2AbuseTest.this.port);
    }

    Client(int port) throws InterruptedException {
      this.port = port;
      parent =
          new Bootstrap()
              .group(group)
              .channel(NioSocketChannel.class)
              .handler(
                  new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                      ch.pipeline()
                          .addLast(
                              Http2FrameCodecBuilder.forClient().build(),
                              new Http2MultiplexHandler(new ChannelInboundHandlerAdapter()),
                              new ChannelInboundHandlerAdapter() {
                                @Override
                                public void channelRead(ChannelHandlerContext ctx, Object msg) {
                                  if (msg instanceof Http2GoAwayFrame g) {
                                    goAway.complete(g.retain());
                                  }
                                  ReferenceCountUtil.release(msg);
                                }
                              });
                    }
                  })
              .connect("127.0.0.1", port)
              .sync()
              .channel();
    }

    /** Opens a stream, sends a GET for {@code path}; the stream's reads follow {@code autoRead}. */
    Http2StreamChannel get(String path, boolean autoRead, ChannelInboundHandlerAdapter handler)
        throws InterruptedException {
      return request(path, autoRead, handler, true);
    }

    /** Opens a stream with a request head; {@code end}: the request ends with it. */
    Http2StreamChannel request(
        String path, boolean autoRead, ChannelInboundHandlerAdapter handler, boolean end)
        throws InterruptedException {
      Http2StreamChannel s =
          new Http2StreamChannelBootstrap(parent)
              .option(io.netty.channel.ChannelOption.AUTO_READ, autoRead)
              .handler(handler)
              .open()
              .sync()
              .getNow();
      Http2Headers h =
          new DefaultHttp2Headers()
              .method(end ? "GET" : "POST")
              .path(path)
              .scheme("http")
              .authority("127.0.0.1:" + port);
      s.writeAndFlush(new DefaultHttp2HeadersFrame(h, end));
      return s;
    }
  }

  /** Collects a stream's response status. */
  static final class Status extends ChannelInboundHandlerAdapter {
    final CompletableFuture<String> status = new CompletableFuture<>();

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (msg instanceof Http2HeadersFrame h && h.headers().status() != null) {
        status.complete(h.headers().status().toString());
      }
      ReferenceCountUtil.release(msg);
    }
  }

  String smallGetOverHttp2() throws Exception {
    Client c = new Client();
    try {
      Status st = new Status();
      c.get("/small", true, st);
      return st.status.get(10, TimeUnit.SECONDS);
    } finally {
      c.parent.close().sync();
    }
  }

  @Test
  void aRapidResetFloodIsCutOffAndOthersAreServed() throws Exception {
    Client abuser = new Client();
    int sent = 0;
    while (abuser.parent.isActive() && sent < 2000) {
      Http2StreamChannel s;
      try {
        // CVE-2023-44487's pattern: a request head, then at once RST_STREAM, again and again.
        s = abuser.request("/small", true, new ChannelInboundHandlerAdapter(), false);
      } catch (Exception e) {
        break; // the connection went away under us
      }
      s.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.CANCEL));
      sent++;
    }
    // The proxy closes the abusive connection (a well-behaved one stays open: see the other
    // tests), after its reset budget (Http2Downstream's 200 per 30 s).
    assertThat(abuser.parent.closeFuture().await(30, TimeUnit.SECONDS)).isTrue();
    if (abuser.goAway.isDone()) {
      // The GOAWAY names the last stream the proxy took: about the 200th of the 2000 offered.
      Http2GoAwayFrame g = abuser.goAway.get();
      int limit = Http2Downstream.MAX_RESETS_PER_WINDOW;
      assertThat(g.lastStreamId()).isBetween(2 * limit - 1, 2 * (limit + 20) + 1);
      g.release();
    }
    assertThat(smallGetOverHttp2()).isEqualTo("200");
  }

  @Test
  void aStreamThatNeverReadsStopsTheUpstreamInsteadOfFillingTheProxy() throws Exception {
    Client slow = new Client();
    slow.get("/endless", false, new ChannelInboundHandlerAdapter());
    // Wait until the upstream's writes stall (the proxy stopped reading it), or it wrote
    // everything (the proxy buffered without bound).
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    long last = -1;
    int stable = 0;
    while (System.nanoTime() < deadline && stable < 5 && upstreamWritten.get() < 1L << 30) {
      long now = upstreamWritten.get();
      stable = now == last && now > 0 ? stable + 1 : 0;
      last = now;
      Thread.sleep(200);
    }
    // Bounded by the client's windows, the proxy's stream buffer and the sockets' buffers: far
    // below the 1 GiB on offer.
    assertThat(upstreamWritten.get()).isGreaterThan(0).isLessThan(64L << 20);
    assertThat(smallGetOverHttp2()).isEqualTo("200");
    slow.parent.close().sync();
  }

  @Test
  void anOversizedHeaderListIsRefusedAndOthersAreServed() throws Exception {
    assumeTrue(Http2DownstreamTest.has("curl"), "curl is not installed");
    // Over SETTINGS_MAX_HEADER_LIST_SIZE (max_request_headers_kb, 60 KiB): 431 (RFC 6585) for
    // that stream.
    assertThat(request(62 * 1024)).isEqualTo("431");
    // Far over it (Netty's bound, 125%): the connection is closed with GOAWAY.
    assertThat(request(100 * 1024)).contains("curl: (");
    assertThat(request(0)).isEqualTo("200");
    assertThat(smallGetOverHttp2()).isEqualTo("200");
  }

  /** One request over HTTP/2 with a header of {@code headerBytes}; its status or curl's error. */
  String request(int headerBytes) throws Exception {
    return Http2DownstreamTest.run(
            "curl",
            "-sS",
            "--http2-prior-knowledge",
            "-o",
            "/dev/null",
            "-w",
            "%{response_code}",
            "-H",
            "x-big: " + "x".repeat(headerBytes),
            "http://127.0.0.1:" + port + "/small")
        .trim();
  }

  @Test
  void anIdleHttp2ConnectionIsClosedByTheIdleTimeout() throws Exception {
    int idlePort = Xds.freePort();
    ads.set(
        LDS,
        "l2",
        Xds.listener(
            "127.0.0.1_" + idlePort,
            idlePort,
            Xds.hcm()
                .setCommonHttpProtocolOptions(
                    io.envoyproxy.envoy.config.core.v3.HttpProtocolOptions.newBuilder()
                        .setIdleTimeout(
                            com.google.protobuf.Duration.newBuilder().setNanos(300_000_000)))
                .setRouteConfig(
                    Xds.routes("r", Xds.vhost("v", List.of("*"), Xds.prefixRoute("/", CLUSTER))))
                .build()));
    // The second listener is bound once its LDS is ACKed: a test that went on without it (as a
    // 10 s deadline that ran out silently did on a busy machine) would fail on a refused connect.
    dev.weft.proxy.testing.Conditions.await("the listener l2 ACKed", () -> ads.acked(LDS, "l2"));
    Client c = new Client(idlePort);
    Status st = new Status();
    c.get("/small", true, st);
    assertThat(st.status.get(10, TimeUnit.SECONDS)).isEqualTo("200");
    // No stream open for 300 ms: GOAWAY, then the connection closes (Envoy's idle_timeout).
    Http2GoAwayFrame g = c.goAway.get(10, TimeUnit.SECONDS);
    assertThat(g.errorCode()).isEqualTo(Http2Error.NO_ERROR.code());
    g.release();
    assertThat(c.parent.closeFuture().await(10, TimeUnit.SECONDS)).isTrue();
  }

  @Test
  void shuttingDownSendsGoAway() throws Exception {
    Client c = new Client();
    Status st = new Status();
    c.get("/small", true, st);
    assertThat(st.status.get(10, TimeUnit.SECONDS)).isEqualTo("200");
    proxy.close();
    proxy = null;
    Http2GoAwayFrame g = c.goAway.get(10, TimeUnit.SECONDS);
    assertThat(g.errorCode()).isEqualTo(Http2Error.NO_ERROR.code());
    g.release();
  }
}
