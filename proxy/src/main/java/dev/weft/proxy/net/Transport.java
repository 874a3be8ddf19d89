package dev.weft.proxy.net;

import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;

/**
 * The proxy's Netty transport: native epoll when available, NIO otherwise, with one event loop per
 * core. Listeners and upstream connections share the same loops; an upstream connection lives on
 * the loop of the downstream connection that opened it.
 *
 * @param name {@code epoll} or {@code nio}
 * @param group the worker event loops
 * @param serverChannel the listening socket class
 * @param socketChannel the connection socket class
 */
public record Transport(
    String name,
    MultiThreadIoEventLoopGroup group,
    Class<? extends ServerChannel> serverChannel,
    Class<? extends SocketChannel> socketChannel) {

  /** Starts the event loops ({@code threads} of them; 0 means one per core). */
  public static Transport create(int threads) {
    int n = threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
    DefaultThreadFactory tf = new DefaultThreadFactory("weft-worker", true);
    if (Epoll.isAvailable()) {
      IoHandlerFactory f = EpollIoHandler.newFactory();
      return new Transport(
          "epoll",
          new MultiThreadIoEventLoopGroup(n, tf, f),
          EpollServerSocketChannel.class,
          EpollSocketChannel.class);
    }
    return new Transport(
        "nio",
        new MultiThreadIoEventLoopGroup(n, tf, NioIoHandler.newFactory()),
        NioServerSocketChannel.class,
        NioSocketChannel.class);
  }
}
