package dev.weft.proxy.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
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
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The write batching of the proxy's HTTP/2 connections: a real frame codec and multiplexer on a
 * real socket and event loop, sixteen streams opened in one event-loop task as one downstream read
 * gives them; and that its flush when the channel turns unwritable never re-enters a write.
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

  /**
   * Records, after the consolidation handler, the writability changes it passes on and whether they
   * came while a write was under way (as the HTTP/2 codec's write of a DATA frame is).
   */
  private static final class Probe extends ChannelDuplexHandler {
    final List<String> events = new ArrayList<>();
    boolean writing;

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
      writing = true;
      try {
        ctx.write(msg, promise);
      } finally {
        writing = false;
      }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
      events.add(
          (writing ? "during a write: " : "")
              + (ctx.channel().isWritable() ? "writable" : "unwritable"));
      ctx.fireChannelWritabilityChanged();
    }
  }

  @Test
  void aWritabilityChangeDuringAWriteReachesTheCodecAfterTheWrite() throws Exception {
    Probe probe = new Probe();
    Channel ch =
        new Bootstrap()
            .group(group)
            .channel(NioSocketChannel.class)
            .option(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(8, 16))
            .handler(new ChannelInboundHandlerAdapter())
            .connect(server.getLocalSocketAddress())
            .sync()
            .channel();
    List<String> duringTheTask =
        ch.eventLoop()
            .submit(
                () -> {
                  ch.pipeline().addLast(Http2Windows.flushConsolidation(), probe);
                  // A flush deferred to the end of the task (no read in progress), then a write
                  // over the high-water mark: the handler flushes as the channel turns unwritable,
                  // and the socket takes the bytes, so the channel is writable again before the
                  // write returns. Before the fix both changes reached the codec inside its write,
                  // where Netty's HTTP/2 flow controller then miscounts what it wrote.
                  ch.pipeline().flush();
                  ch.pipeline().write(Unpooled.wrappedBuffer(new byte[32]));
                  return List.copyOf(probe.events);
                })
            .get();
    List<String> after = ch.eventLoop().submit(() -> List.copyOf(probe.events)).get();
    ch.close().sync();
    assertThat(duringTheTask).isEmpty();
    // Passed on from a later task, as the channel is then.
    assertThat(after).isNotEmpty().allMatch(e -> !e.startsWith("during a write"));
  }

  @Test
  void withoutConsolidationEachStreamFlushesTheConnection() throws Exception {
    // What the connections did before: a writev(2) per stream.
    assertThat(flushesFor16Streams(false)).isGreaterThanOrEqualTo(16);
  }
}
