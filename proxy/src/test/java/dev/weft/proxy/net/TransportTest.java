package dev.weft.proxy.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.weft.proxy.testing.IoUringHere;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.channel.uring.IoUringSocketChannel;
import io.netty.util.ResourceLeakDetector;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The proxy's choice of Netty transport and of its buffer leak detector level. */
class TransportTest {
  @Test
  void thePropertyNamesTheTransportAndUnsetMeansTheDefault() {
    assertThat(Transport.parse(null)).isEqualTo(Transport.DEFAULT).isEqualTo(Transport.EPOLL);
    assertThat(Transport.parse(" ")).isEqualTo(Transport.DEFAULT);
    assertThat(Transport.parse("io_uring")).isEqualTo(Transport.IO_URING);
    assertThat(Transport.parse("IO_URING")).isEqualTo(Transport.IO_URING);
    assertThat(Transport.parse("iouring")).isEqualTo(Transport.IO_URING);
    assertThat(Transport.parse("epoll")).isEqualTo(Transport.EPOLL);
    assertThat(Transport.parse("nio")).isEqualTo(Transport.NIO);
    assertThatThrownBy(() -> Transport.parse("kqueue"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "-Dweft.transport=kqueue: not a transport (io_uring, epoll or nio; unset: epoll)");
  }

  @Test
  void eachTransportIsTheOneAskedForWithItsChannelClasses() throws Exception {
    Transport nio = Transport.create(1, "nio");
    try {
      assertThat(nio.name()).isEqualTo("nio");
      assertThat(nio.serverChannel()).isEqualTo(NioServerSocketChannel.class);
      assertThat(nio.socketChannel()).isEqualTo(NioSocketChannel.class);
      assertEchoes(nio);
    } finally {
      nio.group().shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
    }
    Transport epoll = Transport.create(1, null);
    try {
      assertThat(epoll.name()).as("Linux x86_64 has epoll").isEqualTo("epoll");
      assertThat(epoll.serverChannel()).isEqualTo(EpollServerSocketChannel.class);
      assertThat(epoll.socketChannel()).isEqualTo(EpollSocketChannel.class);
      assertEchoes(epoll);
    } finally {
      epoll.group().shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
    }
  }

  @Test
  void ioUringServesConnectionsOverRealSockets() throws Exception {
    IoUringHere.assume();
    Transport t = Transport.create(1, "io_uring");
    try {
      assertThat(t.name()).isEqualTo("io_uring");
      assertThat(t.serverChannel()).isEqualTo(IoUringServerSocketChannel.class);
      assertThat(t.socketChannel()).isEqualTo(IoUringSocketChannel.class);
      assertEchoes(t);
    } finally {
      t.group().shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
    }
  }

  /**
   * A listener on {@code t}'s loops echoes what it reads: a JDK socket's bytes come back exact
   * after the socket half-closed; then a client channel of {@code t}'s socket class connects and
   * writes.
   */
  private static void assertEchoes(Transport t) throws Exception {
    Channel server =
        new ServerBootstrap()
            .group(t.group())
            .channel(t.serverChannel())
            .childHandler(
                new ChannelInitializer<Channel>() {
                  @Override
                  protected void initChannel(Channel ch) {
                    ch.pipeline()
                        .addLast(
                            new ChannelInboundHandlerAdapter() {
                              @Override
                              public void channelRead(ChannelHandlerContext ctx, Object msg) {
                                ctx.writeAndFlush(msg);
                              }
                            });
                  }
                })
            .bind(new InetSocketAddress("127.0.0.1", 0))
            .sync()
            .channel();
    try {
      int port = ((InetSocketAddress) server.localAddress()).getPort();
      try (Socket s = new Socket("127.0.0.1", port)) {
        byte[] sent = "hello over ".concat(t.name()).repeat(1000).getBytes(StandardCharsets.UTF_8);
        s.getOutputStream().write(sent);
        s.shutdownOutput();
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        while (got.size() < sent.length) {
          int n = s.getInputStream().read(buf);
          assertThat(n).as("the echo ended early").isPositive();
          got.write(buf, 0, n);
        }
        assertThat(got.toByteArray()).isEqualTo(sent);
      }
      // And a client connection of the transport's own socket class connects out.
      Channel client =
          new Bootstrap()
              .group(t.group())
              .channel(t.socketChannel())
              .handler(new ChannelInboundHandlerAdapter())
              .connect(server.localAddress())
              .sync()
              .channel();
      ByteBuf ping = Unpooled.copiedBuffer("ping", StandardCharsets.US_ASCII);
      client.writeAndFlush(ping).sync();
      client.close().sync();
    } finally {
      server.close().sync();
    }
  }

  @Test
  void leakDetectionIsOffUnlessItsLevelIsSetExplicitly() {
    assertThat(Transport.leakDetection(null, null)).isEqualTo(ResourceLeakDetector.Level.DISABLED);
    assertThat(Transport.leakDetection("paranoid", null)).as("kept as Netty read it").isNull();
    assertThat(Transport.leakDetection(null, "advanced")).isNull();
  }

  @Test
  void theTestsRunWithTheLevelSetSoTheyKeepTheDetector() {
    // pom.xml sets it for surefire: creating a transport leaves the detector on.
    assertThat(System.getProperty(Transport.LEAK_DETECTION)).isEqualTo("simple");
    Transport t = Transport.create(1);
    try {
      assertThat(ResourceLeakDetector.isEnabled()).isTrue();
    } finally {
      t.group().shutdownGracefully(0, 0, java.util.concurrent.TimeUnit.MILLISECONDS);
    }
  }
}
