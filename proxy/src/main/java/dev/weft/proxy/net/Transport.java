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
import io.netty.util.ResourceLeakDetector;
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

  /** Netty's system property for its buffer leak detector's level (and its older spelling). */
  static final String LEAK_DETECTION = "io.netty.leakDetection.level";

  static final String LEAK_DETECTION_OLD = "io.netty.leakDetectionLevel";

  /**
   * Starts the event loops ({@code threads} of them; 0 means one per core). Netty's buffer leak
   * detector is switched off unless its level is set explicitly (see {@link #leakDetection}).
   */
  public static Transport create(int threads) {
    ResourceLeakDetector.Level leaks =
        leakDetection(System.getProperty(LEAK_DETECTION), System.getProperty(LEAK_DETECTION_OLD));
    if (leaks != null) {
      ResourceLeakDetector.setLevel(leaks);
    }
    int n = threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
    DefaultThreadFactory tf = new DefaultThreadFactory("weft-worker", true);
    if (Epoll.isAvailable()) {
      IoHandlerFactory f = new EpollKeepRegistered(EpollIoHandler.newFactory());
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

  /**
   * The leak detector level a proxy runs with, or null to keep Netty's: {@code DISABLED} when
   * neither property is set. Netty's default ({@code SIMPLE}) records a stack trace for one buffer
   * in 128 and makes every pipeline {@code touch} each message: 3% of a sidecar's CPU per request
   * on the HTTP/1.1 mTLS path (docs/benchmarks.md, 2026-11-30 perf/hot2). A developer hunting a
   * leak sets {@code -Dio.netty.leakDetection.level=paranoid}; the proxy's tests run with {@code
   * simple} (proxy/pom.xml).
   */
  static ResourceLeakDetector.Level leakDetection(String level, String oldLevel) {
    return level == null && oldLevel == null ? ResourceLeakDetector.Level.DISABLED : null;
  }
}
