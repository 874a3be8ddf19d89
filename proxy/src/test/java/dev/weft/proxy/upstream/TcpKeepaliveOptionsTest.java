package dev.weft.proxy.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weft.proxy.config.TcpKeepalive;
import dev.weft.proxy.net.Transport;
import dev.weft.proxy.testing.IoUringHere;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelConfig;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.socket.nio.NioChannelOption;
import io.netty.channel.uring.IoUringChannelOption;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.concurrent.TimeUnit;
import jdk.net.ExtendedSocketOptions;
import org.junit.jupiter.api.Test;

/**
 * Envoy's {@code upstream_connection_options.tcp_keepalive} reaches the upstream socket on each of
 * the proxy's transports ({@link ConnectionPool#keepalive}): read back from the connected socket
 * ({@code getsockopt}) through the transport's own options.
 */
class TcpKeepaliveOptionsTest {
  static final TcpKeepalive KEEPALIVE = new TcpKeepalive(3, 77, 11);

  @Test
  void nio() throws Exception {
    try (Connection c = Connection.open(Transport.NIO)) {
      ChannelConfig config = c.channel().config();
      assertThat(config.getOption(ChannelOption.SO_KEEPALIVE)).isTrue();
      assertThat(config.getOption(NioChannelOption.of(ExtendedSocketOptions.TCP_KEEPCOUNT)))
          .isEqualTo(3);
      assertThat(config.getOption(NioChannelOption.of(ExtendedSocketOptions.TCP_KEEPIDLE)))
          .isEqualTo(77);
      assertThat(config.getOption(NioChannelOption.of(ExtendedSocketOptions.TCP_KEEPINTERVAL)))
          .isEqualTo(11);
    }
  }

  @Test
  void epoll() throws Exception {
    try (Connection c = Connection.open(Transport.EPOLL)) {
      ChannelConfig config = c.channel().config();
      assertThat(config.getOption(ChannelOption.SO_KEEPALIVE)).isTrue();
      assertThat(config.getOption(EpollChannelOption.TCP_KEEPCNT)).isEqualTo(3);
      assertThat(config.getOption(EpollChannelOption.TCP_KEEPIDLE)).isEqualTo(77);
      assertThat(config.getOption(EpollChannelOption.TCP_KEEPINTVL)).isEqualTo(11);
    }
  }

  @Test
  void ioUring() throws Exception {
    IoUringHere.assume();
    try (Connection c = Connection.open(Transport.IO_URING)) {
      ChannelConfig config = c.channel().config();
      assertThat(config.getOption(ChannelOption.SO_KEEPALIVE)).isTrue();
      assertThat(config.getOption(IoUringChannelOption.TCP_KEEPCNT)).isEqualTo(3);
      assertThat(config.getOption(IoUringChannelOption.TCP_KEEPIDLE)).isEqualTo(77);
      assertThat(config.getOption(IoUringChannelOption.TCP_KEEPINTVL)).isEqualTo(11);
    }
  }

  /** A connection of a transport's to a JDK server socket, made with {@link #KEEPALIVE}. */
  record Connection(Transport transport, ServerSocket server, Channel channel)
      implements AutoCloseable {
    static Connection open(String name) throws Exception {
      Transport t = Transport.create(1, name);
      assertThat(t.name()).isEqualTo(name);
      ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
      Bootstrap b =
          new Bootstrap()
              .group(t.group())
              .channel(t.socketChannel())
              .handler(new ChannelInboundHandlerAdapter());
      ConnectionPool.keepalive(b, t.socketChannel(), KEEPALIVE);
      return new Connection(t, server, b.connect(server.getLocalSocketAddress()).sync().channel());
    }

    @Override
    public void close() throws Exception {
      channel.close().sync();
      server.close();
      transport.group().shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
    }
  }
}
