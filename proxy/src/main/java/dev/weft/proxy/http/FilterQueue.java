package dev.weft.proxy.http;

import io.netty.handler.codec.http.HttpContent;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;

/**
 * One direction (decode or encode) of a stream while a filter has stopped it: the index of the
 * filter that stopped, the headers or chunk it stopped on, and the chunks that arrived since (no
 * filter has seen those yet). Created only when a filter stops, so a chain that never stops
 * allocates none.
 *
 * <p>Owns every buffer it holds until {@link #resume()} or {@link #poll()} hands it back, or {@link
 * #release()} frees it.
 */
final class FilterQueue {
  /** Held bytes beyond which the stream stops reading the side that feeds this queue. */
  static final int LIMIT = 64 * 1024;

  private int stoppedAt = -1;
  private Object held;
  private ArrayDeque<HttpContent> queued;
  private long bytes;

  /** Whether a filter has stopped this direction. */
  boolean stopped() {
    return stoppedAt >= 0;
  }

  /** The index of the filter that stopped. */
  int stoppedAt() {
    return stoppedAt;
  }

  /**
   * Filter {@code index} stopped on {@code held} (a chunk, or the response head; null for the
   * request head, which the stream keeps).
   */
  void stop(int index, Object held) {
    this.stoppedAt = index;
    this.held = held;
    if (held instanceof HttpContent c) {
      bytes += c.content().readableBytes();
    }
  }

  /** Un-stops; returns what the filter stopped on (ownership moves to the caller). */
  Object resume() {
    Object h = held;
    held = null;
    stoppedAt = -1;
    if (h instanceof HttpContent c) {
      bytes -= c.content().readableBytes();
    }
    return h;
  }

  /** Queues a chunk that arrived while stopped; returns whether the queue is now over its limit. */
  boolean enqueue(HttpContent c) {
    if (queued == null) {
      queued = new ArrayDeque<>(4);
    }
    queued.add(c);
    bytes += c.content().readableBytes();
    return full();
  }

  /** The oldest queued chunk (ownership moves to the caller), or null. */
  HttpContent poll() {
    HttpContent c = queued == null ? null : queued.poll();
    if (c != null) {
      bytes -= c.content().readableBytes();
    }
    return c;
  }

  boolean isEmpty() {
    return queued == null || queued.isEmpty();
  }

  /** Whether more than {@link #LIMIT} bytes are held. */
  boolean full() {
    return bytes > LIMIT;
  }

  /** Frees everything held (the stream ended). */
  void release() {
    if (held != null) {
      ReferenceCountUtil.release(held);
      held = null;
    }
    stoppedAt = -1;
    HttpContent c;
    while ((c = poll()) != null) {
      ReferenceCountUtil.release(c);
    }
    bytes = 0;
  }
}
