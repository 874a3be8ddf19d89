package dev.weft.proxy.http;

import static dev.weft.proxy.testing.TestAdsServer.CDS;
import static dev.weft.proxy.testing.TestAdsServer.LDS;
import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.proxy.Proxy;
import dev.weft.proxy.ProxyBootstrap;
import dev.weft.proxy.testing.TestAdsServer;
import dev.weft.proxy.testing.Xds;
import dev.weft.xds.NodeId;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * HTTP/1.1 upgrades through the proxy, with independent parts on real sockets: Java's {@code
 * java.net.http.WebSocket} client, the proxy, and a Netty WebSocket echo server.
 */
class WebSocketUpgradeTest {
  static final String CLUSTER = "inbound|9898||";

  @TempDir Path tmp;
  TestAdsServer ads;
  Proxy proxy;
  int port;
  EventLoopGroup group;
  Channel server;

  @BeforeEach
  void setUp() throws Exception {
    ads = TestAdsServer.start();
    port = Xds.freePort();
    group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    server =
        new ServerBootstrap()
            .group(group)
            .channel(NioServerSocketChannel.class)
            .childHandler(
                new ChannelInitializer<SocketChannel>() {
                  @Override
                  protected void initChannel(SocketChannel ch) {
                    ch.pipeline()
                        .addLast(
                            new HttpServerCodec(),
                            new HttpObjectAggregator(65536),
                            new WebSocketServerProtocolHandler("/ws", null, false, 1 << 20),
                            new SimpleChannelInboundHandler<WebSocketFrame>() {
                              @Override
                              protected void channelRead0(
                                  ChannelHandlerContext ctx, WebSocketFrame f) {
                                if (f instanceof TextWebSocketFrame t) {
                                  ctx.writeAndFlush(new TextWebSocketFrame("echo: " + t.text()));
                                } else if (f instanceof BinaryWebSocketFrame b) {
                                  ctx.writeAndFlush(new BinaryWebSocketFrame(b.content().retain()));
                                }
                              }
                            });
                  }
                })
            .bind("127.0.0.1", 0)
            .sync()
            .channel();
  }

  @AfterEach
  void tearDown() throws Exception {
    if (proxy != null) {
      proxy.close();
    }
    ads.close();
    server.close().sync();
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
  }

  void start(UnaryOperator<HttpConnectionManager.Builder> hcm) throws IOException {
    ads.set(CDS, "c1", Xds.staticCluster(CLUSTER, (InetSocketAddress) server.localAddress()));
    HttpConnectionManager.Builder b =
        Xds.hcm()
            .setRouteConfig(
                Xds.routes(CLUSTER, Xds.vhost("v", List.of("*"), Xds.prefixRoute("/", CLUSTER))));
    ads.set(LDS, "l1", Xds.listener("127.0.0.1_" + port, port, hcm.apply(b).build()));
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

  static HttpConnectionManager.Builder websocket(HttpConnectionManager.Builder b) {
    return b.addUpgradeConfigs(
        HttpConnectionManager.UpgradeConfig.newBuilder().setUpgradeType("websocket"));
  }

  /** Collects what the client receives. */
  static final class Received implements WebSocket.Listener {
    final LinkedBlockingQueue<Object> messages = new LinkedBlockingQueue<>();
    final CompletableFuture<Integer> closed = new CompletableFuture<>();
    private final StringBuilder text = new StringBuilder();
    private final java.io.ByteArrayOutputStream binary = new java.io.ByteArrayOutputStream();

    @Override
    public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
      text.append(data);
      if (last) {
        messages.add(text.toString());
        text.setLength(0);
      }
      ws.request(1);
      return null;
    }

    @Override
    public CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
      byte[] b = new byte[data.remaining()];
      data.get(b);
      binary.writeBytes(b); // a message may arrive in parts
      if (last) {
        messages.add(binary.toByteArray());
        binary.reset();
      }
      ws.request(1);
      return null;
    }

    @Override
    public CompletionStage<?> onClose(WebSocket ws, int status, String reason) {
      closed.complete(status);
      return null;
    }

    Object next() throws InterruptedException {
      Object m = messages.poll(20, TimeUnit.SECONDS);
      assertThat(m).as("a message in time").isNotNull();
      return m;
    }
  }

  @Test
  void aWebSocketIsTunnelledAfterThe101() throws Exception {
    start(WebSocketUpgradeTest::websocket);
    Received got = new Received();
    HttpClient client = HttpClient.newHttpClient();
    WebSocket ws =
        client
            .newWebSocketBuilder()
            .buildAsync(URI.create("ws://127.0.0.1:" + port + "/ws"), got)
            .get(20, TimeUnit.SECONDS);
    try {
      ws.sendText("hello", true).get(20, TimeUnit.SECONDS);
      assertThat(got.next()).isEqualTo("echo: hello");
      byte[] big = new byte[300_000];
      new java.util.Random(3).nextBytes(big);
      ws.sendBinary(ByteBuffer.wrap(big), true).get(20, TimeUnit.SECONDS);
      assertThat((byte[]) got.next()).isEqualTo(big);
      for (int i = 0; i < 50; i++) {
        ws.sendText("m" + i, true).get(20, TimeUnit.SECONDS);
      }
      for (int i = 0; i < 50; i++) {
        assertThat(got.next()).isEqualTo("echo: m" + i);
      }
      ws.sendClose(WebSocket.NORMAL_CLOSURE, "bye").get(20, TimeUnit.SECONDS);
      assertThat(got.closed.get(20, TimeUnit.SECONDS)).isEqualTo(WebSocket.NORMAL_CLOSURE);
    } finally {
      ws.abort();
      client.shutdownNow();
    }
    // The upgrade is one HTTP stream answered 101.
    DownstreamAwait.until(() -> accessLog().contains("\" 101 "));
  }

  @Test
  void anUpgradeTheConnectionManagerDoesNotEnableIsRefused() throws Exception {
    start(UnaryOperator.identity());
    try (Socket s = new Socket("127.0.0.1", port)) {
      s.setSoTimeout(20_000);
      s.getOutputStream()
          .write(
              ("GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                      + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                      + "Sec-WebSocket-Version: 13\r\n\r\n")
                  .getBytes(StandardCharsets.US_ASCII));
      String head = new String(s.getInputStream().readNBytes(12), StandardCharsets.US_ASCII);
      assertThat(head).isEqualTo("HTTP/1.1 403");
    }
  }

  String accessLog() {
    try {
      return java.nio.file.Files.exists(tmp.resolve("access.log"))
          ? java.nio.file.Files.readString(tmp.resolve("access.log"))
          : "";
    } catch (IOException e) {
      return "";
    }
  }

  /** Polls a condition with a deadline. */
  static final class DownstreamAwait {
    static void until(java.util.function.BooleanSupplier c) throws InterruptedException {
      long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
      while (!c.getAsBoolean()) {
        assertThat(System.nanoTime()).as("condition in time").isLessThan(deadline);
        Thread.sleep(10); // polling interval
      }
    }
  }
}
