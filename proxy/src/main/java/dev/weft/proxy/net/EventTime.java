package dev.weft.proxy.net;

import io.netty.util.concurrent.FastThreadLocal;

/**
 * The monotonic time of the read an event loop is handling, read from the clock once per read:
 * Envoy's {@code Dispatcher::approximateMonotonicTime()}, which its event loop updates once per
 * iteration instead of each timer and stream asking the clock. One request costs a sidecar a dozen
 * time stamps (its stream's start, the request headers and idle timeouts started and touched, the
 * pool's idle check and idle mark, the upstream service time, the stream's duration), all within
 * two reads: a downstream one (the request) and an upstream one (the response).
 *
 * <p>The handlers that take a connection's reads ({@code http.DownstreamReads} in front of the
 * downstream HTTP/1 codec, {@code upstream.UpstreamHandler} behind the upstream codec) {@link
 * #enter} before passing a read on and {@link #exit} after it; {@link #nanoTime} is then the time
 * of the outermost read in progress on this thread, and outside any read (timer tasks, connects,
 * HTTP/2 downstream streams, tests) it is {@link System#nanoTime()} itself. So a time stamp is at
 * most the handling of one read old (microseconds), and never stale across events.
 *
 * <p>One per thread (a {@link FastThreadLocal}: an event loop's is an array slot); not shared.
 */
public final class EventTime {
  private static final FastThreadLocal<EventTime> CURRENT =
      new FastThreadLocal<>() {
        @Override
        protected EventTime initialValue() {
          return new EventTime();
        }
      };

  private long nanos;
  private int depth;

  EventTime() {}

  /** This thread's. */
  public static EventTime current() {
    return CURRENT.get();
  }

  /** This thread's {@link #nanoTime()}: the current read's time, or the clock's. */
  public static long now() {
    return CURRENT.get().nanoTime();
  }

  /** A read starts (nested reads keep the outermost one's time). */
  public void enter() {
    if (depth++ == 0) {
      nanos = System.nanoTime();
    }
  }

  /** The read that {@link #enter} started ended. */
  public void exit() {
    depth--;
  }

  /** As {@link System#nanoTime()}: the time the read in progress started, else now. */
  public long nanoTime() {
    return depth > 0 ? nanos : System.nanoTime();
  }
}
