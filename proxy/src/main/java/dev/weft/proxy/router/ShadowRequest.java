package dev.weft.proxy.router;

import dev.weft.proxy.config.ClusterConfig;
import dev.weft.proxy.config.Endpoint;
import dev.weft.proxy.config.RouteMirror;
import dev.weft.proxy.upstream.ConnectionPool;
import dev.weft.proxy.upstream.LoadBalancer;
import dev.weft.proxy.upstream.UpstreamStream;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;

/**
 * One mirrored copy of a request (Envoy's shadow request, route {@code request_mirror_policies}):
 * fire and forget. The copy has the upstream request's head with {@code -shadow} appended to the
 * Host's name ({@code podinfo:80} → {@code podinfo-shadow:80}, Envoy's {@code shadowAppendedHost});
 * its body is the original's chunks as they stream through the router (shared, not copied: each
 * chunk is a retained duplicate). Its response is read and discarded. Nothing it does reaches the
 * original request: no backpressure, no error, no delay.
 *
 * <p>Bounded: while connecting it holds at most {@link #MAX_BUFFERED} bytes of body, and once
 * connected it gives up as soon as its connection stops being writable (the mirror upstream reads
 * slower than the original arrives); giving up closes its connection and releases what it holds. It
 * also gives up when the original ends before its request body did (a partial copy would hang the
 * mirror upstream), and after the route's timeout, or {@link #DEFAULT_TIMEOUT_MILLIS} when the
 * route has none (Weft's bound: Envoy's shadow has no limit then), so a hanging mirror upstream
 * holds one connection for a bounded time.
 *
 * <p>Buffers: owns the duplicates it holds while connecting; chunks written to its connection are
 * released by it. Lives on the original's event loop; outlives the original stream.
 */
final class ShadowRequest implements UpstreamStream {
  /** Body bytes a copy may hold while its connection is being made. */
  static final int MAX_BUFFERED = 64 * 1024;

  /** How long a copy may take when the route has no timeout. */
  static final long DEFAULT_TIMEOUT_MILLIS = 30_000;

  private final ConnectionPool pool;
  private final EventLoop loop;
  private final long timeoutMillis;
  private HttpRequest head;
  private ArrayDeque<HttpContent> pending;
  private int pendingBytes;
  private Channel ch;
  private boolean requestComplete;
  private boolean informational;
  private boolean keepAlive;
  private boolean done;
  private ScheduledFuture<?> timer;

  private ShadowRequest(ConnectionPool pool, EventLoop loop, HttpRequest head, long timeoutMillis) {
    this.pool = pool;
    this.loop = loop;
    this.head = head;
    this.timeoutMillis = timeoutMillis;
  }

  /**
   * Starts a copy of {@code upstreamHead} (the request as the router sends it) to the mirror's
   * cluster; null when the cluster is unknown or has no healthy host (then nothing is mirrored, as
   * in Envoy).
   */
  static ShadowRequest start(
      RouteMirror mirror,
      HttpRequest upstreamHead,
      java.util.Map<String, ClusterConfig> clusters,
      ConnectionPool pool,
      EventLoop loop,
      long routeTimeoutMillis) {
    ClusterConfig cluster = clusters.get(mirror.cluster());
    if (cluster == null) {
      return null;
    }
    Endpoint endpoint = LoadBalancer.pick(cluster);
    if (endpoint == null) {
      return null;
    }
    HttpRequest copy =
        new DefaultHttpRequest(
            HttpVersion.HTTP_1_1,
            upstreamHead.method(),
            upstreamHead.uri(),
            upstreamHead.headers().copy());
    String host = copy.headers().get(HttpHeaderNames.HOST);
    if (mirror.appendShadowSuffix() && host != null && !host.isEmpty()) {
      copy.headers().set(HttpHeaderNames.HOST, shadowHost(host));
    }
    ShadowRequest s =
        new ShadowRequest(
            pool, loop, copy, routeTimeoutMillis > 0 ? routeTimeoutMillis : DEFAULT_TIMEOUT_MILLIS);
    s.timer = loop.schedule(s::abandon, s.timeoutMillis, TimeUnit.MILLISECONDS);
    pool.acquire(cluster, endpoint, s);
    return s;
  }

  /** Envoy's {@code shadowAppendedHost}: {@code -shadow} after the host name, before any port. */
  static String shadowHost(String host) {
    int colon = host.lastIndexOf(':');
    int bracket = host.lastIndexOf(']');
    if (colon < 0 || colon < bracket) {
      return host + "-shadow";
    }
    return host.substring(0, colon) + "-shadow" + host.substring(colon);
  }

  /** A chunk of the original's body, still owned by the caller (the copy takes a duplicate). */
  void onData(HttpContent c) {
    if (done) {
      return;
    }
    HttpContent dup = c.retainedDuplicate();
    if (c instanceof LastHttpContent) {
      requestComplete = true;
    }
    if (ch == null) {
      if (pending == null) {
        pending = new ArrayDeque<>(4);
      }
      pending.add(dup);
      pendingBytes += dup.content().readableBytes();
      if (pendingBytes > MAX_BUFFERED) {
        abandon();
      }
      return;
    }
    ch.writeAndFlush(dup, ch.voidPromise());
    if (!ch.isWritable()) {
      abandon(); // the mirror reads slower than the original arrives: drop the copy
    }
  }

  /** The original stream ended: a copy whose body is incomplete cannot be finished. */
  void onOriginalEnded() {
    if (!requestComplete) {
      abandon();
    }
  }

  @Override
  public void onUpstreamReady(Channel upstream, boolean reused) {
    if (done) {
      pool.release(upstream); // nothing was sent on it
      return;
    }
    ch = upstream;
    ch.write(head, ch.voidPromise());
    head = null;
    if (pending != null) {
      HttpContent c;
      while ((c = pending.poll()) != null) {
        ch.write(c, ch.voidPromise());
      }
      pendingBytes = 0;
    }
    ch.flush();
  }

  @Override
  public void onUpstreamConnectFailed(Throwable cause) {
    finish();
  }

  @Override
  public void onUpstreamResponse(HttpObject msg) {
    try {
      if (done) {
        return;
      }
      if (msg instanceof HttpResponse r) {
        int status = r.status().code();
        informational = status >= 100 && status < 200;
        if (!informational) {
          keepAlive = HttpUtil.isKeepAlive(r);
        }
      }
      if (msg instanceof LastHttpContent) {
        if (informational) {
          informational = false;
          return;
        }
        Channel c = ch;
        ch = null;
        if (keepAlive && requestComplete) {
          pool.release(c);
        } else {
          pool.discard(c);
        }
        finish();
      }
    } finally {
      ReferenceCountUtil.release(msg);
    }
  }

  @Override
  public void onUpstreamReadComplete() {}

  @Override
  public void onUpstreamClosed(String reason) {
    ch = null;
    finish();
  }

  @Override
  public void onUpstreamWritabilityChanged(boolean writable) {}

  /** Gives up: closes the connection and releases what the copy holds. */
  void abandon() {
    Channel c = ch;
    ch = null;
    if (c != null) {
      pool.discard(c);
    }
    finish();
  }

  private void finish() {
    done = true;
    if (timer != null) {
      timer.cancel(false);
      timer = null;
    }
    if (pending != null) {
      HttpContent c;
      while ((c = pending.poll()) != null) {
        ReferenceCountUtil.release(c);
      }
      pendingBytes = 0;
    }
    head = null;
  }

  /** Whether the copy is over (answered, failed or abandoned). */
  boolean done() {
    return done;
  }
}
