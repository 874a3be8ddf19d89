package dev.weft.proxy.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The write batching of the proxy's HTTP/2 connections: a real frame codec and multiplexer on a
 * real socket and event loop, sixteen streams opened in one event-loop task as one downstream read
 * gives them.
 */
class Http2WindowsTest {
  private EventLoopGroup group;
  private ServerSocket server;

  @BeforeEach
  void start() throws Exception {
    group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    // A peer that reads and discards what it gets.
    Thread.ofPlatform()
        .daemon()
        .start(
            () -> {
              try (Socket s = server.accept();
                  InputStream in = s.getInputStream()) {
                byte[] b = new byte[8192];
                while (in.read(b) >= 0) {
                  // discard
                }
              } catch (Exception e) {
                // closed
              }
            });
  }

  @AfterEach
  void stop() throws Exception {
    server.close();
    group.shutdownGracefully(0, 0, java.util.concurrent.TimeUnit.SECONDS).sync();
  }

  /** Counts the flushes that reach the transport. */
  private static final class Transport extends ChannelOutboundHandlerAdapter {
    final AtomicInteger flushes = new AtomicInteger();

    @Override
    public void flush(ChannelHandlerContext ctx) {
      flushes.incrementAndGet();
      ctx.flush();
    }
  }

  private int flushesFor16Streams(boolean consolidated) throws Exception {
    Transport transport = new Transport();
    Channel ch =
        new Bootstrap()
            .group(group)
            .channel(NioSocketChannel.class)
            .handler(new ChannelInboundHandlerAdapter())
            .connect(server.getLocalSocketAddress())
            .sync()
            .channel();
    ch.eventLoop()
        .submit(
            () -> {
              ch.pipeline().addLast(transport);
              if (consolidated) {
                ch.pipeline().addLast(Http2Windows.flushConsolidation());
              }
              ch.pipeline()
                  .addLast(
                      Http2FrameCodecBuilder.forClient().build(),
                      new Http2MultiplexHandler(new ChannelInboundHandlerAdapter()));
            })
        .sync();
    ch.eventLoop().submit(() -> {}).sync(); // the preface's flush, if deferred, has run
    transport.flushes.set(0);

    ch.eventLoop()
        .submit(
            () -> {
              for (int i = 0; i < 16; i++) {
                new Http2StreamChannelBootstrap(ch)
                    .handler(new ChannelInboundHandlerAdapter())
                    .open()
                    .getNow()
                    .writeAndFlush(
                        new DefaultHttp2HeadersFrame(
                            new DefaultHttp2Headers()
                                .method("GET")
                                .path("/" + i)
                                .scheme("http")
                                .authority("a"),
                            true));
              }
            })
        .sync();
    // Tasks run in order: a flush deferred by the batch above has run after this one.
    ch.eventLoop().submit(() -> {}).sync();
    int n = transport.flushes.get();
    ch.close().sync();
    return n;
  }

  @Test
  void streamsOpenedInOneTaskReachTheTransportInOneFlush() throws Exception {
    assertThat(flushesFor16Streams(true)).isEqualTo(1);
  }

  @Test
  void withoutConsolidationEachStreamFlushesTheConnection() throws Exception {
    // What the connections did before: a writev(2) per stream.
    assertThat(flushesFor16Streams(false)).isGreaterThanOrEqualTo(16);
  }
}
