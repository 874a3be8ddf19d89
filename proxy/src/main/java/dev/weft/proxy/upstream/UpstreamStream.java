package dev.weft.proxy.upstream;

import io.netty.channel.Channel;
import io.netty.handler.codec.http.HttpObject;

/**
 * The side of a downstream request that an upstream connection talks to. All calls happen on the
 * event loop that owns both connections.
 */
public interface UpstreamStream {
  /**
   * The connection is ready for the request.
   *
   * @param reused whether it is a pooled connection that carried requests before (which the
   *     upstream may be closing)
   */
  void onUpstreamReady(Channel upstream, boolean reused);

  /** Connecting failed (refused, unreachable, timed out). */
  void onUpstreamConnectFailed(Throwable cause);

  /**
   * The cluster's circuit breakers refused the request: no connection slot and no room among the
   * pending requests (Envoy's pool overflow: 503 {@code UO}).
   */
  default void onUpstreamOverflow() {
    onUpstreamConnectFailed(new IllegalStateException("overflow"));
  }

  /** A response object (head, content or last content); ownership passes to the stream. */
  void onUpstreamResponse(HttpObject msg);

  /** The end of a read burst: time to flush towards downstream. */
  void onUpstreamReadComplete();

  /** The upstream connection closed or failed while this stream used it. */
  void onUpstreamClosed(String reason);

  /** The upstream connection's writability changed (backpressure towards downstream). */
  void onUpstreamWritabilityChanged(boolean writable);
}
