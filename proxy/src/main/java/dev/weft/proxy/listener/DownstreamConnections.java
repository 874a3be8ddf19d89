package dev.weft.proxy.listener;

import dev.weft.proxy.net.ConnectionEvents;
import dev.weft.proxy.stats.ListenerStats;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.lang.management.ManagementFactory;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
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
 * <p>At the limit it also sheds idle connections, Weft's form of Envoy's {@code
 * envoy.overload_actions.reduce_timeouts} for {@code HTTP_DOWNSTREAM_CONNECTION_IDLE} at full
 * pressure: every connection without a request in progress is closed (counted as {@code
 * http.<name>.downstream_cx_idle_timeout}), at most once per {@link #SHED_INTERVAL_NANOS}, so a
 * flood of idle connections cannot keep new clients out for the whole idle timeout. Requests in
 * progress, and request heads still arriving (the request headers timeout covers those), are left
 * alone.
 *
 * <p>Shared by every listener; thread-safe (accepts run on the listeners' event loops).
 */
public final class DownstreamConnections {
  /** Descriptors kept for everything that is not a downstream connection (jars, logs, admin). */
  private static final long RESERVED_DESCRIPTORS = 512;

  /** Idle connections are shed at most this often (a flood must not cost a scan per accept). */
  static final long SHED_INTERVAL_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

  private final long max;
  private final AtomicLong active = new AtomicLong();
  private final Set<Channel> channels = ConcurrentHashMap.newKeySet();
  private final AtomicLong lastShed = new AtomicLong(System.nanoTime() - SHED_INTERVAL_NANOS);
  private final ChannelFutureListener release =
      f -> {
        active.decrementAndGet();
        channels.remove(f.channel());
      };

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

  /**
   * Sends {@link ConnectionEvents#DRAIN} to every open connection accepted by one of {@code
   * listeners} (listening sockets) and returns those connections.
   */
  java.util.List<Channel> drain(Set<Channel> listeners) {
    java.util.List<Channel> draining = new java.util.ArrayList<>();
    for (Channel ch : channels) {
      if (listeners.contains(ch.parent())) {
        draining.add(ch);
        ch.pipeline().fireUserEventTriggered(ConnectionEvents.DRAIN);
      }
    }
    return draining;
  }

  /** Asks every downstream connection to close if it is idle (each decides on its own loop). */
  private void shedIdle() {
    long now = System.nanoTime();
    long last = lastShed.get();
    if (now - last < SHED_INTERVAL_NANOS || !lastShed.compareAndSet(last, now)) {
      return;
    }
    for (Channel ch : channels) {
      ch.pipeline().fireUserEventTriggered(ConnectionEvents.SHED_IDLE);
    }
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
          shedIdle();
          return;
        }
        channels.add(child);
        child.closeFuture().addListener(release);
      }
      ctx.fireChannelRead(msg);
    }
  }
}
