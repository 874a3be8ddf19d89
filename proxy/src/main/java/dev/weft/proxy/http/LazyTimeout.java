package dev.weft.proxy.http;

import dev.weft.proxy.net.EventTime;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * A timeout of a downstream connection that is started, restarted and stopped once or more per
 * request without scheduling a task each time: starting records the time and schedules a task only
 * when none is pending; a pending task that fires early for the latest start schedules itself again
 * for the rest. So a busy keep-alive connection schedules about one task per timeout period, not
 * one per request (Envoy resets its timers per event; the observable deadline is the same).
 *
 * <p>Lives on the connection's event loop; not thread-safe.
 */
final class LazyTimeout implements Runnable {
  private final EventLoop loop;
  private final long timeoutNanos;
  private final Runnable onTimeout;
  private boolean running;
  private long startedAt;
  private ScheduledFuture<?> pending;

  /**
   * @param timeoutMillis the timeout; 0 means never (every method does nothing)
   * @param onTimeout runs on the event loop when the timeout expires while running
   */
  LazyTimeout(EventLoop loop, long timeoutMillis, Runnable onTimeout) {
    this.loop = loop;
    this.timeoutNanos = TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
    this.onTimeout = onTimeout;
  }

  /** Starts (or restarts) the timeout from now. */
  void start() {
    if (timeoutNanos <= 0) {
      return;
    }
    running = true;
    startedAt = EventTime.now();
    if (pending == null) {
      pending = loop.schedule(this, timeoutNanos, TimeUnit.NANOSECONDS);
    }
  }

  /** Restarts a running timeout from now (activity); does nothing when it is stopped. */
  void touch() {
    if (running) {
      startedAt = EventTime.now();
    }
  }

  /** Stops it; a pending task, if any, finds it stopped and ends. */
  void stop() {
    running = false;
  }

  boolean running() {
    return running;
  }

  /** Stops it and cancels the pending task (the connection closed). */
  void cancel() {
    running = false;
    if (pending != null) {
      pending.cancel(false);
      pending = null;
    }
  }

  @Override
  public void run() {
    pending = null;
    if (!running) {
      return;
    }
    long left = startedAt + timeoutNanos - System.nanoTime();
    if (left > 0) {
      pending = loop.schedule(this, left, TimeUnit.NANOSECONDS);
      return;
    }
    running = false;
    onTimeout.run();
  }
}
