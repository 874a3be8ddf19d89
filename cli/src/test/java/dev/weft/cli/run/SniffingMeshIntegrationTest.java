package dev.weft.cli.run;

import static dev.weft.cli.run.Conditions.await;
import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.controlplane.mesh.MeshConfig;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.LineBasedFrameDecoder;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2FrameStream;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.string.StringDecoder;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.util.SelfSignedCertificate;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Protocol sniffing through a sidecar pair (mTLS), configured only through the control plane's API:
 * on one Service port of unknown protocol, an HTTP/1.1 client, an h2c client (prior knowledge and
 * {@code Upgrade: h2c}), a raw TCP client and {@code openssl s_client} all reach the app through
 * the caller's outbound listener on its pod IP; a server-first protocol gets through once
 * MeshConfig {@code protocolDetectionTimeout} expires; and a DestinationRule {@code
 * h2UpgradePolicy: UPGRADE} makes the hop between the sidecars HTTP/2 for an HTTP/1.1 client.
 */
class SniffingMeshIntegrationTest {
  @TempDir Path tmp;

  private final List<AutoCloseable> closeables = new ArrayList<>();

  @AfterEach
  void closeAll() throws Exception {
    for (int i = closeables.size() - 1; i >= 0; i--) {
      closeables.get(i).close();
    }
  }

  @Test
  void everyProtocolGetsThroughAnUnnamedPortAndH2UpgradeReachesTheServerSidecar() throws Exception {
    MeshForTests mesh =
        MeshForTests.start(tmp, MeshConfig.parse("protocolDetectionTimeout: 300ms\n"));
    closeables.add(mesh);
    mesh.apply(
        """
                    apiVersion: v1
                    kind: Service
                    metadata: {name: poly, namespace: demo}
                    spec:
                      selector: {app: poly}
                      ports:
                      - {name: custom, port: 7400, targetPort: 7400}
                      - {name: smtp, port: 7401, targetPort: 7401}
                    ---
                    apiVersion: v1
                    kind: Service
                    metadata: {name: web, namespace: demo}
                    spec:
                      selector: {app: poly}
                      ports:
                      - {name: http, port: 7402, targetPort: 7402}
                    ---
                    apiVersion: networking.istio.io/v1
                    kind: DestinationRule
                    metadata: {name: web, namespace: demo}
                    spec:
                      host: web.demo.svc.cluster.local
                      trafficPolicy: {connectionPool: {http: {h2UpgradePolicy: UPGRADE}}}
                    """,
        "sniff.yaml");
    MeshForTests.Workload poly = mesh.allocate("poly-v1", "custom:7400", "smtp:7401", "http:7402");
    polyglot(poly.app(7400));
    greeter(poly.app(7401));
    polyglot(poly.app(7402));
    mesh.sidecar(poly, "app=poly");
    MeshForTests.Workload caller = mesh.client("caller");

    String url = "http://" + caller.podIp() + ":7400";
    await(
        "the caller's sniffing listener on port 7400",
        () -> {
          try {
            return curl("--http1.1", url + "/ready").startsWith("poly http/1.1 /ready");
          } catch (Exception e) {
            return false;
          }
        });
    // HTTP/1.1: the HTTP chain (HTTP/1.1 upstream: the cluster uses the client's protocol).
    assertThat(curl("--http1.1", "-w", "\n%{http_version}", url + "/one"))
        .isEqualTo("poly http/1.1 /one\n1.1");
    // h2c with prior knowledge: the HTTP chain, and HTTP/2 all the way to the app.
    assertThat(curl("--http2-prior-knowledge", "-w", "\n%{http_version}", url + "/two"))
        .isEqualTo("poly h2 /two\n2");
    // Upgrade: h2c from curl --http2: answered over HTTP/2.
    assertThat(curl("--http2", "-w", "\n%{http_version}", url + "/three"))
        .isEqualTo("poly h2 /three\n2");
    // Between the sidecars (mTLS), the caller offered Istio's istio-http/1.1 and istio-h2 ALPN
    // (istio.alpn): the server sidecar's sniffed listener took its HTTP chain, so its HTTP access
    // log and istio_requests_total show the requests, not a TCP connection.
    await(
        "the server sidecar's HTTP access log lines of the sniffed requests",
        () -> {
          try {
            String log = Files.readString(tmp.resolve("poly-v1.access.log"));
            return log.contains("\"GET /one HTTP/1.1\" 200")
                && log.contains("\"GET /two HTTP/2\" 200")
                && log.contains("\"GET /three HTTP/2\" 200");
          } catch (IOException e) {
            return false;
          }
        });
    // (Only these requests reached the server sidecar so far.)
    assertThat(curl("http://" + poly.podIp() + ":15000/stats/prometheus"))
        .containsPattern("istio_requests_total\\{[^}]*reporter=\"destination\"");
    // Neither TLS nor HTTP: the TCP chain (default_filter_chain).
    assertThat(line(caller.podIp(), 7400, "hello tcp\n")).isEqualTo("tcp:hello tcp");
    // The client's own TLS: relayed to the app, which terminates it.
    Process openssl =
        new ProcessBuilder("openssl", "s_client", "-quiet", "-connect", caller.podIp() + ":7400")
            .redirectError(ProcessBuilder.Redirect.DISCARD)
            .start();
    openssl.getOutputStream().write("over tls\n".getBytes(StandardCharsets.US_ASCII));
    openssl.getOutputStream().flush();
    String tls =
        new BufferedReader(new InputStreamReader(openssl.getInputStream(), StandardCharsets.UTF_8))
            .readLine();
    openssl.destroy();
    assertThat(tls).isEqualTo("tls:over tls");

    // A server-first protocol: the client waits for the greeting; after protocolDetectionTimeout
    // the caller's listener takes the TCP chain and the greeting comes through.
    try (Socket s = new Socket(caller.podIp(), 7401)) {
      s.setSoTimeout(20_000);
      BufferedReader r =
          new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
      assertThat(r.readLine()).isEqualTo("220 poly ready");
      s.getOutputStream().write("HELO caller\n".getBytes(StandardCharsets.US_ASCII));
      assertThat(r.readLine()).isEqualTo("250 HELO caller");
    }

    // h2UpgradePolicy UPGRADE: an HTTP/1.1 request through the caller's http_proxy reaches the
    // server's sidecar over HTTP/2 (its access log's %PROTOCOL%).
    assertThat(
            curl(
                "--http1.1",
                "-x",
                "http://" + caller.podIp() + ":15001",
                "-w",
                "\n%{http_version}",
                "http://web.demo.svc.cluster.local:7402/upgraded"))
        .isEqualTo("poly http/1.1 /upgraded\n1.1");
    await(
        "the server sidecar's access log line of the upgraded request",
        () -> {
          try {
            return Files.readString(tmp.resolve("poly-v1.access.log"))
                .contains("\"GET /upgraded HTTP/2\" 200");
          } catch (IOException e) {
            return false;
          }
        });
  }

  private static String curl(String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("curl", "-sS", "--max-time", "20"));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    byte[] out = p.getInputStream().readAllBytes();
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    return new String(out, StandardCharsets.UTF_8);
  }

  private static String line(String host, int port, String send) throws IOException {
    try (Socket s = new Socket(host, port)) {
      s.setSoTimeout(20_000);
      s.getOutputStream().write(send.getBytes(StandardCharsets.UTF_8));
      return new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8))
          .readLine();
    }
  }

  private void greeter(InetSocketAddress address) throws IOException {
    TcpApps.Conversation greet =
        s -> {
          s.getOutputStream().write("220 poly ready\r\n".getBytes(StandardCharsets.US_ASCII));
          String l =
              new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8))
                  .readLine();
          s.getOutputStream().write(("250 " + l + "\n").getBytes(StandardCharsets.UTF_8));
        };
    closeables.add(TcpApps.serve(address, greet));
  }

  /**
   * An app that speaks whatever its client speaks on one port: TLS (self-signed; a line answered
   * {@code tls:<line>}), HTTP/2 with prior knowledge ({@code poly h2 <path>}), HTTP/1.1 ({@code
   * poly http/1.1 <uri>}), or lines ({@code tcp:<line>}).
   */
  private void polyglot(InetSocketAddress address) throws Exception {
    SelfSignedCertificate cert = new SelfSignedCertificate("poly.demo");
    SslContext ssl = SslContextBuilder.forServer(cert.certificate(), cert.privateKey()).build();
    MultiThreadIoEventLoopGroup group =
        new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    closeables.add(() -> group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync());
    Channel server =
        new ServerBootstrap()
            .group(group)
            .channel(NioServerSocketChannel.class)
            .childHandler(
                new ChannelInitializer<SocketChannel>() {
                  @Override
                  protected void initChannel(SocketChannel ch) {
                    ch.pipeline().addLast(new Detect(ssl));
                  }
                })
            .bind(address)
            .sync()
            .channel();
    closeables.add(() -> server.close().sync());
  }

  private static final class Detect extends ByteToMessageDecoder {
    private final SslContext ssl;

    Detect(SslContext ssl) {
      this.ssl = ssl;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
      if (in.readableBytes() < 3) {
        return;
      }
      ChannelPipeline p = ctx.pipeline();
      String start = in.toString(in.readerIndex(), 3, StandardCharsets.US_ASCII);
      if (in.getByte(in.readerIndex()) == 0x16) {
        // The held bytes go to the TLS handler when this one is removed.
        p.addLast(ssl.newHandler(ctx.alloc()));
        lines(p, "tls");
      } else if (start.equals("PRI")) {
        p.addLast(Http2FrameCodecBuilder.forServer().build(), new H2Answer());
      } else if (start.equals("GET") || start.equals("POS")) {
        p.addLast(new HttpServerCodec(), new HttpObjectAggregator(1 << 16), new H1Answer());
      } else {
        lines(p, "tcp");
      }
      p.remove(this);
    }

    private static void lines(ChannelPipeline p, String prefix) {
      p.addLast(
          new LineBasedFrameDecoder(1024),
          new StringDecoder(StandardCharsets.UTF_8),
          new SimpleChannelInboundHandler<String>() {
            @Override
            protected void channelRead0(ChannelHandlerContext ctx, String line) {
              ctx.writeAndFlush(
                      Unpooled.copiedBuffer(prefix + ":" + line + "\n", StandardCharsets.UTF_8))
                  .addListener(f -> ctx.close());
            }
          });
    }
  }

  private static final class H1Answer extends SimpleChannelInboundHandler<FullHttpRequest> {
    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
      DefaultFullHttpResponse r =
          new DefaultFullHttpResponse(
              HttpVersion.HTTP_1_1,
              HttpResponseStatus.OK,
              Unpooled.copiedBuffer("poly http/1.1 " + req.uri(), StandardCharsets.UTF_8));
      r.headers().set(HttpHeaderNames.CONTENT_LENGTH, r.content().readableBytes());
      ctx.writeAndFlush(r);
    }
  }

  /** Answers each stream at its end (a proxy may end a GET with an empty DATA frame). */
  private static final class H2Answer extends SimpleChannelInboundHandler<Object> {
    private final java.util.Map<Integer, CharSequence> paths = new java.util.HashMap<>();

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, Object msg) {
      Http2FrameStream stream;
      boolean end;
      if (msg instanceof Http2HeadersFrame h) {
        stream = h.stream();
        end = h.isEndStream();
        if (h.headers().path() != null) {
          paths.put(stream.id(), h.headers().path());
        }
      } else if (msg instanceof Http2DataFrame d) {
        stream = d.stream();
        end = d.isEndStream();
      } else {
        return;
      }
      if (!end) {
        return;
      }
      ctx.write(
          new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("200")).stream(stream));
      ctx.writeAndFlush(
          new DefaultHttp2DataFrame(
                  Unpooled.copiedBuffer(
                      "poly h2 " + paths.remove(stream.id()), StandardCharsets.UTF_8),
                  true)
              .stream(stream));
    }
  }
}
