package dev.weft.proxy.http.filter;

import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;

/**
 * Envoy's stream filter: one instance per request, created by its {@link HttpFilterFactory}, called
 * on the downstream connection's event loop only. Requests flow through the chain in order
 * (decode), responses in reverse order (encode); the last filter of a chain is the terminal one
 * (the router), which produces the response through {@link HttpFilterCallbacks#encodeHeaders} and
 * {@link HttpFilterCallbacks#encodeData}.
 *
 * <p>Buffers: a filter may read or replace headers in place. A chunk passed to {@code decodeData}
 * or {@code encodeData} stays owned by the connection manager while the filter returns {@link
 * FilterStatus#CONTINUE} (it goes to the next filter) or {@link FilterStatus#STOP} (the manager
 * holds it); only the terminal filter takes ownership of the chunks it is given. Every method has a
 * do-nothing default so that a filter implements only the directions it cares about.
 */
public interface HttpFilter {
  /** The request head; {@link HttpRequest#headers()} may be changed in place. */
  default FilterStatus decodeHeaders(HttpRequest request) {
    return FilterStatus.CONTINUE;
  }

  /**
   * A request body chunk; the last one is a {@link io.netty.handler.codec.http.LastHttpContent}.
   */
  default FilterStatus decodeData(HttpContent chunk) {
    return FilterStatus.CONTINUE;
  }

  /** The response head (from the upstream, never a local reply); may be changed in place. */
  default FilterStatus encodeHeaders(HttpResponse response) {
    return FilterStatus.CONTINUE;
  }

  /**
   * A response body chunk; the last one is a {@link io.netty.handler.codec.http.LastHttpContent}.
   */
  default FilterStatus encodeData(HttpContent chunk) {
    return FilterStatus.CONTINUE;
  }

  /** The end of a downstream read burst (the router flushes its upstream writes). */
  default void onDownstreamReadComplete() {}

  /** The downstream connection's writability changed (backpressure towards upstream). */
  default void onDownstreamWritabilityChanged(boolean writable) {}

  /**
   * The stream is over (response complete, local reply, reset or downstream closed): cancel timers
   * and release whatever the filter still holds. Called once.
   */
  default void onDestroy() {}
}
