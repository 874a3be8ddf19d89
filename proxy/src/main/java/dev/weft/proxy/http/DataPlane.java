package dev.weft.proxy.http;

import dev.weft.proxy.accesslog.AccessLogger;
import dev.weft.proxy.config.RuntimeConfig;
import dev.weft.proxy.net.Transport;
import dev.weft.proxy.stats.ProxyStats;
import dev.weft.proxy.upstream.ConnectionPool;
import io.netty.channel.EventLoop;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.FastThreadLocal;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.IntUnaryOperator;

/**
 * What every connection of the data plane shares: the current {@link RuntimeConfig} (a volatile
 * reference that the xDS client swaps), counters, the access log, the transport, and the
 * per-event-loop connection pools.
 */
public final class DataPlane {
  private volatile RuntimeConfig config = RuntimeConfig.EMPTY;
  private final ProxyStats stats;
  private final AccessLogger accessLog;
  private final Transport transport;
  private final IntUnaryOperator random;
  private final FastThreadLocal<ConnectionPool> pools;
  private final ChannelGroup http2Connections =
      new DefaultChannelGroup("downstream-h2", GlobalEventExecutor.INSTANCE);
  private volatile dev.weft.proxy.tracing.Tracer tracer = dev.weft.proxy.tracing.Tracer.NONE;

  /**
   * @param random draws a number in {@code [0, bound)} for weighted clusters; null means {@link
   *     ThreadLocalRandom}
   */
  public DataPlane(
      ProxyStats stats, AccessLogger accessLog, Transport transport, IntUnaryOperator random) {
    this.stats = stats;
    this.accessLog = accessLog;
    this.transport = transport;
    this.random = random != null ? random : bound -> ThreadLocalRandom.current().nextInt(bound);
    this.pools =
        new FastThreadLocal<>() {
          @Override
          protected ConnectionPool initialValue() {
            return null;
          }
        };
  }

  public RuntimeConfig config() {
    return config;
  }

  /** Publishes a new configuration; requests that start afterwards use it. */
  public void publish(RuntimeConfig newConfig) {
    this.config = newConfig;
  }

  public ProxyStats stats() {
    return stats;
  }

  public AccessLogger accessLog() {
    return accessLog;
  }

  private volatile boolean defaultAccessLog = true;

  /**
   * Whether requests of connection managers without {@code access_log} are logged to {@link
   * #accessLog()} in Istio's text format (Weft's embedded default), or not at all (Envoy's).
   */
  public boolean defaultAccessLog() {
    return defaultAccessLog;
  }

  public void defaultAccessLog(boolean on) {
    this.defaultAccessLog = on;
  }

  /** The proxy's tracer (spans of connection managers with {@code tracing}). */
  public dev.weft.proxy.tracing.Tracer tracer() {
    return tracer;
  }

  /** Sets the tracer; call before traffic flows. */
  public void tracer(dev.weft.proxy.tracing.Tracer tracer) {
    this.tracer = java.util.Objects.requireNonNull(tracer, "tracer");
  }

  public Transport transport() {
    return transport;
  }

  /** Draws a number in {@code [0, bound)} for weighted clusters (shared, no per-request lambda). */
  public IntUnaryOperator random() {
    return random;
  }

  /** The connection pool of {@code loop}; call only from that loop. */
  public ConnectionPool pool(EventLoop loop) {
    ConnectionPool p = pools.get();
    if (p == null) {
      p = new ConnectionPool(loop, transport.socketChannel());
      pools.set(p);
    }
    return p;
  }

  /** Registers a downstream HTTP/2 connection, to be sent GOAWAY by {@link #goAway}. */
  void http2Connection(io.netty.channel.Channel ch) {
    http2Connections.add(ch); // leaves the group when it closes
  }

  /**
   * Drains the downstream HTTP/2 connections (Envoy's drain on shutdown): each gets GOAWAY
   * (NO_ERROR, RFC 9113 6.8), its streams in flight may finish for a moment, then it closes. Waits
   * at most {@code maxWaitMillis}.
   */
  public void goAway(long maxWaitMillis) {
    http2Connections.close().awaitUninterruptibly(maxWaitMillis);
  }
}
