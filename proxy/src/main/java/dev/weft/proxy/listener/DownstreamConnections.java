package dev.weft.proxy.listener;

import dev.weft.proxy.stats.ListenerStats;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.lang.management.ManagementFactory;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The proxy-wide count of downstream connections and its limit: Envoy's overload manager with the
 * {@code envoy.resource_monitors.global_downstream_max_connections} monitor, whose action rejects
 * incoming connections. A connection accepted at the limit is closed at once, before it is
 * registered with an event loop or read, and counted as {@code
 * listener.<name>.downstream_global_cx_overflow}; so the proxy sheds new connections before it runs
 * out of file descriptors, and a flood of idle connections cannot take the descriptors that
 * upstream connections, the admin and the xDS stream need.
 *
 * <p>Shared by every listener; thread-safe (accepts run on the listeners' event loops).
 */
public final class DownstreamConnections {
  /** Descriptors kept for everything that is not a downstream connection (jars, logs, admin). */
  private static final long RESERVED_DESCRIPTORS = 512;

  private final long max;
  private final AtomicLong active = new AtomicLong();
  private final ChannelFutureListener release = f -> active.decrementAndGet();

  /**
   * @param max at most this many downstream connections at once (at least 1)
   */
  public DownstreamConnections(long max) {
    if (max < 1) {
      throw new IllegalArgumentException("max downstream connections must be at least 1: " + max);
    }
    this.max = max;
  }

  /**
   * The default limit: half of the descriptors left after a reserve, since a downstream connection
   * may need an upstream one ({@code (RLIMIT_NOFILE - 512) / 2}, at least 64; 20,000 descriptors
   * give 9,744 connections); unlimited where the descriptor limit is unknown.
   */
  public static long defaultMax() {
    if (ManagementFactory.getOperatingSystemMXBean()
        instanceof com.sun.management.UnixOperatingSystemMXBean unix) {
      long fds = unix.getMaxFileDescriptorCount();
      if (fds > 0) {
        return Math.max(64, (fds - RESERVED_DESCRIPTORS) / 2);
      }
    }
    return Long.MAX_VALUE;
  }

  public long max() {
    return max;
  }

  public long active() {
    return active.get();
  }

  /** The handler of a listening socket that admits or refuses each accepted connection. */
  ChannelHandler acceptor(ListenerStats stats) {
    return new Acceptor(stats);
  }

  private final class Acceptor extends ChannelInboundHandlerAdapter {
    private final ListenerStats stats;

    Acceptor(ListenerStats stats) {
      this.stats = stats;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (msg instanceof Channel child) {
        if (active.incrementAndGet() > max) {
          active.decrementAndGet();
          stats.globalConnectionOverflow();
          child.unsafe().closeForcibly();
          return;
        }
        child.closeFuture().addListener(release);
      }
      ctx.fireChannelRead(msg);
    }
  }
}
