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
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.channel.uring.IoUringSocketChannel;
import io.netty.util.ResourceLeakDetector;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The proxy's Netty transport, with one event loop per core: the one {@code -Dweft.transport} names
 * ({@code io_uring}, {@code epoll} or {@code nio}; {@link #DEFAULT} when unset), falling back from
 * io_uring to epoll and from epoll to NIO when the native one cannot load here (said once, on the
 * proxy's log, with Netty's reason). Listeners and upstream connections share the same loops; an
 * upstream connection lives on the loop of the downstream connection that opened it.
 *
 * @param name {@code io_uring}, {@code epoll} or {@code nio}
 * @param group the worker event loops
 * @param serverChannel the listening socket class
 * @param socketChannel the connection socket class
 */
public record Transport(
    String name,
    MultiThreadIoEventLoopGroup group,
    Class<? extends ServerChannel> serverChannel,
    Class<? extends SocketChannel> socketChannel) {

  /** The system property that names the transport. */
  public static final String PROPERTY = "weft.transport";

  /** The transports, by the name {@link #PROPERTY} takes. */
  public static final String IO_URING = "io_uring";

  public static final String EPOLL = "epoll";

  public static final String NIO = "nio";

  /** The transport when {@link #PROPERTY} is unset. */
  public static final String DEFAULT = EPOLL;

  /** Netty's system property for its buffer leak detector's level (and its older spelling). */
  static final String LEAK_DETECTION = "io.netty.leakDetection.level";

  static final String LEAK_DETECTION_OLD = "io.netty.leakDetectionLevel";

  /** Whether a fallback was logged already: once per process, not once per transport created. */
  private static final AtomicBoolean FELL_BACK = new AtomicBoolean();

  /** The logger, looked up on the first message (not at start: issue #10). */
  private static final class Log {
    static final System.Logger LOGGER = System.getLogger(Transport.class.getName());
  }

  /**
   * Starts the event loops ({@code threads} of them; 0 means one per core) of the transport {@code
   * -Dweft.transport} names. Netty's buffer leak detector is switched off unless its level is set
   * explicitly (see {@link #leakDetection}).
   *
   * @throws IllegalArgumentException when {@code -Dweft.transport} names no transport
   */
  public static Transport create(int threads) {
    return create(threads, System.getProperty(PROPERTY));
  }

  /** {@link #create(int)} with the transport asked for ({@code null}: {@link #DEFAULT}). */
  public static Transport create(int threads, String requested) {
    ResourceLeakDetector.Level leaks =
        leakDetection(System.getProperty(LEAK_DETECTION), System.getProperty(LEAK_DETECTION_OLD));
    if (leaks != null) {
      ResourceLeakDetector.setLevel(leaks);
    }
    int n = threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
    DefaultThreadFactory tf = new DefaultThreadFactory("weft-worker", true);
    return switch (available(requested)) {
      case IO_URING -> Uring.create(n, tf);
      case EPOLL ->
          new Transport(
              EPOLL,
              new MultiThreadIoEventLoopGroup(
                  n, tf, new EpollKeepRegistered(EpollIoHandler.newFactory())),
              EpollServerSocketChannel.class,
              EpollSocketChannel.class);
      default ->
          new Transport(
              NIO,
              new MultiThreadIoEventLoopGroup(n, tf, NioIoHandler.newFactory()),
              NioServerSocketChannel.class,
              NioSocketChannel.class);
    };
  }

  /**
   * Loads the native library of the transport {@code -Dweft.transport} names (and, when it cannot
   * load, of the one it falls back to), so a thread of its own can do it ahead of {@link #create}
   * (the proxy's start, issue #10). Returns the transport's name.
   */
  public static String prepare() {
    return available(System.getProperty(PROPERTY));
  }

  /**
   * The transport a proxy runs on when {@code requested} is asked for: that one if it can load
   * here, otherwise the next of io_uring, epoll, NIO that can (the first fallback is logged, with
   * why).
   *
   * @throws IllegalArgumentException when {@code requested} names no transport
   */
  static String available(String requested) {
    String asked = parse(requested);
    if (asked.equals(IO_URING)) {
      if (IoUring.isAvailable()) {
        return IO_URING;
      }
      fellBack(IO_URING, Epoll.isAvailable() ? EPOLL : NIO, IoUring.unavailabilityCause());
    }
    if (!asked.equals(NIO)) {
      if (Epoll.isAvailable()) {
        return EPOLL;
      }
      fellBack(EPOLL, NIO, Epoll.unavailabilityCause());
    }
    return NIO;
  }

  /**
   * The transport {@code value} of {@code -Dweft.transport} names ({@code null} or blank: {@link
   * #DEFAULT}; {@code iouring} and {@code io-uring} are taken for {@code io_uring}).
   *
   * @throws IllegalArgumentException when it names none
   */
  public static String parse(String value) {
    if (value == null || value.isBlank()) {
      return DEFAULT;
    }
    return switch (value.strip().toLowerCase(Locale.ROOT)) {
      case "io_uring", "iouring", "io-uring" -> IO_URING;
      case "epoll" -> EPOLL;
      case "nio" -> NIO;
      default ->
          throw new IllegalArgumentException(
              "-D"
                  + PROPERTY
                  + "="
                  + value
                  + ": not a transport (io_uring, epoll or nio; unset: "
                  + DEFAULT
                  + ")");
    };
  }

  private static void fellBack(String asked, String instead, Throwable cause) {
    if (FELL_BACK.compareAndSet(false, true)) {
      Log.LOGGER.log(
          System.Logger.Level.WARNING,
          "the {0} transport is not available here ({1}); the proxy runs on {2}",
          asked,
          cause == null ? "no reason given" : String.valueOf(cause),
          instead);
    }
  }

  /** io_uring's classes, loaded only when it is asked for. */
  private static final class Uring {
    static Transport create(int n, DefaultThreadFactory tf) {
      IoHandlerFactory f = IoUringIoHandler.newFactory();
      return new Transport(
          IO_URING,
          new MultiThreadIoEventLoopGroup(n, tf, f),
          IoUringServerSocketChannel.class,
          IoUringSocketChannel.class);
    }
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
